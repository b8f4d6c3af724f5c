"""Which key the database was written with: checked at start-up, changed by a resumable rotation.

A database holds the Fernet token of :data:`CHECK_TEXT` under its key (table ``key_check``). Starting
with another key stops with one line (:class:`WrongKey`) before anything is written, instead of
encrypting new data with a second key that nobody could tell apart from the first.

A database from before the check has no such row: then a few values that were always encrypted are
tried, and the row is written once the key has opened them (or when there is nothing encrypted yet).
"""

from __future__ import annotations

from datetime import datetime

from cryptography.fernet import Fernet
from sqlalchemy import Engine, insert, inspect, text
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
