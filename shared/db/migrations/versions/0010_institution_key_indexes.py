"""posted records by institution in key order: the export reads them a page at a time

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (record_type, lea, op_key) serves every query (record_type, lea) served, and gives a
    # district's records in key order; the school's the same way.
    op.create_index("ix_ods_records_lea_key", "ods_records", ["record_type", "lea", "op_key"])
    op.create_index("ix_ods_records_school_key", "ods_records",
                    ["record_type", "school", "op_key"])
    op.drop_index("ix_ods_records_lea", table_name="ods_records")


def downgrade() -> None:
    op.create_index("ix_ods_records_lea", "ods_records", ["record_type", "lea"])
    op.drop_index("ix_ods_records_school_key", table_name="ods_records")
    op.drop_index("ix_ods_records_lea_key", table_name="ods_records")
