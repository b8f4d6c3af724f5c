"""Delivering the outbox: per channel, paced, retried, in order within each chat, exactly once marked.

A message is claimed (status ``sending`` with a lease and the claiming instance's id) before it is
handed to the network; on PostgreSQL the claim skips rows another instance is claiming at that moment
(``FOR UPDATE SKIP LOCKED``), so instances neither wait for each other nor take a message twice. If the
process dies while a message is out, its claims are taken back as soon as that is known: at the next
start, or by another running instance within seconds (each instance holds an advisory lock on its
own id while it lives, :mod:`storage.locks`); the lease is the last resort. A possible duplicate is
better than a lost reminder (and Matrix and email de-duplicate by the message's id). Within a chat the
oldest undelivered message goes first; a message waiting for a retry holds back the ones after it, a
message waiting for the end of quiet hours does not. When a message is sent and more of its chat's are
due, the next one is claimed with the sent mark and goes at once. A failed send is retried within seconds
first, then less and less often. Where a network shows numbered text (Matrix), a turn's replies are joined
into one message: one notification on the person's phone, one send and one sent mark instead of two or three.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    Select,
    Update,
    bindparam,
    cast,
    distinct,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate

from bot.channels.base import (
    OutgoingMessage,
    PermanentFailure,
    RecipientGone,
    RecordsSent,
    RetryLater,
    TemporaryFailure,
    Transport,
)
from bot.ratelimit import ArrivalWindow, TokenBucket
from conversations.clock import Clock
from conversations.messages import Attachment, Choice
from conversations.outbox import remember_open_question
from storage import locks
from storage.models import ChatIdentity, OutboxAttachment, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
# Seconds to wait after the 1st, 2nd, ... failed attempt: a glitch costs the chat a second, not minutes;
# an outage is tried for about 20 minutes before the message counts as failed.
RETRY_AFTER = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
MAX_BACKOFF = RETRY_AFTER[-1]
JOIN_AT_MOST = 4  # replies of one turn joined into one message (a turn writes two or three)
SWEEP_EVERY = 5.0  # seconds between looks for claims of instances that died (one small query)
SHARE_EVERY = 1.0  # seconds between counts of the instances sending side by side (one small query each)
# After every send, so built once and run on the session's connection without loading the message: on
# SQLite, building the statement and the ORM's bookkeeping cost several times what running it does.
FINISH = (
    update(OutboxMessage).where(OutboxMessage.id == bindparam("message"))
    .values(status=bindparam("status"), claimed_by=None, attempts=OutboxMessage.attempts + 1,
            external_id=bindparam("external_id"), last_error=bindparam("error"),
            sent_at=func.coalesce(bindparam("sent", type_=OutboxMessage.sent_at.type), OutboxMessage.sent_at))
    .returning(OutboxMessage.identity_id)
)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=RETRY_AFTER[min(max(attempts, 1), len(RETRY_AFTER)) - 1])


def release_dead_claims(sessions: sessionmaker[Session], now: datetime) -> int:
    """Messages claimed by an instance that no longer runs go back to the queue now (not after the lease).

    SQLite serves one instance, so there every claim but this process's own is a dead one's. On PostgreSQL
    an instance is alive while it holds its advisory lock. Claims without an owner (written before owners
    were recorded) wait for their lease."""
    with sessions.begin() as session:
        bind = session.get_bind()
        if locks.is_postgres(session):
            locks.announce_instance(bind, check=True)  # (again, if its connection was lost)
        owners = session.scalars(select(distinct(OutboxMessage.claimed_by)).where(
            OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_by.is_not(None),
            OutboxMessage.claimed_by != locks.INSTANCE_ID)).all()
        released = 0
        for owner in owners:
            if locks.is_postgres(session) and locks.instance_alive(session.connection(), owner):
                continue
            released += session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_by == owner)
                .values(status=OutboxStatus.PENDING, claimed_by=None, next_attempt_at=now)  # due at once
            ).rowcount  # type: ignore[attr-defined]
        if released:
            log.info("took back %s outbox messages claimed by instances that stopped", released)
        return released


@dataclass(frozen=True)
class ClaimStatements:
    """A channel's claim, built once: it runs after every turn and twice a second, and building its five
    statements cost about as much as running them on SQLite. Parameters: ``now``, ``limit``, ``ids``,
    ``addresses``, ``lease_end``, ``instance``. (``oldest_due_in_chats``: the same as ``oldest_due`` for
    the chats whose message was just sent, ``addresses``.)"""

    stale: Update
    oldest_due: Select[tuple[int, int]]
    oldest_due_in_chats: Select[tuple[int, int]]
    candidates: Select[tuple[int, str, str, str, list[dict[str, str]], str, str, str | None, bool, str | None, bool,
                             datetime]]
    followers: Select[tuple[int, str, str, list[dict[str, str]], bool, str | None, bool, datetime]]
    first_in_line: Select[tuple[str, int]]
    take: ReturningUpdate[tuple[int]]
    attachments: Select[tuple[int, str, str, bytes]]

    @classmethod
    def build(cls, channel: str, address_filter: str | None) -> ClaimStatements:
        now = bindparam("now", type_=OutboxMessage.next_attempt_at.type)
        ids = bindparam("ids", expanding=True)
        message, attachment = OutboxMessage.__table__.c, OutboxAttachment.__table__.c
        due_per_chat = (select(func.min(OutboxMessage.id), func.count())
                        .where(OutboxMessage.channel == channel, OutboxMessage.status == OutboxStatus.PENDING,
                               OutboxMessage.next_attempt_at <= now)
                        .group_by(OutboxMessage.address))
        return cls(
            stale=update(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.status == OutboxStatus.SENDING,
                   OutboxMessage.next_attempt_at < now)
            .values(status=OutboxStatus.PENDING, claimed_by=None),
            oldest_due=due_per_chat  # per chat: many due messages take one place
            .where(OutboxMessage.address == address_filter if address_filter else true())
            .order_by(func.max(cast(OutboxMessage.urgent, Integer)).desc(), func.min(OutboxMessage.id))
            .limit(bindparam("limit", type_=Integer)),
            oldest_due_in_chats=due_per_chat.where(OutboxMessage.address.in_(bindparam("addresses", expanding=True))),
            # Plain rows, not ORM objects: nothing here is changed through them, and loading objects (and
            # their attachments through a loader option) cost more than the queries.
            candidates=select(message.id, message.channel, message.address, message.text, message.choices,
                              message.language, message.kind, message.subject, message.urgent, message.replaces,
                              exists().where(attachment.outbox_id == message.id).label("has_attachments"),
                              message.created_at)
            .where(message.id.in_(ids))
            .order_by(message.urgent.desc(), message.id)
            .with_for_update(skip_locked=True, of=message),  # PostgreSQL: another instance's claim
            # The chats' due messages behind the ones claimed, to be joined with them (ix_outbox_waiting).
            followers=select(message.id, message.address, message.text, message.choices, message.urgent,
                             message.replaces, exists().where(attachment.outbox_id == message.id).label("has_attachments"),
                             message.created_at)
            .where(message.channel == channel, message.address.in_(bindparam("addresses", expanding=True)),
                   message.status == OutboxStatus.PENDING, message.next_attempt_at <= now)
            .order_by(message.address, message.id),
            first_in_line=select(OutboxMessage.address, func.min(OutboxMessage.id))
            .where(OutboxMessage.channel == channel,
                   OutboxMessage.address.in_(bindparam("addresses", expanding=True)),
                   OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),  # ix_outbox_chat
                   or_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.attempts > 0,
                       OutboxMessage.next_attempt_at <= now))
            .group_by(OutboxMessage.address),
            take=update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, next_attempt_at=bindparam("lease_end"),
                    claimed_by=bindparam("instance"))
            .returning(OutboxMessage.id),
            attachments=select(attachment.outbox_id, attachment.filename, attachment.mime_type, attachment.data)
            .where(attachment.outbox_id.in_(ids)).order_by(attachment.id),  # of the messages taken, in one query
        )


class Outcome(NamedTuple):
    """How one send ended, to be written to its outbox row."""

    message: OutgoingMessage
    status: str
    external_id: str | None
    error: str | None


class ChannelSender:
    """Delivers one channel's messages with that network's pacing."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, transport: Transport,
                 concurrency: int = 16, address_filter: str | None = None) -> None:
        self.sessions = sessions
        self.address_filter = address_filter  # the console delivers only to the person at the terminal
        self.clock = clock
        self.transport = transport
        limits = transport.limits
        # To the network's limit itself, as its server counts (not a bucket run below it): bot/ratelimit.py.
        self.overall = ArrivalWindow(max(1, int(limits.per_second)), spacing=0.5 / limits.per_second) \
            if limits.per_second else None
        self.under_way: set[asyncio.Future[None]] = set()  # sends of earlier claims still being paced out
        self.per_chat: dict[str, TokenBucket] = {}
        self.paused_until = 0.0  # after a network-wide 429
        self.concurrency = asyncio.Semaphore(concurrency)
        self.statements = ClaimStatements.build(transport.channel, address_filter)
        self.share: locks.Share | None = None  # (the running dispatcher's: see take_share)
        self.outcomes: list[tuple[Outcome, asyncio.Future[None]]] = []  # sent, not yet written (_record)
        self.writer: asyncio.Future[None] | None = None
        # A transport may read what its sends need in the claim's transaction, for the whole batch
        # (Telegram: the buttons' tokens, whether a reply takes the pressed message's place).
        self.prepare: Callable[[Session, list[OutgoingMessage]], None] | None = getattr(
            transport, "prepare_claimed", None)
        # (asked once: a protocol check costs more than a send's UPDATE)
        self.records_sent = transport if isinstance(transport, RecordsSent) else None
        self.joins = bool(getattr(transport, "joins_replies", False))  # see _join
        self.more_may_be_due = False  # after the last round (see deliver_due)
        self.stale_checked: datetime | None = None  # when the claim last looked for leases run out
        self.chat_freed: Callable[[], None] | None = None  # the dispatcher's poke

    def take_share(self) -> None:
        """Several instances on one PostgreSQL send to the same network side by side, each claiming from the
        one outbox: each paces to its share of the network's limit, so that together they keep it (two
        instances sending to Telegram: 15/s each). The running dispatcher looks again every second, so an
        instance that starts or stops changes the others' share within about a second; one that stands by
        (Matrix in an instance that does not sync) takes no share."""
        if self.overall is None:
            return
        if self.share is None:
            with self.sessions() as session:
                self.share = locks.Share(session.get_bind(), f"send:{self.transport.channel}")
        if getattr(self.transport, "active", True):
            self.share.join()
        else:
            self.share.leave()
        senders = self.share.holders()
        count = max(1, int(self.transport.limits.per_second or 1) // senders)
        if count != self.overall.count:
            log.info("sending to %s at up to %s messages/s (%s instances send side by side)",
                     self.transport.channel, count, senders)
            self.overall.resize(count)

    def leave_share(self) -> None:
        if self.share is not None:
            self.share.leave()

    # --- selection and claiming ---------------------------------------------------------------
    def _claim_due(self, limit: int) -> list[OutgoingMessage]:
        now = self.clock.now()
        with self.sessions.begin() as session:
            if locks.is_postgres(session):
                locks.announce_instance(session.get_bind())  # before the first claim: others see us alive
            claim = self.statements
            connection = session.connection()
            # A stale lease means the process died mid-send: hand the message out again (looked for every few
            # seconds, not at every claim: a lease is minutes). (The UPDATEs here run on the connection,
            # past the ORM's bookkeeping for them: nothing they change is loaded.)
            if self.stale_checked is None or now - self.stale_checked >= timedelta(seconds=SWEEP_EVERY):
                connection.execute(claim.stale, {"now": now})
                self.stale_checked = now
            # Due messages, oldest first; then, for their chats at once, the first message still in line
            # (sending, retrying, or due): only that one may go, so a chat's messages keep their order.
            # Two index-driven queries whatever the statistics say (a burst just written is not analysed
            # yet); a self-join here was planned as a loop over every waiting message per message.
            due = connection.execute(claim.oldest_due, {"now": now, "limit": limit}).tuples().all()
            return self._claim(session, due, now)

    def _claim(self, session: Session, due: list[tuple[int, int]], now: datetime) -> list[OutgoingMessage]:
        """Claim, of each chat's oldest due message (with how many of the chat's messages are due), those that
        are first in their chat's line and whose chat may be sent to now."""
        claim, connection = self.statements, session.connection()
        oldest_due = [first for first, _count in due]
        followed = {first for first, count in due if count > 1}
        candidates = connection.execute(claim.candidates, {"ids": oldest_due}).all() if oldest_due else []
        first_in_line: dict[str, int] = {}
        addresses = sorted({row.address for row in candidates})
        for start in range(0, len(addresses), 500):
            first_in_line.update(connection.execute(
                claim.first_in_line, {"addresses": addresses[start:start + 500], "now": now}).tuples().all())
        rows = [row for row in candidates if first_in_line.get(row.address) == row.id]
        wanted = [row for row in rows if self._chat_may_send(row.address)]
        taken = set(connection.execute(claim.take, {
            "ids": [row.id for row in wanted], "lease_end": now + LEASE, "instance": locks.INSTANCE_ID,
        }).scalars()) if wanted else set()
        groups = self._join(connection, [row for row in wanted if row.id in taken and row.id in followed], now) \
            if self.joins else {}
        attachments: dict[int, list[Attachment]] = {}
        sending = [row for row in wanted if row.id in taken] + [row for group in groups.values() for row in group]
        with_files = sorted(row.id for row in sending if row.has_attachments)
        if with_files:
            for outbox_id, filename, mime_type, data in connection.execute(claim.attachments, {"ids": with_files}):
                attachments.setdefault(outbox_id, []).append(Attachment(filename, mime_type, data))
        due_count = dict(due)
        claimed = [self._outgoing(row, attachments, due_count[row.id], groups.get(row.id, []))
                   for row in wanted if row.id in taken]
        if claimed and self.prepare is not None:
            self.prepare(session, claimed)
        return claimed

    def _chat_may_send(self, address: str) -> bool:
        rate = self.transport.limits.per_chat_per_second
        if not rate:
            return True
        bucket = self.per_chat.get(address)
        if bucket is None:
            if len(self.per_chat) > 50_000:
                self.per_chat.clear()  # buckets refill in seconds; forgetting them is harmless
            bucket = self.per_chat[address] = TokenBucket(rate, self.transport.limits.per_chat_burst)
        return bucket.try_take()

    def _join(self, connection: Any, firsts: list[Row[Any]], now: datetime) -> dict[int, list[Row[Any]]]:
        """The replies written with each claimed message (the same turn, so the same moment), to go with it
        as one message, in their order: up to one that offers options or files, which ends the message
        (its numbers must be the last ones shown, its files follow the text). Claimed here, with the first.

        Only for a network that shows options as numbered text (Matrix): a message there is a notification
        on the person's phone, and "Gut, ich schreibe ab jetzt auf Deutsch." and the menu are one answer. (Telegram
        keeps them apart: its buttons belong to one message, and the first reply may replace the pressed one.)
        """
        if not firsts:
            return {}
        behind: dict[str, list[Row[Any]]] = {}
        for row in connection.execute(self.statements.followers, {
                "addresses": sorted({first.address for first in firsts}), "now": now}):
            behind.setdefault(row.address, []).append(row)
        groups: dict[int, list[Row[Any]]] = {}
        for first in firsts:
            group, last = [], first
            for row in behind.get(first.address, []):
                if row.id <= first.id:
                    continue
                if (len(group) + 1 >= JOIN_AT_MOST or last.choices or last.has_attachments or row.replaces
                        or row.created_at != first.created_at or row.urgent != first.urgent):
                    break
                group.append(row)
                last = row
            if group:
                groups[first.id] = group
        wanted = [row.id for group in groups.values() for row in group]
        taken = set(connection.execute(self.statements.take, {
            "ids": wanted, "lease_end": now + LEASE, "instance": locks.INSTANCE_ID}).scalars()) if wanted else set()
        # (On PostgreSQL another instance may hold one of them: the message then ends before it.)
        return {first: rows[:next((i for i, r in enumerate(rows) if r.id not in taken), len(rows))]
                for first, rows in groups.items() if rows[0].id in taken}

    @staticmethod
    def _outgoing(row: Row[Any], attachments: dict[int, list[Attachment]], due: int,
                  group: list[Row[Any]]) -> OutgoingMessage:
        last = group[-1] if group else row
        return OutgoingMessage(
            id=row.id, channel=row.channel, address=row.address, text="\n\n".join([row.text, *(r.text for r in group)]),
            choices=[Choice(c["label"], c["payload"]) for c in last.choices or []],
            attachments=attachments.get(last.id, []),
            language=row.language, kind=row.kind, subject=row.subject, urgent=row.urgent, replaces=row.replaces,
            followed=due > 1 + len(group), joined=tuple(r.id for r in group),
        )

    # --- sending ------------------------------------------------------------------------------
    async def deliver_due(self, limit: int = 500, overlap: bool = False) -> int:
        """Send what is due now; returns how many messages were handed to the network.

        ``overlap`` (the running dispatcher): a paced channel returns when about a second's worth of its
        sends is left, so the next claim is made while they go out instead of in a gap after them.
        Without it (tests, shutdown) every claimed message has been sent when this returns.
        """
        self.more_may_be_due = False
        if not self._may_send_now():
            if not overlap:
                await self.settle()
            return 0
        if self.overall is not None:
            # A paced channel claims a few seconds' worth: a big claim only holds messages in
            # "sending" while pacing lets them out.
            limit = min(limit, max(1, int(self.overall.rate * 4)))
        batch = await asyncio.to_thread(self._claim_due, limit)
        self._send_claimed(batch)
        if overlap and self.overall is not None and batch:
            while len(self.under_way) > self.overall.rate:
                await asyncio.wait(self.under_way, return_when=asyncio.FIRST_COMPLETED)
        else:
            await self.settle()
        # A full claim left due messages behind; sends that are over let their chats' next messages go.
        # Otherwise the next claim would find nothing but this one's messages, still under way.
        self.more_may_be_due = len(batch) >= limit or bool(batch) and not self.under_way
        return len(batch)

    def _may_send_now(self) -> bool:
        """Not while the network asks us to wait (a 429), nor in an instance that stands by (Matrix: another
        one syncs and sends)."""
        return asyncio.get_running_loop().time() >= self.paused_until and getattr(self.transport, "active", True)

    def _send_claimed(self, messages: list[OutgoingMessage]) -> None:
        sends = [asyncio.ensure_future(self._deliver(message)) for message in messages]
        self.under_way.update(sends)
        for send in sends:
            send.add_done_callback(self.under_way.discard)

    async def settle(self) -> None:
        """Wait for every send under way."""
        while self.under_way:
            await asyncio.gather(*list(self.under_way), return_exceptions=True)

    async def _deliver(self, message: OutgoingMessage) -> None:
        async with self.concurrency:
            try:
                external_id = await self._paced_send(message)
            except RetryLater as exc:
                self.paused_until = asyncio.get_running_loop().time() + exc.seconds
                await asyncio.to_thread(self._retry, message, timedelta(seconds=exc.seconds), str(exc), False)
            except TemporaryFailure as exc:
                await asyncio.to_thread(self._retry, message, None, str(exc), True)
            except RecipientGone as exc:
                await self._record(Outcome(message, OutboxStatus.BLOCKED, None, str(exc)))
            except PermanentFailure as exc:
                await self._record(Outcome(message, OutboxStatus.FAILED, None, str(exc)))
            except Exception as exc:  # a bug in a transport must not stop delivery for everyone
                log.exception("transport %s failed on message %s", message.channel, message.id)
                await asyncio.to_thread(self._retry, message, None, repr(exc), True)
            else:
                await self._record(Outcome(message, OutboxStatus.SENT, external_id, None))

    async def _record(self, outcome: Outcome) -> None:
        """Write a send's outcome; returns when it is committed. Sends that end while an earlier outcome is
        being written are written together, in one transaction: sends claimed together end together, and
        their sessions and commits cost more than their UPDATEs (after every send, a third of the outbox's
        CPU). A lone send waits for nobody."""
        written = asyncio.get_running_loop().create_future()
        self.outcomes.append((outcome, written))
        if self.writer is None:
            self.writer = asyncio.ensure_future(self._write_outcomes())
        await written

    async def _write_outcomes(self) -> None:
        try:
            while self.outcomes:
                batch, self.outcomes = self.outcomes, []
                following: list[OutgoingMessage] = []
                try:
                    following = await asyncio.to_thread(self._finish, [outcome for outcome, _written in batch],
                                                        self._may_send_now())
                    failed: list[BaseException | None] = [None] * len(batch)
                except Exception:  # one bad row must not keep the others "sending" (they would go out again)
                    failed = []
                    for outcome, _written in batch:
                        try:
                            await asyncio.to_thread(self._finish, [outcome], False)
                            failed.append(None)
                        except Exception as exc:
                            failed.append(exc)
                for (_outcome, written), exc in zip(batch, failed, strict=True):
                    if written.done():  # the send was cancelled meanwhile (shutdown): written all the same
                        continue
                    if exc is None:
                        written.set_result(None)
                    else:
                        written.set_exception(exc)
                self._send_claimed(following)
                going = {message.address for message in following}
                if self.chat_freed is not None and any(
                        outcome.message.followed and outcome.message.address not in going
                        for (outcome, _w), exc in zip(batch, failed, strict=True) if exc is None):
                    self.chat_freed()  # the chat's next message may go now (if not yet due: at the next poll)
        except asyncio.CancelledError:  # stopping: as after a crash, the leases run out and they go again
            for _outcome, written in self.outcomes:
                written.cancel()
            self.outcomes = []
            raise
        finally:
            self.writer = None

    async def _paced_send(self, message: OutgoingMessage) -> str | None:
        if self.overall is None:
            return await self.transport.send(message)
        async with self.overall.sending():
            try:
                return await self.transport.send(message)
            except RetryLater as exc:  # "too many": the sends already claimed wait too, not only new claims
                self.overall.pause(exc.seconds)
                raise

    def _finish(self, outcomes: list[Outcome], chain: bool = False) -> list[OutgoingMessage]:
        """Record the outcomes in one transaction: plain UPDATEs of each row (and its chat's open question),
        nothing loaded. (One chat has one message out at a time, so no two of them concern one chat.)

        ``chain``: a sent message's chat had more due behind it (a turn's second reply): the chat's next
        message is claimed in the same transaction and returned, to go at once. Otherwise it waited for
        a claim of its own, a transaction and a delivery round more per message."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            for message, status, external_id, error in outcomes:
                identity_id = [session.connection().execute(FINISH, {
                    "message": ident, "status": status, "external_id": external_id, "error": error,
                    "sent": now if status == OutboxStatus.SENT else None}).one()[0]
                    for ident in (message.id, *message.joined)][0]
                if status == OutboxStatus.SENT:
                    remember_open_question(session, message)
                    if self.records_sent is not None:  # e.g. Matrix: the choices behind the message
                        self.records_sent.record_sent(session, message, external_id)
                if status == OutboxStatus.BLOCKED and identity_id:
                    session.execute(update(ChatIdentity).where(ChatIdentity.id == identity_id)
                                    .values(blocked_at=now))
                    log.info("chat %s/%s blocked the bot; not retried", message.channel, message.address)
            freed = sorted({outcome.message.address for outcome in outcomes
                            if outcome.status == OutboxStatus.SENT and outcome.message.followed})
            if not chain or not freed:
                return []
            due = session.connection().execute(self.statements.oldest_due_in_chats,
                                               {"now": now, "addresses": freed}).tuples().all()
            return self._claim(session, due, now) if due else []

    def _retry(self, message: OutgoingMessage, wait: timedelta | None, error: str, counts: bool) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = session.get(OutboxMessage, message.id)
            assert row is not None
            row.last_error = error
            row.claimed_by = None
            if message.joined:  # back in line behind it: they go with it again (or alone, if it is given up)
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message.joined))
                                .values(status=OutboxStatus.PENDING, claimed_by=None, next_attempt_at=now))
            if counts:
                row.attempts += 1
            if counts and row.attempts >= MAX_ATTEMPTS:
                row.status = OutboxStatus.FAILED
                log.error("giving up on message %s to %s after %s attempts: %s",
                          row.id, row.channel, row.attempts, error)
                return
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = now + (wait if wait is not None else backoff(row.attempts))


class Dispatcher:
    """All channel senders, polled until stopped."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, transports: Mapping[str, Transport]) -> None:
        self.senders = {name: ChannelSender(sessions, clock, t) for name, t in transports.items()}
        self.wakeup = asyncio.Event()
        for sender in self.senders.values():
            sender.chat_freed = self.poke

    async def deliver_due(self, overlap: bool = False) -> int:
        counts = await asyncio.gather(*(s.deliver_due(overlap=overlap) for s in self.senders.values()))
        return sum(counts)

    async def drain(self, rounds: int = 50) -> int:
        """Deliver until nothing is due (tests and the console use this instead of waiting)."""
        total = 0
        for _ in range(rounds):
            sent = await self.deliver_due()
            total += sent
            if not sent:
                break
        return total

    def poke(self) -> None:
        """New messages were written: look now instead of at the next poll."""
        self.wakeup.set()

    async def run(self, stop: asyncio.Event, poll: float = 0.5) -> None:
        loop = asyncio.get_running_loop()
        swept = shared = -SWEEP_EVERY
        while not stop.is_set():
            self.wakeup.clear()  # a poke from now on means new messages: this round may not see them
            try:
                if loop.time() - shared >= SHARE_EVERY:
                    shared = loop.time()
                    await asyncio.to_thread(self.take_shares)
                if loop.time() - swept >= SWEEP_EVERY and self.senders:
                    swept = loop.time()
                    sender = next(iter(self.senders.values()))
                    await asyncio.to_thread(release_dead_claims, sender.sessions, sender.clock.now())
                sent = await self.deliver_due(overlap=True)
            except Exception:
                log.exception("outbox delivery round failed; trying again")
                sent = 0
            # Again at once if more may be due (a poke meanwhile ends the wait at once, too): not after every
            # round that sent something, which cost a claim for nothing per reply on a paced channel.
            if sent and any(sender.more_may_be_due for sender in self.senders.values()):
                continue
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wakeup.wait())]
            _done, pending = await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        # Graceful stop: what is due now still goes out.
        try:
            await self.drain(rounds=5)
        finally:
            await asyncio.to_thread(self.leave_shares)

    def take_shares(self) -> None:
        for sender in self.senders.values():
            sender.take_share()

    def leave_shares(self) -> None:
        for sender in self.senders.values():
            sender.leave_share()


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {status: count for status, count in rows}


def next_due(session: Session) -> datetime | None:
    return session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.status == OutboxStatus.PENDING))
