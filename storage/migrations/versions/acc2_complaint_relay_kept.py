"""access: a complaint keeps its chat's address when the help ends, so the answer still reaches it

Revision ID: acc2
Revises: c001
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "acc2"
down_revision = "c001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.add_column(sa.Column("relay_channel", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("relay_address", storage.models.base.EncryptedText(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaint") as batch_op:
        batch_op.drop_column("relay_address")
        batch_op.drop_column("relay_channel")
