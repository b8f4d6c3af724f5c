"""encrypt outbox attachments at rest

A complaint's photo or a Nachweis PDF waiting for delivery must not lie in the database in clear.
Existing rows are encrypted in place (the key is configured before migrations run).

Revision ID: 0003
Revises: 0002
"""

import base64

import sqlalchemy as sa
from alembic import op

from storage import crypto

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_attachment") as batch:
        batch.add_column(sa.Column("sealed", sa.Text(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, data FROM outbox_attachment")).all()
    for row_id, data in rows:
        token = crypto.encrypt(base64.b64encode(bytes(data)).decode())
        conn.execute(sa.text("UPDATE outbox_attachment SET sealed = :t WHERE id = :i"), {"t": token, "i": row_id})
    with op.batch_alter_table("outbox_attachment") as batch:
        batch.drop_column("data")
        batch.alter_column("sealed", new_column_name="data", nullable=False, existing_type=sa.Text())


def downgrade() -> None:
    with op.batch_alter_table("outbox_attachment") as batch:
        batch.add_column(sa.Column("plain", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    for row_id, token in conn.execute(sa.text("SELECT id, data FROM outbox_attachment")).all():
        data = base64.b64decode(crypto.decrypt(token))
        conn.execute(sa.text("UPDATE outbox_attachment SET plain = :d WHERE id = :i"), {"d": data, "i": row_id})
    with op.batch_alter_table("outbox_attachment") as batch:
        batch.drop_column("data")
        batch.alter_column("plain", new_column_name="data", nullable=False, existing_type=sa.LargeBinary())
