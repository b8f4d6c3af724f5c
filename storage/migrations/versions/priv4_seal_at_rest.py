"""seal at rest what no query reads: an alert's facts (the matched danger phrase), the milestone
evaluation's child-protection flag, file names, family members' last names and birth dates, the places
of appointments (often the family's home address)

Existing rows are encrypted in place (the key is configured before migrations run). PostgreSQL gets
text columns; SQLite keeps its declared types, which it does not enforce, so no table is rebuilt
(``family_member`` is referenced from everywhere).

Revision ID: priv4
Revises: priv3, ms01, c001, e001
"""

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage import crypto

revision = "priv4"
down_revision = ("priv3", "ms01", "c001", "e001")  # after the tables it seals exist
branch_labels = None
depends_on = None


def _json(value: Any) -> str:
    return json.dumps(json.loads(value) if isinstance(value, str) else value, ensure_ascii=False, sort_keys=True)


def _bool(value: Any) -> str:
    return "1" if value in (True, 1, "1", "t", "true") else "0"


def _date(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)[:10]


# table, column, how a stored value becomes the text that is encrypted, the type before
COLUMNS: list[tuple[str, str, Callable[[Any], str], Any]] = [
    ("escalation", "facts", _json, sa.JSON()),
    ("milestone_evaluation", "child_protection_signs", _bool, sa.Boolean()),
    ("milestone_media", "filename", str, sa.String(200)),
    ("complaint_file", "filename", str, sa.String(200)),
    ("outbox_attachment", "filename", str, sa.String(200)),
    ("family_member", "last_name", str, sa.String(100)),
    ("family_member", "birth_date", _date, sa.Date()),
    ("appointment", "place", str, sa.String(200)),
    ("appointment_series", "place", str, sa.String(200)),
]


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    for table, column, to_text, old_type in COLUMNS:
        if postgres:
            op.alter_column(table, column, type_=sa.Text(), existing_type=old_type,
                            postgresql_using=f"{column}::text")
        rows = conn.execute(sa.text(f'SELECT id, {column} FROM "{table}" WHERE {column} IS NOT NULL')).all()  # noqa: S608
        for row_id, value in rows:
            plain = to_text(value)
            conn.execute(sa.text(f'UPDATE "{table}" SET {column} = :v WHERE id = :i'),  # noqa: S608
                         {"v": crypto.encrypt(plain) if plain else "", "i": row_id})


def downgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    for table, column, _to_text, old_type in COLUMNS:
        rows = conn.execute(sa.text(f'SELECT id, {column} FROM "{table}" WHERE {column} IS NOT NULL')).all()  # noqa: S608
        for row_id, token in rows:
            plain = crypto.decrypt(token) if token else ""
            value: Any = None if plain == "" and not isinstance(old_type, sa.String) else plain
            if isinstance(old_type, sa.Boolean) and value is not None:
                value = "true" if plain == "1" else "false" if postgres else int(plain == "1")
            conn.execute(sa.text(f'UPDATE "{table}" SET {column} = :v WHERE id = :i'),  # noqa: S608
                         {"v": value, "i": row_id})
        if postgres:
            using = {sa.JSON: f"{column}::json", sa.Boolean: f"{column}::boolean", sa.Date: f"{column}::date"}
            op.alter_column(table, column, type_=old_type, existing_type=sa.Text(),
                            postgresql_using=using.get(type(old_type), column))
