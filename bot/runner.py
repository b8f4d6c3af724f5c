"""`wegbegleiter run`: the configured channels, the outbox and the scheduler in one event loop.

Each chat network is a :class:`Channel`: it receives events (handing them to the engine) and carries
a transport for delivery. SIGTERM stops receiving first, lets in-flight turns finish, then delivers what
is due and exits: nothing queued is lost, because the outbox is in the database.

Start-up waits for a network that cannot be reached (the channel raises :class:`Unreachable`), trying
again with backoff, and the web endpoint answers ``/healthz`` meanwhile (``/readyz`` says "starting").
A reason that waiting does not cure (a wrong token) stops start-up with one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot import scheduler
from bot.app import App
from bot.channels.base import Transport, Unreachable
from bot.outbox import Dispatcher
from storage.errors import Explained

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str
    transport: Transport

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


ChannelFactory = Callable[[App], "Channel | None"]
CHANNEL_FACTORIES: list[ChannelFactory] = []  # each channel module appends its factory


def configured_channels(app: App) -> list[Channel]:
    from bot.channels.available import import_configured

    import_configured(app.settings)  # each configured channel's module registers its factory

    return [channel for factory in CHANNEL_FACTORIES if (channel := factory(app)) is not None]


class NoChannel(Explained):
    """Nothing to serve: no chat network is configured (the CLI says it in the operator's language)."""


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts to reach a network: ``first``, doubled each time, at most ``most`` seconds."""

    first: float = 1.0
    most: float = 60.0

    def delay(self, attempt: int) -> float:
        return min(self.most, self.first * 2 ** min(attempt, 30))


def wait_for_database(connect: Callable[[], App], backoff: Backoff = Backoff(),
                      sleep: Callable[[float], None] = time.sleep) -> App:
    """``connect()`` (build the app), waiting while the database does not answer (a container started
    before its PostgreSQL); any other problem (not migrated, a wrong key) is raised at once."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    for attempt in itertools.count():
        try:
            return connect()
        except (OperationalError, InterfaceError) as exc:
            if type(exc.orig).__module__.startswith("sqlite3"):
                raise  # a file, not a server that may come up: waiting does not help
            delay = backoff.delay(attempt)
            reason = (str(exc.orig) if exc.orig is not None else str(exc)).strip().splitlines()[0]
            log.warning("database unreachable (%s); trying again in %.1f s", reason, delay,
                        extra={"fields": {"attempt": attempt + 1, "retry_in": delay}})
            sleep(delay)
    raise AssertionError("unreachable")


async def start_web(app: App):  # type: ignore[no-untyped-def]
    """The web endpoint; a port already in use is logged, not fatal: chat delivery matters more."""
    from bot import web

    try:
        return await web.start(app)
    except OSError:
        log.exception("cannot listen on HTTP_LISTEN=%s; links in emails will not work", app.settings.http_listen)
        return None


async def _pause(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` or until stopped; True if stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def start_with_backoff(channel: Channel, stop: asyncio.Event, backoff: Backoff) -> bool:
    """Start a channel, waiting while its network is unreachable; False if stopped before it started."""
    for attempt in itertools.count():
        try:
            await channel.start()
            return True
        except Unreachable as exc:
            delay = backoff.delay(attempt)
            log.warning("%s unreachable (%s); trying again in %.1f s", channel.name, exc, delay,
                        extra={"fields": {"channel": channel.name, "attempt": attempt + 1, "retry_in": delay}})
        if await _pause(stop, delay):
            return False
    raise AssertionError("unreachable")


def describe(app: App, channels: list[Channel]) -> tuple[str, dict[str, object]]:
    """The start line: which networks, as whom (the Telegram bot, the Matrix user and device)."""
    fields: dict[str, object] = {"channels": [c.name for c in channels], "http_listen": app.settings.http_listen}
    parts = []
    for channel in channels:
        about: dict[str, object] = channel.describe() if hasattr(channel, "describe") else {}
        fields.update({f"{channel.name}_{key}": value for key, value in about.items()})
        details = ", ".join(f"{key} {value}" for key, value in about.items())
        parts.append(f"{channel.name} ({details})" if details else channel.name)
    return f"serving {'; '.join(parts)}; web endpoint on {app.settings.http_listen}", fields


async def serve(app: App, channels: list[Channel], stop: asyncio.Event | None = None,
                backoff: Backoff = Backoff()) -> None:
    from bot.metrics import MeteredTransport, meter_engine

    if not channels:
        raise NoChannel("no chat network configured: set TELEGRAM_BOT_TOKEN or MATRIX_HOMESERVER "
                        "(or try `wegbegleiter demo` to chat in the terminal)")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    meter_engine(app)
    app.status.channels, app.status.starting = list(channels), True
    dispatcher = Dispatcher(app.sessions, app.services.clock,
                            {c.name: MeteredTransport(c.transport) for c in channels})
    for channel in channels:
        if hasattr(channel, "dispatcher"):
            channel.dispatcher = dispatcher  # the channel pokes delivery after a turn (replies go out at once)
    # The web endpoint first: /healthz answers (and /readyz says why not yet) while a network is away.
    links = await start_web(app)
    started: list[Channel] = []
    try:
        for channel in channels:
            if not await start_with_backoff(channel, stop, backoff):
                log.info("stopped before %s could be reached", channel.name)
                return
            started.append(channel)
        app.status.starting = False
        line, fields = describe(app, channels)
        log.info(line, extra={"fields": fields})
        jobs = scheduler.start(app.services)
        delivery = asyncio.create_task(dispatcher.run(stop))
        await stop.wait()
        log.info("stopping: no new events, finishing delivery")
        jobs.shutdown()
        for channel in channels:
            await channel.stop()
        started.clear()
        await delivery
    finally:
        for channel in started:  # stopped while a later channel was still being reached
            await channel.stop()
        if links is not None:
            await links.cleanup()
