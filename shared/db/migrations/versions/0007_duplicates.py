"""registry sync position, likely duplicate SSIDs (Resolve Duplicates), identity keys by SSID

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_sync",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registry_sync")),
    )
    op.create_table(
        "duplicate_pairs",
        sa.Column("low", sa.String(length=10), nullable=False),
        sa.Column("high", sa.String(length=10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("low_vote", sa.String(length=1), nullable=True),
        sa.Column("high_vote", sa.String(length=1), nullable=True),
        sa.Column("low_voter", sa.String(length=320), nullable=True),
        sa.Column("high_voter", sa.String(length=320), nullable=True),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("low", "high", name=op.f("pk_duplicate_pairs")),
    )
    op.create_index("ix_duplicate_pairs_status", "duplicate_pairs", ["status"])
    op.create_index("ix_identity_keys_ssid", "identity_keys", ["ssid"])


def downgrade() -> None:
    op.drop_index("ix_identity_keys_ssid", table_name="identity_keys")
    op.drop_index("ix_duplicate_pairs_status", table_name="duplicate_pairs")
    op.drop_table("duplicate_pairs")
    op.drop_table("registry_sync")
