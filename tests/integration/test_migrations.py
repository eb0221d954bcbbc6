"""The Alembic migrations build exactly the schema the models describe, on both stores."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from shared.db.models import Base

pytestmark = pytest.mark.integration


def test_the_migrated_store_matches_the_models(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        connection = session.connection()
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
