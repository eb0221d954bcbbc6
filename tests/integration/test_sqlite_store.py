"""The SQLite store's file: a new one is made with large pages, an older one keeps its own."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from shared.db.migrate import upgrade
from shared.db.models import Institution
from shared.db.session import (
    SQLITE_CHECKPOINT_BYTES,
    SQLITE_PAGE_BYTES,
    make_engine,
    make_session_factory,
)

pytestmark = pytest.mark.integration


def _pragmas(url: str) -> tuple[int, str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return (connection.execute(text("PRAGMA page_size")).scalar_one(),
                    connection.execute(text("PRAGMA journal_mode")).scalar_one(),
                    connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())
    finally:
        engine.dispose()


def test_a_new_store_has_large_pages_and_checkpoints_by_bytes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'edcs.db'}"
    upgrade(url)
    page, journal, checkpoint = _pragmas(url)
    assert page == SQLITE_PAGE_BYTES == 16384
    assert journal == "wal"
    assert checkpoint * page == SQLITE_CHECKPOINT_BYTES


def test_a_store_made_with_small_pages_keeps_them_and_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    # as an earlier edcs (SQLite's default pages) made it; closed before edcs opens it
    with contextlib.closing(sqlite3.connect(path)) as old, old:
        old.execute("PRAGMA page_size=4096")
        old.execute("PRAGMA journal_mode=WAL")
        old.execute("CREATE TABLE kept (value TEXT)")
        old.execute("INSERT INTO kept VALUES ('still here')")
    url = f"sqlite:///{path}"
    upgrade(url)
    page, journal, checkpoint = _pragmas(url)
    assert (page, journal) == (4096, "wal")
    assert checkpoint * page == SQLITE_CHECKPOINT_BYTES  # the same WAL size in its pages
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(Institution(id="1964733", name="Demo USD",
                                contact_email="coordinator@demo-usd.example"))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Institution)) == 1
        assert session.execute(text("SELECT value FROM kept")).scalar_one() == "still here"
    engine.dispose()


def test_only_a_reader_maps_the_store_and_both_see_the_same_records(tmp_path: Path) -> None:
    """The web app maps the file (exports read it faster); a worker does not, so its memory
    does not grow with the store. A record written through one is read through the other."""
    url = f"sqlite:///{tmp_path / 'edcs.db'}"
    upgrade(url)
    writer, reader = make_engine(url), make_engine(url, reader=True)
    try:
        with make_session_factory(writer).begin() as session:
            session.add(Institution(id="1964733", name="Demo USD",
                                    contact_email="coordinator@demo-usd.example"))
        with reader.connect() as connection:
            assert connection.execute(text("PRAGMA mmap_size")).scalar_one() > 2**30
            assert connection.execute(select(Institution.name)).scalar_one() == "Demo USD"
        with writer.connect() as connection:
            assert connection.execute(text("PRAGMA mmap_size")).scalar_one() == 0
    finally:
        writer.dispose()
        reader.dispose()
