"""A real SMTP server on 127.0.0.1 (aiosmtpd), started once per test session, that keeps what arrives.

    mailbox = smtp_mailbox()          # the running server, emptied
    ... deliver ...
    mail = mailbox.only("k.schulz@jugendamt.example")
"""

from __future__ import annotations

import atexit
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

REFUSED = "refused@example.invalid"  # the server answers 550 for this recipient
BUSY = "busy@example.invalid"  # ... and 451 (try again later) for this one


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    def only(self, address: str) -> EmailMessage:
        mails = self.to(address)
        assert len(mails) == 1, f"expected one email to {address}, got {len(mails)}"
        return mails[0]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address == REFUSED:
            return "550 5.1.1 no such user"
        if address == BUSY:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        mail = message_from_bytes(envelope.content, policy=policy.default)
        with self.mailbox.lock:
            self.mailbox.messages.append(mail)  # type: ignore[arg-type]
        return "250 Message accepted"


_server: tuple[Controller, Mailbox] | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smtp_mailbox() -> Mailbox:
    """The session's SMTP server (started on first use), with an empty mailbox."""
    global _server
    if _server is None:
        mailbox = Mailbox("127.0.0.1", _free_port())
        controller = Controller(_Handler(mailbox), hostname=mailbox.host, port=mailbox.port)
        controller.start()
        atexit.register(controller.stop)
        _server = (controller, mailbox)
    _server[1].clear()
    return _server[1]
