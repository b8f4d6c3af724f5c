"""hilfeplan: a family member's view before a Hilfeplangespräch (issue 18)

Revision ID: hp2
Revises: hp1
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "hp2"
down_revision = "hp1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hilfeplan_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("talk_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answers_json", storage.models.base.EncryptedText(), nullable=False),
        sa.Column("started_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["talk_id"], ["hilfeplan_talk.id"], ondelete="CASCADE",
                                name=op.f("fk_hilfeplan_view_talk_id_hilfeplan_talk")),
        sa.ForeignKeyConstraint(["member_id"], ["family_member.id"],
                                name=op.f("fk_hilfeplan_view_member_id_family_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hilfeplan_view")),
        sa.UniqueConstraint("talk_id", "member_id", name=op.f("uq_hilfeplan_view_talk_id")),
    )
    with op.batch_alter_table("hilfeplan_view") as batch:
        batch.create_index(batch.f("ix_hilfeplan_view_talk_id"), ["talk_id"], unique=False)
        batch.create_index(batch.f("ix_hilfeplan_view_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_table("hilfeplan_view")
