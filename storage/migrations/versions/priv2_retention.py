"""retention: which kinds of a closed case's data were deleted, and the counts kept from deleted data

Revision ID: priv2
Revises: priv1
"""

import sqlalchemy as sa
from alembic import op

revision = "priv2"
down_revision = "priv1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("purged", sa.JSON(), nullable=True))
    op.create_table(
        "retained_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_retained_figure_organisation_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retained_figure")),
        sa.UniqueConstraint("organisation_id", "year", "metric", "key",
                            name=op.f("uq_retained_figure_organisation_id")),
    )


def downgrade() -> None:
    op.drop_table("retained_figure")
    with op.batch_alter_table("case") as batch:
        batch.drop_column("purged")
