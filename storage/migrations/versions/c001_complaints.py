"""complaints (Beschwerdemanagement, issue 9)

Revision ID: c001
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base
import storage.models.complaints

revision = "c001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = storage.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("relay_identity_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("about_staff_id", sa.Integer(), nullable=True),
        sa.Column("leitung_only", sa.Boolean(), nullable=False),
        sa.Column("answer_wanted", sa.String(length=20), nullable=False),
        sa.Column("contact", storage.models.base.EncryptedText(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("resolution", storage.models.base.EncryptedText(), nullable=True),
        sa.Column("satisfaction", sa.String(length=10), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("submitted_at", utc, nullable=True),
        sa.Column("take_up_due", utc, nullable=True),
        sa.Column("answer_due", utc, nullable=True),
        sa.Column("taken_at", utc, nullable=True),
        sa.Column("answered_at", utc, nullable=True),
        sa.Column("closed_at", utc, nullable=True),
        sa.Column("satisfaction_at", utc, nullable=True),
        sa.ForeignKeyConstraint(["about_staff_id"], ["staff_member.id"],
                                name=op.f("fk_complaint_about_staff_id_staff_member")),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_complaint_case_id_case")),
        sa.ForeignKeyConstraint(["member_id"], ["family_member.id"], ondelete="SET NULL",
                                name=op.f("fk_complaint_member_id_family_member")),
        sa.ForeignKeyConstraint(["officer_id"], ["staff_member.id"], name=op.f("fk_complaint_officer_id_staff_member")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_complaint_organisation_id_organisation")),
        sa.ForeignKeyConstraint(["relay_identity_id"], ["chat_identity.id"], ondelete="SET NULL",
                                name=op.f("fk_complaint_relay_identity_id_chat_identity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("reference", name=op.f("uq_complaint_reference")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_about_staff_id"), ["about_staff_id"], unique=False)
        batch_op.create_index("ix_complaint_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "complaint_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", storage.models.base.EncryptedText(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], ondelete="CASCADE",
                                name=op.f("fk_complaint_entry_complaint_id_complaint")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], name=op.f("fk_complaint_entry_staff_id_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_entry")),
    )
    with op.batch_alter_table("complaint_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_entry_complaint_id"), ["complaint_id"], unique=False)

    op.create_table(
        "complaint_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", storage.models.complaints.EncryptedBytes(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], ondelete="CASCADE",
                                name=op.f("fk_complaint_file_complaint_id_complaint")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_file")),
    )
    with op.batch_alter_table("complaint_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_file_complaint_id"), ["complaint_id"], unique=False)


def downgrade() -> None:
    op.drop_table("complaint_file")
    op.drop_table("complaint_entry")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_status_created")
    op.drop_table("complaint")
