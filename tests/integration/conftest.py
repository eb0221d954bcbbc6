"""Fixtures of the integration tests: a migrated store, SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.db.migrate import upgrade
from shared.db.models import Institution
from shared.db.session import make_engine, make_session_factory

LEA = "1964733"


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = (f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_database_url"))
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        session.add(Institution(id=LEA, name="Demo", contact_email="c@example.org"))
        session.add(Institution(id="2180", name="Demo OR", contact_email="o@example.org"))
    yield factory
    engine.dispose()
