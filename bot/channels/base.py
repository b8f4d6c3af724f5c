"""What every channel's delivery side implements, and the outcomes it reports.

Delivery outcomes, as exceptions raised by :meth:`Transport.send`::

    DeliveryError
    ├── RetryLater       the network asked us to wait (Telegram 429, Matrix M_LIMIT_EXCEEDED)
    ├── TemporaryFailure network trouble or a server error; retried with backoff. It may have been
    │                    delivered anyway (a timeout): the outbox then sends again, rather than lose it
    ├── RecipientGone    the person blocked the bot or left the room: recorded, not retried
    └── PermanentFailure the network refused this message for good (bad request)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from conversations.messages import Attachment, Choice

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class DeliveryError(Exception):
    pass


class RetryLater(DeliveryError):
    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds} s")
        self.seconds = seconds


class TemporaryFailure(DeliveryError):
    pass


class RecipientGone(DeliveryError):
    pass


class PermanentFailure(DeliveryError):
    pass


@dataclass(frozen=True)
class Limits:
    """Pacing a network expects. ``None`` means no limit."""

    per_second: float | None = None  # all chats together
    per_chat_per_second: float | None = None
    per_chat_burst: int = 3  # a turn's two or three replies may go out together


@dataclass(frozen=True)
class OutgoingMessage:
    id: int  # the outbox row: a stable idempotency key (Matrix transaction id, email Message-ID)
    channel: str
    address: str
    text: str
    choices: list[Choice] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    language: str = "de"
    kind: str = "reply"
    subject: str | None = None
    urgent: bool = False
    # The network's id of the message whose button was pressed, if this is the first reply to that press: a
    # channel that can edit messages may show this reply in its place (Telegram), or just take its buttons off.
    replaces: str | None = None
    followed: bool = False  # another message of the chat was due behind it when it was claimed
    # Further outbox rows sent within this one (a turn's replies as one message: see bot.outbox, joining):
    # marked with it, sent or not, as one.
    joined: tuple[int, ...] = ()


class Transport(Protocol):
    channel: str
    limits: Limits

    async def send(self, message: OutgoingMessage) -> str | None:
        """Deliver one message; return the network's id for it, or raise a :class:`DeliveryError`."""
        ...


@runtime_checkable
class RecordsSent(Protocol):
    """A transport with bookkeeping of its own for a sent message (Matrix: the choices behind it), written
    by the outbox in the transaction that marks the message sent: one commit per send, not two."""

    def record_sent(self, session: Session, message: OutgoingMessage, external_id: str | None) -> None: ...


class Unreachable(Exception):
    """A channel's network (or its server) does not answer at start-up: the runner tries again later."""


class ChannelFailed(Exception):
    """A channel cannot start for a reason waiting does not cure (a wrong token or password): one line, exit."""
