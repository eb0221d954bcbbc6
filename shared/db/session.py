"""Engine and session factory from settings: SQLite (default) or PostgreSQL, same code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_CACHE_KIB = 65536
SQLITE_CHECKPOINT_PAGES = 10000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Several worker processes share one SQLite file: WAL lets readers run beside one writer,
    # busy_timeout makes a writer wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A statewide file stages hundreds of thousands of rows into indexed tables: with SQLite's
    # defaults (2 MB page cache, a checkpoint every 1,000 WAL pages) most of that time was
    # re-reading index pages and checkpointing (200,000 staged rows: 14 s -> 4-6.6 s wall,
    # 5.0 -> 2.8-3.4 s CPU; docs/decisions.md "Throughput"). Both are bounds, not growth: the
    # cache is at most 64 MiB per connection, the WAL about 40 MB before it is checkpointed.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the store at ``url``; creates the SQLite file's folder if needed."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
