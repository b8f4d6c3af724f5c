"""Declarative base and the column types every model uses (aware UTC times, encrypted text and files)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from storage import crypto

# Stable constraint names so Alembic migrations look the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, whatever the database keeps.

    SQLite has no time zones: values are stored as naive UTC and come back aware. A naive datetime
    handed in is a programming error (it would silently mean local time), so it is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Encrypted(TypeDecorator[Any]):
    """Values encrypted at rest with the configured key (see :mod:`storage.crypto`): a Fernet token in a
    text column. Subclasses say how a value becomes text. An empty text stays empty (it tells nothing,
    and a blanked outbox message can be found by it). :mod:`storage.keys` finds every column of this
    type when the key is rotated."""

    impl = Text
    cache_ok = True

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        text = self.to_text(value)
        return "" if text == "" else crypto.encrypt(text)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.from_text("" if value == "" else crypto.decrypt(value))


class EncryptedText(Encrypted):
    """Free text encrypted at rest."""

    cache_ok = True


class EncryptedBytes(Encrypted):
    """Files encrypted at rest (complaint files, outbox attachments): the Fernet token of their base64
    form, about 1.8 times the size."""

    cache_ok = True

    def to_text(self, value: Any) -> str:
        return base64.b64encode(bytes(value)).decode()

    def from_text(self, text: str) -> bytes:
        return base64.b64decode(text)


class EncryptedJSON(Encrypted):
    """A JSON document encrypted at rest (what no query reads, e.g. an alert's matched phrase)."""

    cache_ok = True

    def to_text(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def from_text(self, text: str) -> Any:
        return json.loads(text) if text else {}


class EncryptedBool(Encrypted):
    """A yes/no encrypted at rest (the milestone evaluation's child-protection flag)."""

    cache_ok = True

    def to_text(self, value: Any) -> str:
        return "1" if value else "0"

    def from_text(self, text: str) -> bool | None:
        return None if text == "" else text == "1"


class EncryptedDate(Encrypted):
    """A date encrypted at rest (birth dates): ISO text in a Fernet token."""

    cache_ok = True

    def to_text(self, value: Any) -> str:
        return value.isoformat()

    def from_text(self, text: str) -> date | None:
        return date.fromisoformat(text) if text else None
