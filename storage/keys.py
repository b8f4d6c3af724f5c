"""Which key the database was written with: checked at start-up, changed by a resumable rotation.

A database holds the Fernet token of :data:`CHECK_TEXT` under its key (table ``key_check``). Starting
with another key stops with one line (:class:`WrongKey`) before anything is written, instead of
encrypting new data with a second key that nobody could tell apart from the first.

A database from before the check has no such row: then a few values that were always encrypted are
tried, and the row is written once the key has opened them (or when there is nothing encrypted yet).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Column, Engine, Table, Text, cast, insert, inspect, literal, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.crypto import fernet_for, opens
from storage.errors import Explained
from storage.models.privacy import KeyCheck

CHECK_TEXT = "wegbegleiter key check"

# Columns encrypted since the table was created: what a database without a check row is tested with.
ALWAYS_ENCRYPTED = (
    ("outbox_message", "text"),
    ("complaint_entry", "text"),
    ("escalation", "message"),
    ("milestone_response", "answers_json"),
    ("matrix_account", "access_token"),
)


class WrongKey(Explained):
    """The configured key is not the one the database was written with; the message says what to do."""


def wrong_key(source: str) -> WrongKey:
    return WrongKey("{source} is not the key this database was written with: set the key it was created "
                    "with (nothing was changed)", source=source)


def read_check(engine: Engine) -> tuple[str, str | None] | None:
    """(token, next_token) of the stored check, or None when there is none (yet)."""
    if not inspect(engine).has_table("key_check"):
        return None
    with engine.connect() as conn:
        row = conn.execute(text("SELECT token, next_token FROM key_check WHERE id = 1")).first()
    return (row[0], row[1]) if row else None


def sample_tokens(engine: Engine) -> list[str]:
    tables = set(inspect(engine).get_table_names())
    found = []
    with engine.connect() as conn:
        for table, column in ALWAYS_ENCRYPTED:
            if table in tables:
                value = conn.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
                                          "LIMIT 1")).scalar()
                if value:
                    found.append(value)
    return found


def verify(engine: Engine, secret: str, *, source: str) -> None:
    """Stop when ``secret`` is not the database's key, or when a key rotation was left unfinished."""
    fernet = fernet_for(secret)
    check = read_check(engine)
    if check is None:
        samples = sample_tokens(engine)
        if samples and not any(opens(fernet, token) for token in samples):
            raise wrong_key(source)
        return
    token, next_token = check
    if next_token is not None and (opens(fernet, token) or opens(fernet, next_token)):
        raise WrongKey("a key rotation was interrupted: run `wegbegleiter keys rotate` again with the same keys "
                       "to finish it")
    if not opens(fernet, token):
        raise wrong_key(source)


def store(engine: Engine, secret: str, now: datetime) -> None:
    """Record the key's check once (after migrations created the table); a concurrent start-up may win."""
    if read_check(engine) is not None:
        return
    try:
        with engine.begin() as conn:
            conn.execute(insert(KeyCheck).values(id=1, token=seal(fernet_for(secret)), created_at=now))
    except IntegrityError:
        pass


def seal(fernet: Fernet) -> str:
    return fernet.encrypt(CHECK_TEXT.encode()).decode()


# --- rotation ------------------------------------------------------------------------------------------
def encrypted_columns() -> list[tuple[Table, Column[Any]]]:
    """Every column of an :class:`~storage.models.base.Encrypted` type, with its table (all models)."""
    import storage.models  # noqa: F401  (every table registered)
    from storage.models.base import Base, Encrypted

    return [(table, column) for table in Base.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, Encrypted)]


@dataclass
class Rotation:
    """What a run of :func:`rotate` did: values re-encrypted now, already under the new key, per column."""

    changed: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    finished: bool = False
    resumed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"finished": self.finished, "resumed": self.resumed, "reencrypted": dict(self.changed),
                "already_under_new_key": dict(self.already)}


def rotate(engine: Engine, old_secret: str, new_secret: str, now: datetime, *, batch: int = 500,
           progress: Callable[[str, int], None] | None = None) -> Rotation:
    """Re-encrypt every encrypted value under ``new_secret``, in batches that each commit on their own.

    The check row holds the new key's token in ``next_token`` from the first batch on, so start-up is
    refused until the rotation is finished; a run that was interrupted is finished by running it again
    with the same two keys (values already under the new key are left alone). At the end the check
    row names the new key alone.
    """
    if batch < 1:  # a batch of none would "finish" with nothing re-encrypted
        raise ValueError("batch must be at least 1")
    old, new = fernet_for(old_secret), fernet_for(new_secret)
    if old_secret == new_secret:
        raise WrongKey("the new key is the key in use; give another one")
    result = Rotation()
    check = read_check(engine)
    if check is None:
        verify(engine, old_secret, source="the key in use")
        store(engine, old_secret, now)
        check = read_check(engine)
        assert check is not None
    token, next_token = check
    if next_token is None:
        if opens(new, token):  # finished before, only the key file was not switched yet
            result.finished = result.resumed = True
            return result
        if not opens(old, token):
            raise wrong_key("the key in use")
        with engine.begin() as conn:
            conn.execute(update(KeyCheck).where(KeyCheck.id == 1).values(next_token=seal(new)))
    else:
        if not opens(new, next_token):
            raise WrongKey("a rotation to another key is under way: give the new key it was started with")
        result.resumed = True
    for table, column in encrypted_columns():
        _rotate_column(engine, table, column, old, new, batch, result, progress)
    with engine.begin() as conn:
        conn.execute(update(KeyCheck).where(KeyCheck.id == 1).values(
            token=seal(new), next_token=None, rotated_at=now))
    result.finished = True
    return result


def _rotate_column(engine: Engine, table: Table, column: Column[Any], old: Fernet, new: Fernet, batch: int,
                   result: Rotation, progress: Callable[[str, int], None] | None) -> None:
    name = f"{table.name}.{column.name}"
    (key,) = table.primary_key.columns
    last: Any = None
    while True:
        raw = cast(column, Text)  # the stored token, not what the column type would decrypt
        query = select(key, raw).where(raw.is_not(None), raw != "").order_by(key).limit(batch)
        if last is not None:
            query = query.where(key > last)
        with engine.begin() as conn:
            rows = conn.execute(query).all()
            for row_id, value in rows:
                if opens(new, value):
                    result.already[name] += 1
                    continue
                try:
                    plain = old.decrypt(value.encode())
                except (InvalidToken, ValueError):
                    raise WrongKey("{name} of row {id} opens with neither key; nothing after it was changed",
                                    name=name, id=row_id) from None
                conn.execute(update(table).where(key == row_id).values(
                    {column.name: literal(new.encrypt(plain).decode(), Text)}))
                result.changed[name] += 1
        if not rows:
            return
        last = rows[-1][0]
        if progress is not None:
            progress(name, len(rows))
