"""Transcript testing: people talk to the real engine; replies go through the real outbox and sender.

The "test" channel's transport collects what would be shown, rendered like the console (numbered
choices), so a test reads like a conversation::

    ayse = bot.chat("ayse")
    assert "code" in ayse.say("hallo")[0]
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from bot.app import App
from bot.channels.base import Limits, OutgoingMessage
from bot.channels.console import render
from bot.outbox import ChannelSender
from conversations.i18n import available_languages, language_name, translator
from conversations.messages import Attachment, Incoming

CHANNEL = "test"
_event_ids = itertools.count(1)


class CollectingTransport:
    channel = CHANNEL
    limits = Limits()

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> str | None:
        self.sent.append(message)
        return f"m{message.id}"


@dataclass
class Chat:
    bot: Bot
    address: str
    seen: list[OutgoingMessage] = field(default_factory=list)

    def say(self, text: str = "", *, payload: str | None = None, event_id: str | None = None,
            attachments: tuple[Attachment, ...] = (), language: str | None = None) -> list[str]:
        """Send a message (or press a choice) and return the texts the person then sees. ``language``: what
        the network reports for the person (Telegram's language_code)."""
        incoming = Incoming(channel=CHANNEL, address=self.address, event_id=event_id or f"e{next(_event_ids)}",
                            received_at=self.bot.app.services.clock.now(), text=text, payload=payload,
                            attachments=attachments, language=language)
        self.bot.app.engine.handle(incoming)
        return self.receive()

    def press(self, label: str) -> list[str]:
        """Press the choice with this label on the newest message that offered it."""
        for message in reversed(self.seen):
            for choice in message.choices:
                if choice.label == label:
                    return self.say(payload=choice.payload)
        raise AssertionError(f"no choice {label!r} offered; last: {[render(m) for m in self.seen[-2:]]}")

    def receive(self) -> list[str]:
        """Deliver what is due and return what reached this chat."""
        self.bot.deliver()
        mine = [m for m in self.bot.transport.sent if m.address == self.address and m not in self.seen]
        self.seen.extend(mine)
        return [render(m) for m in mine]

    @property
    def last(self) -> OutgoingMessage:
        return self.seen[-1]


class Bot:
    def __init__(self, app: App) -> None:
        self.app = app
        self.transport = CollectingTransport()
        self.sender = ChannelSender(app.sessions, app.services.clock, self.transport)

    def chat(self, address: str) -> Chat:
        return Chat(self, address)

    def deliver(self) -> None:
        async def drain() -> None:
            while await self.sender.deliver_due():
                pass

        asyncio.run(drain())

    def link(self, address: str, code: str, language_label: str = "Deutsch") -> Chat:
        """Onboard a chat with an invite code: code → language → accept the notice."""
        chat = self.chat(address)
        chat.say(code)
        chat.press(language_label)
        lang = next((code for code in available_languages() if language_name(code) == language_label), "en")
        chat.press(translator(lang).gettext("I agree"))
        return chat
