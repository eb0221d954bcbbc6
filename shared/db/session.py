"""Engine and session factory from settings: SQLite (default) or PostgreSQL, same code."""

from __future__ import annotations

import functools
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
# How much of the store file a reader maps into memory (SQLite caps it at its build's maximum,
# 2 GiB here): a Production Download reads records in key order, each from wherever it lies
# in the table, and without a map every record is a read() that copies a 16 KiB page out of the
# OS's cache. `edcs export` of 1,000,000 records: the store's queries 4.2 -> 2.5 s (docs/
# decisions.md "The web app maps the store"). Only the web app maps: a mapped page counts in
# a process's resident memory, and the workers' memory is to stay flat as the store grows.
SQLITE_READER_MMAP_BYTES = 2**31


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, mmap_bytes: int = 0) -> None:
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
    cursor.execute(f"PRAGMA mmap_size={mmap_bytes}")
    cursor.close()


def make_engine(url: str, *, reader: bool = False) -> Engine:
    """An engine for the store at ``url``; creates the SQLite file's folder if needed. A
    ``reader`` (the web app) maps a SQLite store's file into memory."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", functools.partial(
            _sqlite_pragmas, mmap_bytes=SQLITE_READER_MMAP_BYTES if reader else 0))
        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
