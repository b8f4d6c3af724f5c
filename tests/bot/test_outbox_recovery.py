"""Nothing stuck: a failing message holds its chat for seconds, not minutes; a dead process's claims come
back at once; a slow answer from Telegram is waited for instead of being sent a second time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from bot.channels.base import TemporaryFailure
from bot.channels.telegram import SEND_TIMEOUT
from bot.outbox import LEASE, MAX_ATTEMPTS, ChannelSender, backoff, release_dead_claims
from conversations.messages import Incoming, Reply
from conversations.outbox import enqueue
from storage import locks
from storage.models import OutboxMessage, OutboxStatus
from tests.bot.test_telegram import AYSE, serving, standin, tg_app  # noqa: F401  (fixtures)
from tests.support.harness import CHANNEL, CollectingTransport


class Flaky(CollectingTransport):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def send(self, message):  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            raise TemporaryFailure("connection reset")
        return await super().send(message)


def deliver(app, transport) -> int:  # type: ignore[no-untyped-def]
    return asyncio.run(ChannelSender(app.sessions, app.services.clock, transport).deliver_due())


def test_a_failing_reply_is_tried_again_within_seconds(app, clock, codes):
    app.engine.handle(Incoming("test", "murat", "ev-1", clock.now(), text=codes["Murat"]))
    transport = Flaky(failures=3)
    waited = timedelta()
    while len(transport.sent) < 2:  # the greeting and the language question
        deliver(app, transport)
        clock.advance(timedelta(seconds=0.5))
        waited += timedelta(seconds=0.5)
    assert waited <= timedelta(seconds=5)  # three failures in a row cost the chat seconds (was 14 s)
    assert [m.text.split()[0] for m in transport.sent] == ["Hallo", "In"]


def test_an_outage_is_still_tried_for_a_quarter_of_an_hour_before_a_message_fails():
    assert sum((backoff(n) for n in range(1, MAX_ATTEMPTS)), timedelta()) >= timedelta(minutes=15)
    assert backoff(1) <= timedelta(seconds=1) and backoff(40) == timedelta(minutes=10)


def claim_as(app, owner: str) -> None:  # type: ignore[no-untyped-def]
    """Another process claimed every message and is sending them (the lease runs for two minutes)."""
    now = app.services.clock.now()
    with app.sessions.begin() as session:
        session.execute(update(OutboxMessage).values(status=OutboxStatus.SENDING, claimed_by=owner,
                                                     next_attempt_at=now + LEASE))


def test_a_claim_left_by_a_killed_process_is_taken_back_at_start_up_not_after_the_lease(app, clock, codes):
    app.engine.handle(Incoming("test", "murat", "ev-1", clock.now(), text=codes["Murat"]))
    claim_as(app, "elsewhere:4711:dead")  # that process was killed with kill -9 mid-send
    transport = CollectingTransport()
    assert deliver(app, transport) == 0
    assert release_dead_claims(app.sessions, clock.now()) == 2  # what `wegbegleiter run` does first
    deliver(app, transport)
    deliver(app, transport)
    assert [m.text.split()[0] for m in transport.sent] == ["Hallo", "In"]  # at once, in order


def test_a_claim_of_an_instance_that_still_runs_is_left_alone(app, clock, codes):
    if app.db.dialect.name != "postgresql":
        pytest.skip("several instances share PostgreSQL; SQLite serves one")
    app.engine.handle(Incoming("test", "murat", "ev-1", clock.now(), text=codes["Murat"]))
    other = locks.InstanceLock(app.db, "elsewhere:4712:alive")
    assert other.try_acquire()
    try:
        claim_as(app, "elsewhere:4712:alive")
        assert release_dead_claims(app.sessions, clock.now()) == 0
    finally:
        other.release()
    assert release_dead_claims(app.sessions, clock.now()) == 2  # it stopped: now they come back


async def test_a_slow_answer_from_telegram_is_waited_for_and_the_reply_arrives_once(tg_app, standin, clock):  # noqa: F811
    assert SEND_TIMEOUT >= 30  # Telegram's slow answers take seconds; giving up early sends twice
    standin.fail_next("sendMessage", 0, hang=1.5)  # answers, but slowly
    async with serving(tg_app, read_timeout=3):
        standin.say(AYSE, "hallo")
        await standin.wait_messages(AYSE, 1)
        await asyncio.sleep(0.5)
    assert len(standin.messages(AYSE)) == 1
    with tg_app.sessions() as session:
        assert session.scalars(select(OutboxMessage.attempts)).all() == [1]


def test_a_reply_that_cannot_be_marked_sent_does_not_keep_the_others_of_its_round_waiting(app, clock):
    """Outcomes of sends that end together are written in one transaction; one that fails (its row was
    erased meanwhile) must not leave the others "sending", to be sent a second time after the lease."""
    with app.sessions.begin() as session:
        for address in ("a", "b", "c"):
            enqueue(session, channel=CHANNEL, address=address, reply=Reply(f"Hallo {address}"), now=clock.now(),
                    language="de")

    class Together(CollectingTransport):
        """The three sends end at the same moment; the row of the one to "c" is erased while it is out."""

        def __init__(self) -> None:
            super().__init__()
            self.all_out = asyncio.Event()

        async def send(self, message):  # type: ignore[no-untyped-def]
            self.sent.append(message)
            if len(self.sent) == 3:
                self.all_out.set()
            await self.all_out.wait()
            if message.address == "c":
                with app.sessions.begin() as session:
                    session.execute(delete(OutboxMessage).where(OutboxMessage.id == message.id))
            return f"m{message.id}"

    assert deliver(app, Together()) == 3
    with app.sessions() as session:
        rows = session.execute(select(OutboxMessage.address, OutboxMessage.status)).all()
    assert sorted(rows) == [("a", OutboxStatus.SENT), ("b", OutboxStatus.SENT)]


def test_a_chats_next_message_goes_as_soon_as_the_one_before_it_is_marked_sent(app, clock):
    """A turn's second reply does not wait for a delivery round of its own: it is claimed with the first
    one's sent mark and goes at once, and still only after the first is marked sent (the order holds)."""
    with app.sessions.begin() as session:
        for part in ("Teil 1", "Teil 2", "Teil 3"):
            enqueue(session, channel=CHANNEL, address="a", reply=Reply(part), now=clock.now(), language="de")
        enqueue(session, channel=CHANNEL, address="b", reply=Reply("Hallo b"), now=clock.now(), language="de")

    out_of_order: list[str] = []

    class Watching(CollectingTransport):
        async def send(self, message):  # type: ignore[no-untyped-def]
            with app.sessions() as session:
                before = session.scalars(select(OutboxMessage.status).where(
                    OutboxMessage.address == message.address, OutboxMessage.id < message.id)).all()
            if any(status != OutboxStatus.SENT for status in before):
                out_of_order.append(message.text)
            return await super().send(message)

    transport = Watching()
    assert deliver(app, transport) == 2  # one claim: the oldest message of each chat
    assert [m.text for m in transport.sent if m.address == "a"] == ["Teil 1", "Teil 2", "Teil 3"]
    assert [m.text for m in transport.sent if m.address == "b"] == ["Hallo b"]
    assert out_of_order == []
    with app.sessions() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {OutboxStatus.SENT}


def test_while_the_network_asks_us_to_wait_the_chats_next_message_is_not_taken_along(app, clock):
    """A 429 elsewhere pauses the channel: the next message of a chat just served stays in line (pending),
    for the round after the pause, instead of being claimed and held "sending"."""
    with app.sessions.begin() as session:
        for part in ("Teil 1", "Teil 2"):
            enqueue(session, channel=CHANNEL, address="a", reply=Reply(part), now=clock.now(), language="de")

    class PausedMeanwhile(CollectingTransport):
        async def send(self, message):  # type: ignore[no-untyped-def]
            sender.paused_until = asyncio.get_running_loop().time() + 60  # another chat's send got a 429
            return await super().send(message)

    transport = PausedMeanwhile()
    sender = ChannelSender(app.sessions, clock, transport)
    assert asyncio.run(sender.deliver_due()) == 1
    assert [m.text for m in transport.sent] == ["Teil 1"]
    with app.sessions() as session:
        assert session.execute(select(OutboxMessage.text, OutboxMessage.status).order_by(OutboxMessage.id)).all() \
            == [("Teil 1", OutboxStatus.SENT), ("Teil 2", OutboxStatus.PENDING)]
    sender.paused_until = 0.0  # the pause is over
    assert asyncio.run(sender.deliver_due()) == 1
    assert [m.text for m in transport.sent] == ["Teil 1", "Teil 2"]
