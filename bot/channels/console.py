"""The console channel: talk to Wegbegleiter in a terminal, choices shown as numbers.

It is the embedded default (no network needed) and the model for the other channels: events in as
``Incoming``, outbox messages out through :class:`ConsoleTransport`. While the person reads, the chat keeps
delivering in the background and runs the periodic tasks, so what others cause (an answer to a complaint, an
alert, a reminder) appears without anyone typing.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from bot import scheduler
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


POLL_SECONDS = 1.0  # how soon a message someone else caused appears in the terminal
TASKS_EVERY = 60.0  # the periodic tasks (reminders, deadlines), as `wegbegleiter run` does them


class ConsoleSession:
    """One chat at the terminal: the console address of a linked person, or a label of one's own."""

    def __init__(self, app: App, address: str, write: Callable[[str], None] = print,
                 prompt: Callable[[], None] | None = None) -> None:
        self.app = app
        self.address = address
        self.write = write
        self.prompt = prompt or (lambda: print("> ", end="", flush=True))
        self.reading = False  # the reader waits at "> ": a message arriving now goes above a fresh prompt
        transport = ConsoleTransport(self.show, Path(app.settings.data_dir) / "console-files")
        self.sender = ChannelSender(app.sessions, app.services.clock, transport, address_filter=address)
        self.delivering = asyncio.Lock()

    def show(self, text: str) -> None:
        if self.reading:
            self.write("\r" + text)
            self.prompt()
        else:
            self.write(text)

    async def say(self, text: str) -> None:
        incoming = Incoming(channel=CHANNEL, address=self.address, event_id=uuid.uuid4().hex,
                            received_at=self.app.services.clock.now(), text=text)
        await asyncio.to_thread(self.app.engine.handle, incoming)
        await self.flush()

    async def flush(self) -> None:
        async with self.delivering:  # a reply and a message from the background never interleave
            while await self.sender.deliver_due():
                pass

    async def keep_up(self, stop: asyncio.Event, poll: float = POLL_SECONDS, tasks_every: float = TASKS_EVERY) -> None:
        """Until ``stop``: run the periodic tasks and deliver what others send meanwhile (an answer to a
        complaint, an alert, a reminder), so it appears while the person is not typing."""
        loop = asyncio.get_running_loop()
        tasks_due = loop.time()
        while not stop.is_set():
            if loop.time() >= tasks_due:
                await asyncio.to_thread(scheduler.run_all, self.app.services)
                tasks_due = loop.time() + tasks_every
            await self.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll)


async def chat_loop(app: App, address: str, *, banner: str = "", first: str | None = None,
                    read: Callable[[str], str] = input, write: Callable[[str], None] = print,
                    prompt: Callable[[], None] | None = None, web: bool = False, poll: float = POLL_SECONDS,
                    tasks_every: float = TASKS_EVERY) -> None:
    """Chat at ``address`` until Ctrl-D; ``first`` is sent before anything is read (an invite code)."""
    session = ConsoleSession(app, address, write, prompt)
    runner = None
    if web:  # the demo: the staff console in the browser beside the terminal chat
        from bot.runner import start_web

        runner = await start_web(app)
    stop = asyncio.Event()
    background = asyncio.create_task(session.keep_up(stop, poll, tasks_every))
    try:
        if banner:
            write(banner)
        if first:
            await session.say(first)
        await session.flush()  # anything that waited for this person
        await _read_and_say(session, read)
    finally:
        stop.set()
        await background
        if runner is not None:
            await runner.cleanup()


async def _read_and_say(session: ConsoleSession, read: Callable[[str], str]) -> None:
    while True:
        session.reading = True
        try:
            line = await asyncio.to_thread(read, "> ")
        except (EOFError, KeyboardInterrupt):
            session.write("")
            return
        finally:
            session.reading = False
        if line.strip():
            await session.say(line)


def main(app: App, address: str, *, banner: str = "", first: str | None = None, web: bool = False) -> None:
    try:
        asyncio.run(chat_loop(app, address, banner=banner, first=first, web=web))
    except KeyboardInterrupt:
        sys.exit(0)
