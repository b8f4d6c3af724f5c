"""console: index appointments by case, outcome and start (what is still to record, what comes next)

Revision ID: con2
Revises: con1
"""

from alembic import op

revision = "con2"
down_revision = "con1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_appointment_case_outcome_start", "appointment", ["case_id", "outcome", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_appointment_case_outcome_start", table_name="appointment")
