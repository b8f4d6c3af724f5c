"""Unlinking chats.

An unlinked chat gets one neutral line and nothing more: messages still waiting for it are withdrawn,
its conversation state, offered choices and buttons are forgotten, and it is a stranger from then on
(asked for a code). The line names nobody and nothing, because the phone may be in someone else's hands.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.context import audit
from conversations.i18n import translator
from conversations.messages import Reply
from conversations.outbox import Person, enqueue
from storage.chats import forget_chat, withdraw_pending
from storage.models import ChatIdentity, FamilyMember


def chats_of(session: Session, person: Person, channel: str | None = None) -> list[ChatIdentity]:
    """Every chat linked to the person (also those that blocked the bot), optionally on one network."""
    column = ChatIdentity.member_id if isinstance(person, FamilyMember) else ChatIdentity.staff_id
    query = select(ChatIdentity).where(column == person.id).order_by(ChatIdentity.id)
    if channel:
        query = query.where(ChatIdentity.channel == channel)
    return list(session.scalars(query))


def neutral_line(language: str) -> Reply:
    return Reply(translator(language).gettext(
        "This chat is no longer linked to Wegbegleiter. No more messages will come here."))


def unlink(session: Session, chat: ChatIdentity, *, now: datetime, actor: str, reason: str,
           farewell: Reply | None = None) -> None:
    """Unlink one chat now: withdraw what waits for it, send ``farewell`` (default: the neutral line)
    as the very last message, and forget the chat's state and buttons."""
    person = chat.member or chat.staff
    language = person.language if person else "de"
    channel, address = chat.channel, chat.address
    withdraw_pending(session, channel, address)
    audit(session, at=now, actor=actor, action="chat.unlinked", object_type="chat_identity", object_id=chat.id,
          case_id=chat.member.case_id if chat.member else None, channel=channel, reason=reason)
    session.delete(chat)
    session.flush()
    forget_chat(session, channel, address)
    if chat.blocked_at is None:  # a chat that blocked the bot cannot be written to anyway
        enqueue(session, channel=channel, address=address, reply=farewell or neutral_line(language), now=now,
                language=language, kind="access.unlinked")


def unlink_all(session: Session, person: Person, *, now: datetime, actor: str, reason: str,
               channel: str | None = None) -> int:
    chats = chats_of(session, person, channel)
    for chat in chats:
        unlink(session, chat, now=now, actor=actor, reason=reason)
    return len(chats)
