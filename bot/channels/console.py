"""The console channel: talk to Wegbegleiter in a terminal, choices shown as numbers.

It is the embedded default (no network needed) and the model for the other channels: events in as
``Incoming``, outbox messages out through :class:`ConsoleTransport`.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from bot.app import App
from bot.channels.base import Limits, OutgoingMessage
from bot.outbox import ChannelSender
from conversations.messages import Incoming

CHANNEL = "console"


def render(message: OutgoingMessage) -> str:
    """Text with numbered options, as Matrix and the console show choices."""
    lines = [message.text]
    for number, choice in enumerate(message.choices, start=1):
        lines.append(f"  {number}. {choice.label}")
    return "\n".join(lines)


class ConsoleTransport:
    channel = CHANNEL
    limits = Limits()

    def __init__(self, write: Callable[[str], None], files_dir: Path) -> None:
        self.write = write
        self.files_dir = files_dir

    async def send(self, message: OutgoingMessage) -> str | None:
        text = render(message)
        for attachment in message.attachments:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / f"{message.id}-{attachment.filename}"
            path.write_bytes(attachment.data)
            text += f"\n  [📎 {attachment.filename}: {path}]"
        self.write(text)
        return str(message.id)


class ConsoleSession:
    """One person at the terminal, identified by a name of their choosing."""

    def __init__(self, app: App, name: str, write: Callable[[str], None] = print) -> None:
        self.app = app
        self.name = name
        transport = ConsoleTransport(write, Path(app.settings.data_dir) / "console-files")
        self.sender = ChannelSender(app.sessions, app.services.clock, transport, address_filter=name)

    async def say(self, text: str) -> None:
        incoming = Incoming(channel=CHANNEL, address=self.name, event_id=uuid.uuid4().hex,
                            received_at=self.app.services.clock.now(), text=text)
        await asyncio.to_thread(self.app.engine.handle, incoming)
        await self.flush()

    async def flush(self) -> None:
        while await self.sender.deliver_due():
            pass


async def chat_loop(app: App, name: str, read: Callable[[str], str] = input, web: bool = False) -> None:
    session = ConsoleSession(app, name)
    runner = None
    if web:  # the demo: the staff console in the browser beside the terminal chat
        from bot.runner import start_web

        runner = await start_web(app)
    try:
        await _chat(session, name, read)
    finally:
        if runner is not None:
            await runner.cleanup()


async def _chat(session: ConsoleSession, name: str, read: Callable[[str], str]) -> None:
    print(f"— Wegbegleiter console, chatting as “{name}”. Type /hilfe for help, Ctrl-D to leave. —")
    await session.flush()  # anything that waited for this person
    while True:
        try:
            line = await asyncio.to_thread(read, "> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if line.strip():
            await session.say(line)


def main(app: App, name: str, web: bool = False) -> None:
    try:
        asyncio.run(chat_loop(app, name, web=web))
    except KeyboardInterrupt:
        sys.exit(0)
