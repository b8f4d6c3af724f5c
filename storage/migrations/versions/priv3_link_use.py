"""link_use: signed links from emails that were used, so that each works once

Revision ID: priv3
Revises: priv2
"""

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "priv3"
down_revision = "priv2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("arg", sa.String(length=40), nullable=False),
        sa.Column("used_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_use")),
        sa.UniqueConstraint("outbox_id", "route", "arg", name=op.f("uq_link_use_outbox_id_route_arg")),
    )
    op.create_index(op.f("ix_link_use_used_at"), "link_use", ["used_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_link_use_used_at"), table_name="link_use")
    op.drop_table("link_use")
