"""The PostgreSQL fixtures (tests/fixtures/postgres.py) give working, separate databases."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

pytestmark = pytest.mark.integration


def _engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True)


@pytest.fixture
def engine(postgres_database_url: str) -> Iterator[Engine]:
    eng = _engine(postgres_database_url)
    try:
        yield eng
    finally:
        eng.dispose()


def test_postgres_url_points_at_edcs_test(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    eng = _engine(postgres_url)
    try:
        with eng.connect() as conn:
            database = conn.execute(text("SELECT current_database()")).scalar_one()
            assert database == make_url(postgres_url).database
            if not os.environ.get("EDCS_TEST_POSTGRES_URL"):  # else: the database it names
                assert database == "edcs_test"
            assert conn.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
    finally:
        eng.dispose()


def test_create_insert_read_back(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE district (id integer PRIMARY KEY, name text NOT NULL)"))
        conn.execute(
            text("INSERT INTO district (id, name) VALUES (:id, :name)"),
            [{"id": 1, "name": "Adams"}, {"id": 2, "name": "Ñandú Unified"}],
        )
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, name FROM district ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [(1, "Adams"), (2, "Ñandú Unified")]


_seen_databases: list[str] = []


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_gets_its_own_fresh_database(run: str, engine: Engine, postgres_url: str) -> None:
    """Both runs create the same table: that only works if each has a database of its own."""
    with engine.begin() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        assert conn.execute(text("SELECT to_regclass('marker') IS NULL")).scalar_one()
        conn.execute(text("CREATE TABLE marker (run text)"))
        conn.execute(text("INSERT INTO marker VALUES (:run)"), {"run": run})
    assert name != "edcs_test"

    session_engine = _engine(postgres_url)
    try:
        with session_engine.connect() as conn:
            # The table is not in the session database ...
            assert conn.execute(text("SELECT to_regclass('marker') IS NULL")).scalar_one()
            # ... and the earlier test's database was dropped after it.
            existing = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    finally:
        session_engine.dispose()
    assert name in existing
    assert not existing & set(_seen_databases)
    _seen_databases.append(name)
    if run == "second":
        assert len(set(_seen_databases)) == 2
