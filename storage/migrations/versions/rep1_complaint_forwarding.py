"""report: a complaint about the Jugendamt may be forwarded to its complaint office (consent, when, by whom)

Revision ID: rep1
Revises: acc2
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "rep1"
down_revision = "acc2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.add_column(sa.Column("forward_consent", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("forwarded_at", storage.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("forwarded_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_complaint_forwarded_by_staff_member", "staff_member", ["forwarded_by"],
                                    ["id"])


def downgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.drop_constraint("fk_complaint_forwarded_by_staff_member", type_="foreignkey")
        batch_op.drop_column("forwarded_by")
        batch_op.drop_column("forwarded_at")
        batch_op.drop_column("forward_consent")
