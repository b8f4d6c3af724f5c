"""A chat's conversation state during one turn: read and written as plain rows, past the ORM.

Every turn reads one state row and writes it back; as an ORM object that was a load with its attribute
events and an UPDATE through the unit of work at commit (bench/footprint.py: with the turn's replies, the
larger part of a turn). Here it is one prebuilt SELECT and one prebuilt UPDATE (or INSERT for a new
chat) on the turn's connection, in the turn's transaction.
Only what the turn may change is written: ``open_choices`` belongs to delivery
(:func:`conversations.outbox.remember_open_question`) unless the turn clears it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from storage.models import ConversationState

TABLE = ConversationState.__table__
LOAD = select(TABLE.c.id, TABLE.c.stack, TABLE.c.offered, TABLE.c.open_choices, TABLE.c.language).where(
    TABLE.c.channel == bindparam("chat_channel"), TABLE.c.address == bindparam("chat_address"))
CREATE = insert(TABLE)
STORE = update(TABLE).where(TABLE.c.id == bindparam("state_id"))


@dataclass
class ChatState:
    """The stored state of one chat (:class:`storage.models.ConversationState`), as the turn found it."""

    channel: str
    address: str
    id: int | None = None  # None: the chat has no row yet (its first turn)
    stack: Any = field(default_factory=list)  # as stored; the engine reads it with context.usable_frames
    offered: dict[str, Any] = field(default_factory=dict)
    open_choices: list[dict[str, str]] | None = None
    language: str | None = None  # chosen before the chat is linked
    _stored_language: str | None = None

    @classmethod
    def load(cls, session: Session, channel: str, address: str) -> ChatState:
        row = session.connection().execute(LOAD, {"chat_channel": channel, "chat_address": address}).first()
        if row is None:
            return cls(channel, address)
        return cls(channel, address, row.id, row.stack, row.offered, row.open_choices, row.language, row.language)

    def save(self, session: Session, *, now: datetime, clear_open_question: bool) -> None:
        """Write the turn's changes. A row that vanished during the turn fails the turn, as the ORM's
        flush did (a chat unlinked in its own turn)."""
        values: dict[str, Any] = {"stack": self.stack, "offered": self.offered, "updated_at": now}
        if clear_open_question:
            values["open_choices"] = []
        connection = session.connection()
        if self.id is None:
            values.update(channel=self.channel, address=self.address, language=self.language)
            connection.execute(CREATE, values)
            return
        if self.language != self._stored_language:
            values["language"] = self.language
        if connection.execute(STORE, {"state_id": self.id, **values}).rowcount != 1:
            raise StaleDataError(f"the conversation state of {self.channel}/{self.address} is gone")
