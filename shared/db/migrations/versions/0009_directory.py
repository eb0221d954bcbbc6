"""the CDS directory: LEA and school codes and the LEA each school reports to (reference data)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_entries",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("starts", sa.Date(), nullable=True),
        sa.Column("ends", sa.Date(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "code", name=op.f("pk_directory_entries")),
    )
    op.create_index("ix_directory_entries_parent", "directory_entries", ["parent", "kind"])


def downgrade() -> None:
    op.drop_index("ix_directory_entries_parent", table_name="directory_entries")
    op.drop_table("directory_entries")
