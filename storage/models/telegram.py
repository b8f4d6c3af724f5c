"""Telegram's own bookkeeping: the tokens behind inline buttons, and which command menu a chat has.

A button carries only an opaque random token; what pressing it means (the choice's payload) stays
here, bound to the chat and the outbox message that showed it. A token works once: pressing any
button of a keyboard uses up the whole keyboard.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime
from storage.models.core import OutboxMessage


class TelegramCallback(Base):
    __tablename__ = "telegram_callback"
    __table_args__ = (Index("ix_telegram_callback_outbox", "outbox_id", "position"),)

    token: Mapped[str] = mapped_column(String(43), primary_key=True)
    address: Mapped[str] = mapped_column(String(64))  # the chat the keyboard was sent to
    # The outbox row that showed the keyboard (no foreign key: the outbox may be purged first).
    outbox_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The update that used it: Telegram redelivering that same update may go on to the engine
    # (which answers it once); any other press is refused.
    used_by_event: Mapped[str | None] = mapped_column(String(64))
    # Written with its outbox message in one flush (the message's id is filled in then); never loaded.
    outbox: Mapped[OutboxMessage] = relationship(
        primaryjoin="OutboxMessage.id == foreign(TelegramCallback.outbox_id)", lazy="raise")


class TelegramChatMenu(Base):
    """The command menu last set for one private chat (role and language), so it is set only on change."""

    __tablename__ = "telegram_chat_menu"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    menu: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
