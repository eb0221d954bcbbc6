"""identities: the SSID registry, its blocking keys and changes, new-SSID counter, suggestions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FIRST_NUMBER = 100_000_000  # shared.matching.ssid.FIRST_BODY


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("ssid", sa.String(length=10), nullable=False),
        sa.Column("merged_into", sa.String(length=10), nullable=True),
        sa.Column("person", sa.JSON(), nullable=False),
        sa.Column("institution_id", sa.String(length=20), nullable=False),
        sa.Column("record_type", sa.String(length=10), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ssid", name=op.f("pk_identities")),
    )
    op.create_index(op.f("ix_identities_merged_into"), "identities", ["merged_into"])
    op.create_index(op.f("ix_identities_institution_id"), "identities", ["institution_id"])
    op.create_table(
        "identity_keys",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("ssid", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("key", "ssid", name=op.f("pk_identity_keys")),
    )
    op.create_table(
        "identity_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ssid", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("other_ssid", sa.String(length=10), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("by", sa.String(length=320), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_changes")),
    )
    op.create_index(op.f("ix_identity_changes_ssid"), "identity_changes", ["ssid"])
    counter = op.create_table(
        "ssid_counter",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ssid_counter")),
    )
    op.bulk_insert(counter, [{"name": "ssid", "next_number": FIRST_NUMBER}])
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.String(length=20), nullable=False),
        sa.Column("collection", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("chosen_ssid", sa.String(length=10), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_suggestions_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
        sa.UniqueConstraint("submission_id", "row", name=op.f("uq_suggestions_submission_id")),
    )
    op.create_index("ix_suggestions_waiting", "suggestions", ["institution_id", "status"])
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("resolves_suggestion_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("suggested", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("suggested")
        batch.drop_column("resolves_suggestion_id")
    op.drop_index("ix_suggestions_waiting", table_name="suggestions")
    op.drop_table("suggestions")
    op.drop_table("ssid_counter")
    op.drop_index(op.f("ix_identity_changes_ssid"), table_name="identity_changes")
    op.drop_table("identity_changes")
    op.drop_table("identity_keys")
    op.drop_index(op.f("ix_identities_institution_id"), table_name="identities")
    op.drop_index(op.f("ix_identities_merged_into"), table_name="identities")
    op.drop_table("identities")
