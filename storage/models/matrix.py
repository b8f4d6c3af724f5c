"""Matrix's own bookkeeping: the bot's login and sync position, and the choices behind its messages.

The sync token (``next_batch``) is stored only after every event of a sync has been handed to the
engine, so a restart neither misses a message nor answers one twice (the engine also drops event ids
it has seen). The access token and device id are kept so a restart logs in as the same device: the
crypto store on disk belongs to that device.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, EncryptedText, UTCDateTime


class MatrixAccount(Base):
    __tablename__ = "matrix_account"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    access_token: Mapped[str | None] = mapped_column(EncryptedText)
    next_batch: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatrixChoiceMessage(Base):
    """A message of the bot that offered numbered choices: a reaction "2️⃣" on it means its second choice.

    The payloads are kept here (not looked up in the outbox, which may be purged). A reaction on an
    older message hands its payload to the engine, which refuses it kindly if it is no longer offered.
    """

    __tablename__ = "matrix_choice_message"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    address: Mapped[str] = mapped_column(String(255))
    outbox_id: Mapped[int] = mapped_column(Integer)
    payloads: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
