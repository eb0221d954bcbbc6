"""Engine and session factory from settings: SQLite (default) or PostgreSQL, same code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_CACHE_KIB = 65536
SQLITE_CHECKPOINT_BYTES = 40 * 1024 * 1024  # WAL written before it is checkpointed
# Pages of a new store file (an existing file keeps the size it was made with). Against 4 KiB,
# SQLite's default: posting 500,000 records (`python bench/barrier.py 1 500000`, six runs of
# each in turn) barrier 6.03 -> 5.27 s on average; end to end (`python bench/e2e.py 500000`,
# three of each in turn) barrier 6.9 / 6.5 / 4.5 -> 4.3 / 4.5 / 3.7 s, ratio 2.61 / 1.93 /
# 1.88 -> 1.74 / 1.97 / 1.65; 1,000-record files and `edcs export` of 1,000,000 unchanged
# (docs/decisions.md "16 KiB pages for a new SQLite store").
SQLITE_PAGE_BYTES = 16384


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Several worker processes share one SQLite file: WAL lets readers run beside one writer,
    # busy_timeout makes a writer wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")  # before WAL: new files only
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A statewide file stages hundreds of thousands of rows into indexed tables: with SQLite's
    # defaults (2 MB page cache, a checkpoint every 1,000 WAL pages) most of that time was
    # re-reading index pages and checkpointing (200,000 staged rows: 14 s -> 4-6.6 s wall,
    # 5.0 -> 2.8-3.4 s CPU; docs/decisions.md "Throughput"). Both are bounds, not growth: the
    # cache is at most 64 MiB per connection, the WAL about 40 MB before it is checkpointed
    # (in pages of the file's own size).
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    page = cursor.execute("PRAGMA page_size").fetchone()[0]
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_BYTES // page}")
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
