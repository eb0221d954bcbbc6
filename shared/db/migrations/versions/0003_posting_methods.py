"""held records, per-record issues of fatal staged records, fixes, schools posted one by one

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_records",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.String(length=20), nullable=False),
        sa.Column("collection", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_held_records_submission_id_submissions")),
        sa.PrimaryKeyConstraint("submission_id", "row", name=op.f("pk_held_records")),
    )
    op.create_index(op.f("ix_held_records_institution_id"), "held_records", ["institution_id"])
    op.create_table(
        "posted_schools",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(length=20), nullable=False),
        sa.Column("posted", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("effects", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_posted_schools_submission_id_submissions")),
        sa.PrimaryKeyConstraint("submission_id", "school", name=op.f("pk_posted_schools")),
    )
    with op.batch_alter_table("staged_records") as batch:
        batch.add_column(sa.Column("issues", sa.JSON(), nullable=True))
    op.create_index("ix_staged_records_school", "staged_records",
                    ["submission_id", "school", "action", "op_key"])
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("held", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("fixes_submission_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fixes_row", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("fixes_row")
        batch.drop_column("fixes_submission_id")
        batch.drop_column("held")
    op.drop_index("ix_staged_records_school", table_name="staged_records")
    with op.batch_alter_table("staged_records") as batch:
        batch.drop_column("issues")
    op.drop_table("posted_schools")
    op.drop_index(op.f("ix_held_records_institution_id"), table_name="held_records")
    op.drop_table("held_records")
