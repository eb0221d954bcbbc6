"""staged records carry marks computed when they are staged (SSID to match, effect causes)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: staged by an earlier version; the barrier then reads the record's fields instead.
    with op.batch_alter_table("staged_records") as batch:
        batch.add_column(sa.Column("marks", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staged_records") as batch:
        batch.drop_column("marks")
