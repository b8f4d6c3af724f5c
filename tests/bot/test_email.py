"""Email as a real channel: delivered to a local SMTP server (aiosmtpd on 127.0.0.1) and read back."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels import email
from bot.channels.email import EmailTransport
from bot.outbox import LEASE, ChannelSender
from bot.runner import configured_channels
from conversations.messages import Choice, Reply
from conversations.outbox import notify
from storage import crypto
from storage.models import OutboxMessage, OutboxStatus, StaffMember
from tests.support.smtp import BUSY, REFUSED, Mailbox, smtp_mailbox

SCHULZ = "k.schulz@jugendamt.example"


@pytest.fixture
def mailbox() -> Mailbox:
    return smtp_mailbox()


@pytest.fixture
def mail_app(app: App, mailbox: Mailbox) -> App:
    settings = replace(app.settings, smtp_host=mailbox.host, smtp_port=mailbox.port, smtp_starttls=False,
                       public_base_url="https://wegbegleiter.bruecke.example/")
    return App(settings=settings, db=app.db, services=replace(app.services, settings=settings), engine=app.engine)


def sender(app: App) -> ChannelSender:
    return ChannelSender(app.sessions, app.services.clock, EmailTransport(app.settings, app.services.clock))


def deliver(app: App) -> int:
    async def drain() -> int:
        s, total = sender(app), 0
        while sent := await s.deliver_due():
            total += sent
        return total

    return asyncio.run(drain())


def tell(app: App, name: str, text: str, choices=(), *, address: str | None = None, urgent: bool = False) -> int:  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        person = session.scalar(select(StaffMember).where(StaffMember.name == name))
        assert person is not None
        if address:
            person.email = address
        [message] = notify(session, person, lambda tr: Reply(text, list(choices)), now=app.services.clock.now(),
                           kind="test", urgent=urgent, subject=lambda tr: "Wegbegleiter: Test")
        session.flush()
        return message.id


def row(app: App, outbox_id: int) -> OutboxMessage:
    with app.sessions() as session:
        found = session.get(OutboxMessage, outbox_id)
        assert found is not None
        return found


def test_a_person_without_a_chat_gets_the_message_by_email(mail_app, codes, mailbox):
    outbox_id = tell(mail_app, "Dr. Katrin Schulz", "Fall F-2027-0001: Bitte bestätigen Sie den Empfang.",
                     [Choice("Empfang bestätigen", "act:esc_ack:7"), Choice("Später", "later")], urgent=True)
    assert deliver(mail_app) == 1

    mail = mailbox.only(SCHULZ)
    assert mail["Subject"] == "Wegbegleiter: Test" and mail["From"] == "wegbegleiter@localhost"
    assert mail["Message-ID"] == f"<wegbegleiter-outbox-{outbox_id}@localhost>"
    assert mail["Auto-Submitted"] == "auto-generated" and mail["Importance"] == "high"
    body = mail.get_content()
    assert body.startswith("Fall F-2027-0001: Bitte bestätigen Sie den Empfang.")
    assert "• Später" in body  # a choice without a web page stays text
    link = re.search(r"Empfang bestätigen:\s+(\S+)", body).group(1)  # an action becomes a signed link
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://wegbegleiter.bruecke.example/ack/7"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["m"] == str(outbox_id) and crypto.verify(f"ack:7:{outbox_id}", query["sig"])
    assert row(mail_app, outbox_id).status == OutboxStatus.SENT


def test_sent_again_after_a_crash_it_is_the_same_message_to_mail_systems(mail_app, codes, mailbox, clock):
    outbox_id = tell(mail_app, "Dr. Katrin Schulz", "Hallo")
    asyncio.run(sender(mail_app).deliver_due())
    # The process died after the server took the email but before the outbox recorded it.
    with mail_app.sessions.begin() as session:
        session.get(OutboxMessage, outbox_id).status = OutboxStatus.SENDING  # type: ignore[union-attr]
        session.get(OutboxMessage, outbox_id).next_attempt_at = clock.now() + LEASE  # type: ignore[union-attr]
    clock.advance(LEASE + timedelta(seconds=1))
    deliver(mail_app)
    first, second = mailbox.to(SCHULZ)
    assert first["Message-ID"] == second["Message-ID"]  # receiving systems and people see one message


def test_a_refused_address_fails_for_good_and_a_busy_server_is_tried_again(mail_app, codes, mailbox, clock):
    refused = tell(mail_app, "Dr. Katrin Schulz", "Hallo", address=REFUSED)
    busy = tell(mail_app, "Martina Hoffmann", "Hallo", address=BUSY)
    deliver(mail_app)
    assert row(mail_app, refused).status == OutboxStatus.FAILED and "550" in row(mail_app, refused).last_error
    waiting = row(mail_app, busy)
    assert waiting.status == OutboxStatus.PENDING and waiting.attempts == 1 and waiting.next_attempt_at > clock.now()


def test_an_unreachable_mail_server_keeps_the_message_for_later(mail_app, codes, mailbox, clock):
    down = replace(mail_app.settings, smtp_port=1)  # nothing listens there
    app = App(settings=down, db=mail_app.db, services=replace(mail_app.services, settings=down),
              engine=mail_app.engine)
    outbox_id = tell(app, "Dr. Katrin Schulz", "Hallo")
    deliver(app)
    assert row(app, outbox_id).status == OutboxStatus.PENDING and row(app, outbox_id).attempts == 1
    clock.advance(timedelta(minutes=5))
    deliver(mail_app)  # the server is back
    assert row(app, outbox_id).status == OutboxStatus.SENT and len(mailbox.to(SCHULZ)) == 1


def test_the_runner_serves_email_only_when_a_mail_server_is_set(app, mail_app):
    assert email.CHANNEL not in [c.name for c in configured_channels(app)]
    assert email.CHANNEL in [c.name for c in configured_channels(mail_app)]
