"""the CDS directory says what else a code is: a charter school, an NPS (store rules)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("directory_entries") as batch:
        batch.add_column(sa.Column("category", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("directory_entries") as batch:
        batch.drop_column("category")
