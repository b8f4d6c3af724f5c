"""service: which instance claimed an outbox message, so a dead instance's claims are taken back at once

Revision ID: svc1
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "svc1"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("claimed_by")
