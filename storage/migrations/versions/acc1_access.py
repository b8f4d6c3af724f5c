"""access: when a staff member left, why a case was closed; wrong invite codes counted across all chats

Revision ID: acc1
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "acc1"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_member") as batch_op:
        batch_op.add_column(sa.Column("deactivated_at", storage.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table("case") as batch_op:
        batch_op.add_column(sa.Column("closed_reason", sa.String(length=40), nullable=True))
    op.create_index("ix_invite_attempt_at", "invite_attempt", ["at"])


def downgrade() -> None:
    op.drop_index("ix_invite_attempt_at", table_name="invite_attempt")
    with op.batch_alter_table("case") as batch_op:
        batch_op.drop_column("closed_reason")
    with op.batch_alter_table("staff_member") as batch_op:
        batch_op.drop_column("deactivated_at")
