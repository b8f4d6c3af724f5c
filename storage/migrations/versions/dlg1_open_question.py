"""dialog: the open question of a chat (the options of the newest message that reached the person)

Revision ID: dlg1
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "dlg1"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_state") as batch:
        batch.add_column(sa.Column("open_choices", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_state") as batch:
        batch.drop_column("open_choices")
