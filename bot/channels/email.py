"""Email, outbound only: for staff without a messenger (the fallführende Fachkraft at the Jugendamt).

Outbox rows with channel ``email`` go out through SMTP (aiosmtplib), with the outbox's pacing and
retries. The Message-ID comes from the outbox id, so a message sent again after a crash is the same
message to the receiving mail systems. Choices that are actions with a web route (acknowledge an
escalation) become signed links to the bot's small web endpoint; other choices are listed as text.
"""

from __future__ import annotations

import logging
import socket
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from bot import web
from bot.app import App
from bot.channels.base import Limits, OutgoingMessage, PermanentFailure, TemporaryFailure
from bot.runner import CHANNEL_FACTORIES
from conversations.clock import Clock
from conversations.i18n import translator
from conversations.settings import Settings

CHANNEL = "email"
log = logging.getLogger(__name__)


def message_id(outbox_id: int, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<wegbegleiter-outbox-{outbox_id}@{domain}>"


def subject_of(message: OutgoingMessage) -> str:
    """The message's own subject (a case reference, never a family's name), else just "Wegbegleiter":
    subjects travel in clear and show in every list of emails, so the text's first line is not used."""
    return message.subject or "Wegbegleiter"


def body_of(message: OutgoingMessage, base_url: str) -> str:
    """The text, then each choice: a signed link where it is an action with a web route, else its label."""
    tr = translator(message.language)
    lines = [message.text]
    links, others = [], []
    for choice in message.choices:
        url = web.link_for(base_url, choice.payload, message.id)
        if url:
            links.append(f"{choice.label}:\n{url}")
        else:
            others.append(f"• {choice.label}")
    if links:
        lines += ["", *links]
    if others:
        lines += ["", tr.gettext("In the Wegbegleiter chat you can choose:"), *others]
    lines += ["", "—", tr.gettext("This email was sent by Wegbegleiter. Please do not reply to it.")]
    return "\n".join(lines)


class EmailTransport:
    channel = CHANNEL
    limits = Limits(per_second=5.0)  # be a polite client of a small mail server

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def build(self, message: OutgoingMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.smtp_from
        mail["To"] = message.address
        mail["Subject"] = subject_of(message)
        mail["Message-ID"] = message_id(message.id, self.settings.smtp_from)
        mail["Date"] = format_datetime(self.clock.now())
        mail["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to the bot
        if message.urgent:
            mail["Importance"] = "high"
            mail["X-Priority"] = "1"
        mail.set_content(body_of(message, self.settings.public_base_url))
        for attachment in message.attachments:
            major, _sep, minor = attachment.mime_type.partition("/")
            mail.add_attachment(attachment.data, maintype=major, subtype=minor or "octet-stream",
                                filename=attachment.filename)
        return mail

    async def send(self, message: OutgoingMessage) -> str | None:
        mail = self.build(message)
        s = self.settings
        try:
            await aiosmtplib.send(
                mail, hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_user or None,
                password=s.smtp_password or None, start_tls=s.smtp_starttls, timeout=30,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # 550 "no such user" is final; 451 "try again later" (greylisting) is not.
            if all(500 <= r.code < 600 for r in exc.recipients):
                raise PermanentFailure(f"recipient refused: {exc}") from exc
            raise TemporaryFailure(f"recipient deferred: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"{exc.code} {exc.message}") from exc
            raise TemporaryFailure(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, socket.gaierror) as exc:
            raise TemporaryFailure(repr(exc)) from exc
        return str(mail["Message-ID"])


class EmailChannel:
    """Nothing to receive: email only carries the outbox to people without a chat."""

    name = CHANNEL

    def __init__(self, transport: EmailTransport) -> None:
        self.transport = transport

    async def start(self) -> None:
        log.info("email via %s:%s", self.transport.settings.smtp_host, self.transport.settings.smtp_port)

    async def stop(self) -> None:
        return None


def factory(app: App) -> EmailChannel | None:
    if not app.settings.smtp_host:
        return None
    return EmailChannel(EmailTransport(app.settings, app.services.clock))


CHANNEL_FACTORIES.append(factory)
