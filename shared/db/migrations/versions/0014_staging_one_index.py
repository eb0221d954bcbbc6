"""staged records keep one secondary index, (submission, school, action, op_key): the second,
(submission, action, op_key), cost every staged row a random insert and staging a 500,000-record
file about 2 s; posting reads the staged rows in the order of the one that is left

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_staged_records_action", table_name="staged_records")


def downgrade() -> None:
    op.create_index("ix_staged_records_action", "staged_records",
                    ["submission_id", "action", "op_key"])
