"""telegram: inline button tokens and per-chat command menus

Revision ID: t001
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "t001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_callback",
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by_event", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_telegram_callback")),
    )
    op.create_index("ix_telegram_callback_outbox", "telegram_callback", ["outbox_id", "position"])
    op.create_index(op.f("ix_telegram_callback_created_at"), "telegram_callback", ["created_at"])
    op.create_table(
        "telegram_chat_menu",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("menu", sa.String(length=40), nullable=False),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_telegram_chat_menu")),
    )


def downgrade() -> None:
    op.drop_table("telegram_chat_menu")
    op.drop_index(op.f("ix_telegram_callback_created_at"), table_name="telegram_callback")
    op.drop_index("ix_telegram_callback_outbox", table_name="telegram_callback")
    op.drop_table("telegram_callback")
