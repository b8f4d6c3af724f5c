"""Nothing lost, nothing twice: redelivered events, restarts mid-conversation, crashes before delivery."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy import select

from bot.app import build
from bot.outbox import ChannelSender
from storage.models import OutboxMessage, OutboxStatus
from tests.support.harness import Bot, CollectingTransport


def test_the_same_channel_event_twice_is_answered_once(bot, codes):
    chat = bot.chat("ayse")
    first = chat.say(codes["Ayşe"], event_id="tg-update-1001")
    again = chat.say(codes["Ayşe"], event_id="tg-update-1001")
    assert len(first) == 2 and again == []


def test_a_restart_mid_conversation_resumes_where_it_was(app, settings, clock, codes):
    before = Bot(app)
    ayse = before.chat("ayse")
    ayse.say(codes["Ayşe"])
    ayse.press("Deutsch")  # now at the privacy notice
    accept = next(c.payload for c in ayse.last.choices if c.label == "Ich bin einverstanden")
    app.db.dispose()

    restarted = Bot(build(settings, clock))  # a new process: new engine, new connections
    answer = restarted.chat("ayse").say(payload=accept)
    assert "Dieser Chat ist jetzt verbunden" in answer[0]


def test_a_crash_between_the_state_change_and_delivery_loses_no_reply(app, settings, clock, codes):
    from conversations.messages import Incoming

    app.engine.handle(Incoming("test", "murat", "ev-1", clock.now(), text=codes["Murat"]))
    app.db.dispose()  # the process dies before anything is delivered

    after = Bot(build(settings, clock))
    texts = after.chat("murat").receive()
    assert "Hallo Murat" in texts[0] and "In welcher Sprache" in texts[1]


class FlakyTransport(CollectingTransport):
    """Fails the first ``failures`` sends with the given error, then works."""

    def __init__(self, error: Exception, failures: int = 1) -> None:
        super().__init__()
        self.error, self.failures = error, failures

    async def send(self, message):  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            raise self.error
        return await super().send(message)


def deliver(app, transport) -> int:  # type: ignore[no-untyped-def]
    sender = ChannelSender(app.sessions, app.services.clock, transport)
    return asyncio.run(sender.deliver_due())


def test_network_errors_are_retried_with_backoff_and_order_is_kept(app, clock, codes):
    from bot.channels.base import TemporaryFailure
    from conversations.messages import Incoming

    app.engine.handle(Incoming("test", "murat", "ev-1", clock.now(), text=codes["Murat"]))
    transport = FlakyTransport(TemporaryFailure("connection reset"))
    deliver(app, transport)
    assert transport.sent == []  # first message failed, the second waits behind it
    assert deliver(app, transport) == 0  # backing off
    clock.advance(timedelta(seconds=3))
    deliver(app, transport)
    deliver(app, transport)
    assert [m.text.split()[0] for m in transport.sent] == ["Hallo", "In"]


def test_a_person_who_blocked_the_bot_is_recorded_not_retried(app, clock, codes):
    from bot.channels.base import RecipientGone
    from conversations.messages import Incoming

    app.engine.handle(Incoming("test", "murat", "ev-1", clock.now(), text=codes["Murat"]))
    transport = FlakyTransport(RecipientGone("Forbidden: bot was blocked by the user"), failures=5)
    deliver(app, transport)
    with app.sessions() as session:
        statuses = session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)).all()
    assert statuses[0] == OutboxStatus.BLOCKED


def test_a_rate_limit_answer_waits_as_long_as_asked(app, clock, codes):
    from bot.channels.base import RetryLater
    from conversations.messages import Incoming

    app.engine.handle(Incoming("test", "murat", "ev-1", clock.now(), text=codes["Murat"]))
    transport = FlakyTransport(RetryLater(30))
    deliver(app, transport)
    with app.sessions() as session:
        first = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert first.status == OutboxStatus.PENDING and first.attempts == 0
        assert first.next_attempt_at == clock.now() + timedelta(seconds=30)


def test_a_message_claimed_by_a_process_that_died_is_sent_again_after_the_lease(app, clock, codes):
    from conversations.messages import Incoming

    app.engine.handle(Incoming("test", "murat", "ev-1", clock.now(), text=codes["Murat"]))

    class Dies(CollectingTransport):
        async def send(self, message):  # type: ignore[no-untyped-def]
            raise asyncio.CancelledError  # the process is killed mid-send

    with contextlib.suppress(asyncio.CancelledError):
        deliver(app, Dies())
    transport = CollectingTransport()
    assert deliver(app, transport) == 0  # still leased to the dead process
    clock.advance(timedelta(minutes=3))
    deliver(app, transport)
    assert "Hallo Murat" in transport.sent[0].text


def test_a_bug_in_a_flow_gets_an_apology_and_changes_nothing(bot, codes, monkeypatch):
    from conversations.registry import REGISTRY, Audience, Command

    def broken(ctx, _arg):  # type: ignore[no-untyped-def]
        ctx.person.language = "en"  # a change that must be rolled back
        raise RuntimeError("bug")

    monkeypatch.setitem(REGISTRY.commands, "broken", Command("broken", {"de": "kaputt"}, "x", broken, Audience.LINKED))
    ayse = bot.link("ayse", codes["Ayşe"])
    answer = ayse.say("/kaputt", event_id="boom")
    assert "Es wurde nichts geändert" in answer[0] and "Was möchten Sie tun?" in answer[1]
    assert ayse.say("/kaputt", event_id="boom") == []  # redelivered: not repeated
    assert "Was möchten Sie tun?" in ayse.say("/menue")[0]  # still German
