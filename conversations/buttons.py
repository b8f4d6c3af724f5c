"""Single-use button tokens: what a pressed button means stays on our side.

A network whose buttons carry data back to us (Telegram's inline keyboards) gets only an opaque random
token per button. The tokens are written with their outbox message, in the same transaction (a turn's
replies and their buttons commit together), and a press is redeemed inside the turn it starts: taking
the payload, the turn and the new buttons are one transaction. Using one button of a keyboard uses up
the whole keyboard, so an old list cannot be answered twice.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from storage.models import OutboxMessage
from storage.models.telegram import TelegramCallback

log = logging.getLogger(__name__)

CHANNELS = frozenset({"telegram"})  # networks whose buttons send a token back
TOKEN_LENGTH = 43  # what Telegram's 64 bytes of callback data can take of token_urlsafe(32)


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 bits


# Built once: a turn writes the tokens of its reply's buttons, a press redeems one.
WRITE = insert(TelegramCallback.__table__)
_CALLBACK = TelegramCallback.__table__.c
REDEEM = (update(TelegramCallback.__table__)
          .where(_CALLBACK.outbox_id == select(_CALLBACK.outbox_id)
                 .where(_CALLBACK.token == bindparam("pressed"), _CALLBACK.address == bindparam("chat_address"))
                 .scalar_subquery(),
                 _CALLBACK.used_at.is_(None))
          .values(used_at=bindparam("now"), used_by_event=bindparam("event"))
          .returning(_CALLBACK.token, _CALLBACK.payload))


def issue(session: Session, message: OutboxMessage, now: datetime) -> None:
    """Tokens for each choice of a message just added to the outbox (its id is filled in at the flush)."""
    session.add_all(
        TelegramCallback(token=new_token(), address=message.address, outbox=message, position=i,
                         payload=choice["payload"], created_at=now)
        for i, choice in enumerate(message.choices)
    )


def issue_for(connection: Connection, outbox_id: int, address: str, choices: Sequence[dict[str, str]],
              now: datetime) -> None:
    """:func:`issue` for a message already written (conversations.outbox.write_reply): one INSERT."""
    connection.execute(WRITE, [{"token": new_token(), "address": address, "outbox_id": outbox_id, "position": i,
                                "payload": choice["payload"], "created_at": now}
                               for i, choice in enumerate(choices)])


def redeem(session: Session, address: str, token: str, event_id: str, now: datetime) -> str | None:
    """The payload of a pressed button, once; None for an unknown, foreign or used token.

    Within the turn's transaction: if the turn fails, the button is not used up and the press can come again.
    One statement: the whole keyboard the token belongs to is used up, and the pressed button's payload
    comes back only if it was still unused.
    """
    token = token[:TOKEN_LENGTH]
    used = session.connection().execute(REDEEM, {"pressed": token, "chat_address": address, "now": now,
                                                 "event": event_id}).all() if token else []
    payload = next((payload for used_token, payload in used if used_token == token), None)
    if payload is None:
        log.info("refused an unknown, foreign or used button token in chat %s", address)
    return payload
