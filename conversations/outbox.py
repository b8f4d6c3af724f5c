"""Writing to the outbox: the only way anything leaves the conversation core.

Rows are added to the caller's session, so they commit (or roll back) with the state change that
caused them. The channel senders in :mod:`bot.outbox` deliver them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from conversations import address, buttons
from conversations.choices import distinct
from conversations.i18n import Translator, translator
from conversations.messages import Choice, Reply
from storage.models import (
    ChatIdentity,
    ConversationState,
    FamilyMember,
    OutboxAttachment,
    OutboxMessage,
    StaffMember,
)

Person = FamilyMember | StaffMember
OPEN_QUESTION = update(ConversationState).where(ConversationState.channel == bindparam("chat_channel"),
                                                ConversationState.address == bindparam("chat_address"))
Render = Callable[[Translator], Reply]
WRITE_MESSAGE = insert(OutboxMessage.__table__)  # built once (see write_reply)
WRITE_ATTACHMENT = insert(OutboxAttachment.__table__)


def enqueue(
    session: Session,
    *,
    channel: str,
    address: str,
    reply: Reply,
    now: datetime,
    language: str,
    identity_id: int | None = None,
    kind: str = "reply",
    dedupe_key: str | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
    subject: str | None = None,
    replaces: str | None = None,
) -> OutboxMessage | None:
    """Add one message to the outbox. Returns None when ``dedupe_key`` was used before."""
    if dedupe_key is not None and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    message = OutboxMessage(
        **_row(channel=channel, address=address, reply=reply, now=now, language=language, identity_id=identity_id,
               kind=kind, subject=subject, urgent=urgent, dedupe_key=dedupe_key, replaces=replaces,
               not_before=not_before),
        attachments=[
            OutboxAttachment(filename=a.filename, mime_type=a.mime_type, data=a.data) for a in reply.attachments
        ],
    )
    session.add(message)
    if channel in buttons.CHANNELS and message.choices:
        buttons.issue(session, message, now)  # committed with the message: no write when it is sent
    return message


def write_reply(session: Session, *, channel: str, address: str, reply: Reply, now: datetime, language: str,
                identity_id: int | None = None, replaces: str | None = None) -> int:
    """:func:`enqueue` for a turn's own reply, written at once past the ORM; returns the message's id.

    Every turn writes its replies and their buttons' tokens; as ORM objects that was most of the turn's
    flush. Here: one INSERT for the message, one for its tokens, one for its files (if any), on the
    session's connection. What the ORM still holds is flushed first, so a message a flow wrote in this
    turn (a notice to another chat of the same person) keeps its place before the reply, as before.
    """
    session.flush()
    connection = session.connection()
    row = _row(channel=channel, address=address, reply=reply, now=now, language=language, identity_id=identity_id,
               kind=reply.kind, replaces=replaces)
    outbox_id = connection.execute(WRITE_MESSAGE, row).inserted_primary_key[0]
    if reply.attachments:
        connection.execute(WRITE_ATTACHMENT, [{"outbox_id": outbox_id, "filename": a.filename,
                                               "mime_type": a.mime_type, "data": a.data} for a in reply.attachments])
    if channel in buttons.CHANNELS and row["choices"]:
        buttons.issue_for(connection, outbox_id, address, row["choices"], now)
    return outbox_id


def _row(*, channel: str, address: str, reply: Reply, now: datetime, language: str, identity_id: int | None,
         kind: str, subject: str | None = None, urgent: bool = False, dedupe_key: str | None = None,
         replaces: str | None = None, not_before: datetime | None = None) -> dict[str, Any]:
    """An outbox row's columns, as :func:`enqueue` and :func:`write_reply` both write them."""
    return {
        "channel": channel, "address": address, "identity_id": identity_id, "kind": kind, "subject": subject,
        "text": translator(language).display(reply.text),  # right-to-left languages get bidi isolates
        "choices": [{"label": c.label, "payload": c.payload} for c in distinct(reply.choices)],
        "language": language, "urgent": urgent, "dedupe_key": dedupe_key, "replaces": replaces,
        "next_attempt_at": max(now, not_before) if not_before else now, "created_at": now,
    }


class OutgoingChoices(Protocol):
    """A message on its way (bot.channels.base.OutgoingMessage): where it goes and what it offers."""

    channel: str
    address: str
    choices: Sequence[Choice]


def remember_open_question(session: Session, message: OutgoingChoices) -> None:
    """A message with options reached the person: its options are now the chat's open question.

    Called when the message is delivered (not when it is written), so the open question is always the
    newest list on the person's screen: a reminder that waited for the end of quiet hours counts from
    when it arrives, a reply that could not be delivered never counts, and two messages count in the
    order they arrived. (A turn that offers nothing clears it when it commits: see the engine.) Only the
    chat's own state row is touched, one UPDATE; a chat without a state has had no turn to answer in.
    """
    if not message.choices or message.channel == "email":
        return
    # After every delivery: a statement built once, run on the connection past the ORM (which has no
    # state row of this chat to keep in step in the caller's session).
    session.connection().execute(OPEN_QUESTION, {
        "chat_channel": message.channel, "chat_address": message.address,
        "open_choices": [{"label": c.label, "payload": c.payload} for c in message.choices]})


def chats_of(session: Session, person: Person) -> list[ChatIdentity]:
    column = ChatIdentity.member_id if isinstance(person, FamilyMember) else ChatIdentity.staff_id
    return list(
        session.scalars(
            select(ChatIdentity).where(column == person.id, ChatIdentity.blocked_at.is_(None)).order_by(ChatIdentity.id)
        )
    )


def still_to_notify(session: Session, wanted: Iterable[tuple[Person, str]], *,
                    email: bool | None = None) -> list[tuple[Person, str]]:
    """The (person, ``dedupe_key``) pairs of ``wanted`` for which :func:`notify` would still write something.

    A periodic scan asks this for all it found due at once: two queries (the people's chats, the keys
    already written), instead of two or three per person and scan while nothing new is due.
    """
    wanted = list(wanted)
    members = {p.id for p, _key in wanted if isinstance(p, FamilyMember)}
    staff = {p.id for p, _key in wanted if isinstance(p, StaffMember)}
    chats: dict[tuple[str, int], list[ChatIdentity]] = {}
    for column, ids, kind in ((ChatIdentity.member_id, members, "m"), (ChatIdentity.staff_id, staff, "s")):
        for chunk in _chunks(sorted(ids)):
            for chat in session.scalars(select(ChatIdentity).where(column.in_(chunk), ChatIdentity.blocked_at.is_(None))
                                        .order_by(ChatIdentity.id)):
                chats.setdefault((kind, chat.member_id if kind == "m" else chat.staff_id), []).append(chat)
    keys: dict[int, list[str]] = {}
    for i, (person, key) in enumerate(wanted):
        if isinstance(person, StaffMember) and not person.active:
            continue
        own = chats.get(("m" if isinstance(person, FamilyMember) else "s", person.id), [])
        full = [f"{key}:{chat.channel}:{chat.address}" for chat in own]
        if (email or (email is None and not own)) and person.email:
            full.append(f"{key}:email:{person.email}")
        if full:
            keys[i] = full
    written: set[str] = set()
    for chunk in _chunks(sorted({k for full in keys.values() for k in full})):
        written.update(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))))
    return [wanted[i] for i, full in keys.items() if not written.issuperset(full)]


def _chunks(items: list, size: int = 500) -> Iterable[list]:  # type: ignore[type-arg]
    for start in range(0, len(items), size):
        yield items[start:start + size]


def notify(
    session: Session,
    person: Person,
    render: Render,
    *,
    now: datetime,
    kind: str,
    dedupe_key: str | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
    email: bool | None = None,
    subject: Callable[[Translator], str] | None = None,
) -> list[OutboxMessage]:
    """Tell a person something outside a conversation, in their language, on every chat they linked.

    ``email``: None sends email only to people without a linked chat; True sends it as well.
    ``dedupe_key`` makes the notification a job that can exist only once (per chat).
    A staff member who left the Träger (not ``active``) gets nothing, by no way.
    """
    if isinstance(person, StaffMember) and not person.active:
        return []
    tr = address.translator_for(person, now)  # du for a young person
    reply = render(tr)
    written: list[OutboxMessage] = []
    chats = chats_of(session, person)
    for chat in chats:
        key = f"{dedupe_key}:{chat.channel}:{chat.address}" if dedupe_key else None
        msg = enqueue(
            session, channel=chat.channel, address=chat.address, reply=reply, now=now, language=tr.lang,
            identity_id=chat.id, kind=kind, dedupe_key=key, urgent=urgent, not_before=not_before,
        )
        if msg:
            written.append(msg)
    wants_email = email if email is not None else not written and not chats
    if wants_email and person.email:
        key = f"{dedupe_key}:email:{person.email}" if dedupe_key else None
        msg = enqueue(
            session, channel="email", address=person.email, reply=reply, now=now, language=tr.lang,
            kind=kind, dedupe_key=key, urgent=urgent, not_before=not_before,
            subject=subject(tr) if subject else None,
        )
        if msg:
            written.append(msg)
    return written


def notify_all(session: Session, people: Iterable[Person], render: Render, **kwargs: object) -> list[OutboxMessage]:
    written: list[OutboxMessage] = []
    for person in people:
        written += notify(session, person, render, **kwargs)  # type: ignore[arg-type]
    return written
