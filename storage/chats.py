"""Forgetting a chat: everything stored about one chat address, across the tables of every job.

Used when a chat is unlinked (a lost phone, a person who left, a case that closed): afterwards the chat
is a stranger that is asked for a code, with no state, no offered choices and no message waiting for it.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from storage.erase import erase
from storage.models import ConversationState, MatrixChoiceMessage, OutboxMessage, OutboxStatus
from storage.models.telegram import TelegramCallback


def withdraw_pending(session: Session, channel: str, address: str) -> int:
    """Messages for this address not handed to the network yet are withdrawn (with their files).

    Locked first (PostgreSQL): a message an outbox claim is taking at this moment is waited for and then,
    being on its way, no longer found here. Deleting it would let what follows (a goodbye) overtake it, since
    a chat's next message waits only for the ones still in the outbox."""
    rows = session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == channel, OutboxMessage.address == address,
        OutboxMessage.status == OutboxStatus.PENDING).with_for_update(of=OutboxMessage)).all()
    for row in rows:
        session.delete(row)
    return len(rows)


def forget_chat(session: Session, channel: str, address: str, *, keep_state: bool = False) -> None:
    """The chat's conversation state, its offered choices and the buttons still on its screen.

    ``keep_state``: within the chat's own turn, whose state the engine saves at its end (it is reset there).
    """
    if not keep_state:
        session.execute(delete(ConversationState).where(ConversationState.channel == channel,
                                                        ConversationState.address == address))
    # Delivered messages whose text the privacy purge already deleted were kept for the linked chat only;
    # the rest go when their text does (conversations.privacy.purge.tidy_outbox, which reads no blanked row).
    erase(session, OutboxMessage.__table__, and_(OutboxMessage.channel == channel, OutboxMessage.address == address,
                                                 OutboxMessage.blanked_at.is_not(None)), Counter())
    # Buttons already shown: a press must not reach the engine as the payload it once meant.
    if channel == "telegram":
        session.execute(delete(TelegramCallback).where(TelegramCallback.address == address))
    elif channel == "matrix":
        session.execute(delete(MatrixChoiceMessage).where(MatrixChoiceMessage.address == address))
