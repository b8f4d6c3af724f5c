"""The message model: the seam between chat networks and conversations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Choice:
    """An answer offered as a button (Telegram) or a numbered option (Matrix, console).

    ``payload`` is what the flow receives when the choice is taken; it never leaves the server
    as trusted data (Telegram sees an opaque token, Matrix and the console a number).
    """

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    mime_type: str
    data: bytes

    @property
    def kind(self) -> str:
        """``image``, ``audio`` (voice notes), or ``file``."""
        major = self.mime_type.split("/", 1)[0]
        return major if major in ("image", "audio") else "file"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did in a chat: wrote text, pressed a choice, or sent a file."""

    channel: str  # "telegram", "matrix", "console", ...
    address: str  # the chat on that channel (Telegram chat id, Matrix room id, console name)
    event_id: str  # the channel's id for this event, for processing it once
    received_at: datetime
    text: str = ""
    payload: str | None = None  # the payload of a pressed choice, already resolved by the channel
    # Or the single-use token of a pressed button, redeemed by the engine in the turn's own transaction
    # (conversations.buttons); a token that is unknown or used up refuses the press (TurnResult.refused).
    button: str | None = None
    pressed_message: str | None = None  # the network's id of the message whose button was pressed
    attachments: tuple[Attachment, ...] = ()
    sender_name: str | None = None  # as the network shows it; never used for identity
    # The language the network reports for the person (Telegram's language_code, e.g. "tr" or "de-AT"): the
    # greeting's language before a code is typed and a language chosen, if it is offered. Only a hint.
    language: str | None = None


@dataclass(slots=True)
class Reply:
    """A message for one person, in their language, rendered by the channel that carries it."""

    text: str
    choices: list[Choice] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    kind: str = "reply"  # what the outbox records it as (e.g. "complaint.show": its files are removed once sent)
