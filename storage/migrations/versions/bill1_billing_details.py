"""billing details: the Träger's address, the Jugendamt and its file number per case, the cancellation notice

Revision ID: bill1
Revises: a001
"""

import sqlalchemy as sa
from alembic import op

revision = "bill1"
down_revision = "a001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=True))
    with op.batch_alter_table("case") as batch_op:
        batch_op.add_column(sa.Column("jugendamt", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("jugendamt_file_number", sa.String(length=100), nullable=True))
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("cancel_notice", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_column("cancel_notice")
    with op.batch_alter_table("case") as batch_op:
        batch_op.drop_column("jugendamt_file_number")
        batch_op.drop_column("jugendamt")
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.drop_column("address")
