"""Where a network shows options as numbered text (Matrix), a turn's replies arrive as one message: one
notification on the person's phone, the numbers at its end. Every row is marked with it; a failed send
goes again as one; files, options and messages of other moments end a message."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from bot.outbox import ChannelSender, release_dead_claims
from conversations.messages import Attachment, Choice, Incoming, Reply
from conversations.outbox import enqueue
from storage.models import OutboxMessage, OutboxStatus
from tests.bot.test_outbox_recovery import Flaky
from tests.support.harness import CHANNEL, CollectingTransport


class Numbered(CollectingTransport):
    """A network that shows options as numbered text, as Matrix does (bot.channels.matrix)."""

    joins_replies = True


class NumberedFlaky(Flaky):
    joins_replies = True


def deliver(app, transport) -> int:  # type: ignore[no-untyped-def]
    return asyncio.run(ChannelSender(app.sessions, app.services.clock, transport).deliver_due())


def rows(app) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return [tuple(r) for r in session.execute(  # type: ignore[misc]
            select(OutboxMessage.status, OutboxMessage.external_id).order_by(OutboxMessage.id))]


def test_the_welcome_and_the_language_question_arrive_as_one_message_with_its_numbers(app, clock, codes):
    app.engine.handle(Incoming(CHANNEL, "murat", "ev-1", clock.now(), text=codes["Murat"]))
    transport = Numbered()
    assert deliver(app, transport) == 1
    [message] = transport.sent
    welcome, question = message.text.split("\n\n")
    assert welcome.startswith("Hallo Murat") and question.startswith("In welcher Sprache")
    assert [c.label for c in message.choices][:2] == ["Deutsch", "Leichte Sprache"]
    sent_as = f"m{message.id}"
    assert rows(app) == [(OutboxStatus.SENT, sent_as), (OutboxStatus.SENT, sent_as)]  # both rows, one message
    # Its numbers are the chat's open question: "1" is Deutsch.
    assert app.engine.resolve(CHANNEL, "murat", "1") == message.choices[0].payload


def test_a_joined_message_that_fails_goes_again_as_one(app, clock, codes):
    app.engine.handle(Incoming(CHANNEL, "murat", "ev-1", clock.now(), text=codes["Murat"]))
    transport = NumberedFlaky(failures=1)
    deliver(app, transport)
    assert transport.sent == [] and [status for status, _id in rows(app)] == [OutboxStatus.PENDING] * 2
    clock.advance(timedelta(seconds=1))
    deliver(app, transport)
    [message] = transport.sent
    assert message.text.startswith("Hallo Murat") and "In welcher Sprache" in message.text
    assert rows(app) == [(OutboxStatus.SENT, f"m{message.id}")] * 2


def test_options_files_and_messages_of_another_moment_end_a_message(app, clock):
    photo = Attachment("foto.png", "image/png", b"\x89PNG")
    with app.sessions.begin() as session:
        for reply in (Reply("Eins."), Reply("Zwei, mit Foto.", attachments=[photo]), Reply("Drei."),
                      Reply("Vier?", [Choice("Ja", "yes"), Choice("Nein", "no")]), Reply("Fünf.")):
            enqueue(session, channel=CHANNEL, address="a", reply=reply, now=clock.now(), language="de")
        enqueue(session, channel=CHANNEL, address="a", reply=Reply("Später."), language="de",
                now=clock.now() + timedelta(seconds=1))  # written by another turn (the clock here stands still)
    clock.advance(timedelta(seconds=2))
    transport = Numbered()
    for _round in range(6):
        deliver(app, transport)
    assert [(m.text, [a.filename for a in m.attachments], [c.label for c in m.choices]) for m in transport.sent] == [
        ("Eins.\n\nZwei, mit Foto.", ["foto.png"], []),  # the file follows the text it belongs to
        ("Drei.\n\nVier?", [], ["Ja", "Nein"]),  # the numbers are the last thing in a message
        ("Fünf.", [], []),
        ("Später.", [], []),
    ]
    assert all(status == OutboxStatus.SENT for status, _id in rows(app))


def test_a_network_with_buttons_gets_each_reply_as_its_own_message(app, clock, codes):
    app.engine.handle(Incoming(CHANNEL, "murat", "ev-1", clock.now(), text=codes["Murat"]))
    transport = CollectingTransport()  # Telegram: a button belongs to its message
    while deliver(app, transport):
        pass
    assert [m.text.split()[0] for m in transport.sent] == ["Hallo", "In"]


def test_a_joined_message_claimed_by_a_process_that_died_goes_out_once_after_the_restart(app, clock, codes):
    app.engine.handle(Incoming(CHANNEL, "murat", "ev-1", clock.now(), text=codes["Murat"]))
    died = ChannelSender(app.sessions, clock, Numbered())
    [claimed] = died._claim_due(10)  # claimed, joined, then kill -9 before the send
    assert claimed.joined
    with app.sessions.begin() as session:
        session.execute(update(OutboxMessage).values(claimed_by="elsewhere:4711:dead"))
        assert session.scalars(select(OutboxMessage.status)).all() == [OutboxStatus.SENDING] * 2
    assert release_dead_claims(app.sessions, clock.now()) == 2  # every row of it, not only the first
    transport = Numbered()
    deliver(app, transport)
    [message] = transport.sent
    assert "Hallo Murat" in message.text and "In welcher Sprache" in message.text
    assert rows(app) == [(OutboxStatus.SENT, f"m{message.id}")] * 2
