"""Alembic environment: the URL comes from the caller (shared.db.migrate), never from a file."""

from __future__ import annotations

from alembic import context

from shared.db.models import Base
from shared.db.session import make_engine

config = context.config
engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
