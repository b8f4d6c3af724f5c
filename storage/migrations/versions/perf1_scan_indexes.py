"""perf: the periodic scans cost the same however much history is stored

An index on the appointments' start (the scans' time windows), one on a chat's undelivered messages (the
outbox claim), and the moment the family was last told of
an appointment's time on the appointment itself (the reminder scan searched the outbox with LIKE for it).

Revision ID: perf1
Revises: con2
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "perf1"
down_revision = "con2"
branch_labels = None
depends_on = None

TOLD = re.compile(r"appt:(\d+):")


def upgrade() -> None:
    op.create_index("ix_appointment_start", "appointment", ["starts_at"])
    op.create_index("ix_outbox_chat", "outbox_message", ["channel", "address", "status", "id"])
    with op.batch_alter_table("appointment") as batch:
        batch.add_column(sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    told: dict[int, object] = {}
    for key, created_at in bind.execute(sa.text(
            "SELECT dedupe_key, created_at FROM outbox_message "
            "WHERE kind IN ('appointment.new', 'appointment.moved') AND dedupe_key IS NOT NULL")):
        found = TOLD.match(key)
        if found and (int(found[1]) not in told or created_at > told[int(found[1])]):
            told[int(found[1])] = created_at
    for appointment_id, at in told.items():
        bind.execute(sa.text("UPDATE appointment SET told_at = :at WHERE id = :id"), {"at": at, "id": appointment_id})


def downgrade() -> None:
    with op.batch_alter_table("appointment") as batch:
        batch.drop_column("told_at")
    op.drop_index("ix_appointment_start", table_name="appointment")
    op.drop_index("ix_outbox_chat", table_name="outbox_message")
