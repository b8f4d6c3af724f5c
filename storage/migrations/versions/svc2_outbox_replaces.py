"""service: the first reply to a pressed button may take the pressed message's place

Revision ID: svc2
Revises: svc1
"""

import sqlalchemy as sa
from alembic import op

revision = "svc2"
down_revision = "svc1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("replaces", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("replaces")
