"""escalations: three missed appointments and child-protection alerts, with who was told when

Revision ID: e001
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "e001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("message", storage.models.base.EncryptedText(), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_via", sa.String(length=30), nullable=True),
        sa.Column("note", storage.models.base.EncryptedText(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_escalation_case_id_case")),
        sa.ForeignKeyConstraint(["member_id"], ["family_member.id"], name=op.f("fk_escalation_member_id_family_member")),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["staff_member.id"],
                                name=op.f("fk_escalation_acknowledged_by_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation")),
        sa.UniqueConstraint("key", name=op.f("uq_escalation_key")),
    )
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_escalation_open", ["kind", "acknowledged_at", "due_at"], unique=False)

    op.create_table(
        "escalation_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"],
                                name=op.f("fk_escalation_notice_escalation_id_escalation")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], name=op.f("fk_escalation_notice_staff_id_staff_member")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox_message.id"], ondelete="SET NULL",
                                name=op.f("fk_escalation_notice_outbox_id_outbox_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_notice")),
    )
    with op.batch_alter_table("escalation_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_notice_escalation_id"), ["escalation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalation_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_notice_escalation_id"))
    op.drop_table("escalation_notice")
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_open")
        batch_op.drop_index(batch_op.f("ix_escalation_case_id"))
    op.drop_table("escalation")
