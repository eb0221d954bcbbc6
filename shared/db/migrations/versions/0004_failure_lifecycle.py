"""failure lifecycle: submission progress and history, dead letters, outbox, email outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("progress_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("redrives", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("replays", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "submission_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_submission_events_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_events")),
    )
    op.create_index(op.f("ix_submission_events_submission_id"), "submission_events",
                    ["submission_id"])
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.Integer(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("replayed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(op.f("ix_dead_letters_submission_id"), "dead_letters", ["submission_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("emails") as batch:
        batch.drop_constraint("uq_emails_submission_id", type_="unique")
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sent_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.create_unique_constraint("uq_emails_submission_id",
                                       ["submission_id", "milestone", "round"])
        batch.create_index("ix_emails_status", ["status", "next_attempt_at"])


def downgrade() -> None:
    with op.batch_alter_table("emails") as batch:
        batch.drop_index("ix_emails_status")
        batch.drop_constraint("uq_emails_submission_id", type_="unique")
        batch.drop_column("error")
        batch.drop_column("sent_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("round")
        batch.create_unique_constraint("uq_emails_submission_id", ["submission_id", "milestone"])
    op.drop_table("outbox")
    op.drop_index(op.f("ix_dead_letters_submission_id"), table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_index(op.f("ix_submission_events_submission_id"), table_name="submission_events")
    op.drop_table("submission_events")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("replays")
        batch.drop_column("redrives")
        batch.drop_column("progress_at")
