"""scans: the periodic scans and the outbox claim read what is due, not the history stored

- ``outbox_message.blanked_at`` and ``ix_outbox_to_blank`` (the rows not blanked yet, by creation): the hourly
  privacy purge read every delivered message ever kept to find the few now due. Rows blanked before this
  revision are marked by the purge's next run (the texts' period is a setting, not known here).
- ``ix_appointment_outcome_start``: the Nachweis finds last month's cases from one index range, without a probe
  per case or a table lookup per appointment (among the years of history).
- ``ix_nachweis_confirmation_month``: the Nachweis scan's "asked already?" read every confirmation ever kept.
- ``ix_outbox_waiting`` (the waiting messages, by chat): for the claim's oldest waiting message per chat SQLite
  walked every message kept, in the order of ix_outbox_chat.
- ``ix_escalation_notice_outbox_id``: deleting an outbox row sets it to NULL there, which read every notice.

Revision ID: scan1
Revises: 0003, a001, e001
"""

import sqlalchemy as sa
from alembic import op

revision = "scan1"
down_revision = ("0003", "a001", "e001")  # outbox and appointments; Nachweis confirmations; escalation notices
branch_labels = None
depends_on = None

NOT_BLANKED = sa.text("blanked_at IS NULL")
WAITING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("blanked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_to_blank", "outbox_message", ["created_at"], sqlite_where=NOT_BLANKED,
                    postgresql_where=NOT_BLANKED)
    op.create_index("ix_appointment_outcome_start", "appointment", ["outcome", "starts_at", "case_id"])
    op.create_index("ix_escalation_notice_outbox_id", "escalation_notice", ["outbox_id"])
    op.create_index("ix_nachweis_confirmation_month", "nachweis_confirmation", ["month", "case_id"])
    op.create_index("ix_outbox_waiting", "outbox_message", ["channel", "address", "id"], sqlite_where=WAITING,
                    postgresql_where=WAITING)


def downgrade() -> None:
    op.drop_index("ix_nachweis_confirmation_month", table_name="nachweis_confirmation")
    op.drop_index("ix_outbox_waiting", table_name="outbox_message")
    op.drop_index("ix_escalation_notice_outbox_id", table_name="escalation_notice")
    op.drop_index("ix_appointment_outcome_start", table_name="appointment")
    op.drop_index("ix_outbox_to_blank", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("blanked_at")
