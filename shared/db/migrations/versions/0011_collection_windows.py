"""collection windows loaded by the state operator (edcs reference load), over the configured file

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_windows",
        sa.Column("collection", sa.String(length=20), nullable=False),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("opens", sa.Date(), nullable=False),
        sa.Column("closes", sa.Date(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("collection", "academic_year", "name",
                                name=op.f("pk_collection_windows")),
    )


def downgrade() -> None:
    op.drop_table("collection_windows")
