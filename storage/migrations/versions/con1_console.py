"""console: single-use sign-in links and browser sessions of the staff console

Revision ID: con1
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "con1"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"],
                                name=op.f("fk_console_sign_in_staff_id_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sign_in")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sign_in_token_hash")),
    )
    op.create_index(op.f("ix_console_sign_in_staff_id"), "console_sign_in", ["staff_id"])
    op.create_table(
        "console_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"],
                                name=op.f("fk_console_session_staff_id_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_session_token_hash")),
    )
    op.create_index(op.f("ix_console_session_staff_id"), "console_session", ["staff_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_console_session_staff_id"), table_name="console_session")
    op.drop_table("console_session")
    op.drop_index(op.f("ix_console_sign_in_staff_id"), table_name="console_sign_in")
    op.drop_table("console_sign_in")
