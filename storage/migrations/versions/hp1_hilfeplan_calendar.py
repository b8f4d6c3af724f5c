"""hilfeplan: each case's Hilfeplangespräche and the deadlines that follow from them (issue 18)

Revision ID: hp1
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "hp1"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hilfeplan_talk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("participants", storage.models.base.EncryptedText(), nullable=False),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_hilfeplan_talk_case_id_case")),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="SET NULL",
                                name=op.f("fk_hilfeplan_talk_appointment_id_appointment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hilfeplan_talk")),
    )
    with op.batch_alter_table("hilfeplan_talk") as batch:
        batch.create_index(batch.f("ix_hilfeplan_talk_case_id"), ["case_id"], unique=False)
    op.create_table(
        "hilfeplan_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("owner", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("earliest", sa.Date(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("talk_id", sa.Integer(), nullable=True),
        sa.Column("fulfilled_by", sa.Integer(), nullable=True),
        sa.Column("done_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=100), nullable=True),
        sa.Column("overdue_notified_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("warned_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("obsolete_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_hilfeplan_item_case_id_case")),
        sa.ForeignKeyConstraint(["talk_id"], ["hilfeplan_talk.id"], ondelete="SET NULL",
                                name=op.f("fk_hilfeplan_item_talk_id_hilfeplan_talk")),
        sa.ForeignKeyConstraint(["fulfilled_by"], ["hilfeplan_talk.id"], ondelete="SET NULL",
                                name=op.f("fk_hilfeplan_item_fulfilled_by_hilfeplan_talk")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hilfeplan_item")),
        sa.UniqueConstraint("case_id", "key", name=op.f("uq_hilfeplan_item_case_id")),
    )
    with op.batch_alter_table("hilfeplan_item") as batch:
        batch.create_index(batch.f("ix_hilfeplan_item_case_id"), ["case_id"], unique=False)
        batch.create_index(batch.f("ix_hilfeplan_item_due_on"), ["due_on"], unique=False)


def downgrade() -> None:
    op.drop_table("hilfeplan_item")
    op.drop_table("hilfeplan_talk")
