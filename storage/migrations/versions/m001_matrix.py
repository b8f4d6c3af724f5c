"""matrix: the bot's login and sync token, and the choices behind its messages

Revision ID: m001
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "m001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matrix_account",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("access_token", storage.models.base.EncryptedText(), nullable=True),
        sa.Column("next_batch", sa.Text(), nullable=True),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_matrix_account")),
    )
    op.create_table(
        "matrix_choice_message",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("payloads", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_matrix_choice_message")),
    )
    op.create_index(op.f("ix_matrix_choice_message_created_at"), "matrix_choice_message", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_matrix_choice_message_created_at"), table_name="matrix_choice_message")
    op.drop_table("matrix_choice_message")
    op.drop_table("matrix_account")
