"""`wegbegleiter run`: the configured channels, the outbox and the scheduler in one event loop.

Each chat network is a :class:`Channel`: it receives events (handing them to the engine) and carries
a transport for delivery. SIGTERM stops receiving first, lets in-flight turns finish, then delivers what
is due and exits: nothing queued is lost, because the outbox is in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Protocol

from bot import scheduler
from bot.app import App
from bot.channels.base import Transport
from bot.outbox import Dispatcher

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str
    transport: Transport

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


ChannelFactory = Callable[[App], "Channel | None"]
CHANNEL_FACTORIES: list[ChannelFactory] = []  # each channel module appends its factory


def configured_channels(app: App) -> list[Channel]:
    import bot.channels.available  # noqa: F401  (registers the factories)

    return [channel for factory in CHANNEL_FACTORIES if (channel := factory(app)) is not None]


class NoChannel(Exception):
    pass


async def start_web(app: App):  # type: ignore[no-untyped-def]
    """The web endpoint; a port already in use is logged, not fatal: chat delivery matters more."""
    from bot import web

    try:
        return await web.start(app)
    except OSError:
        log.exception("cannot listen on HTTP_LISTEN=%s; links in emails will not work", app.settings.http_listen)
        return None


async def serve(app: App, channels: list[Channel], stop: asyncio.Event | None = None) -> None:
    if not channels:
        raise NoChannel("no chat network configured: set TELEGRAM_BOT_TOKEN or MATRIX_HOMESERVER "
                        "(or try `wegbegleiter demo` to chat in the terminal)")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    dispatcher = Dispatcher(app.sessions, app.services.clock, {c.name: c.transport for c in channels})
    for channel in channels:
        if hasattr(channel, "dispatcher"):
            channel.dispatcher = dispatcher  # the channel pokes delivery after a turn (replies go out at once)
        await channel.start()
        log.info("serving %s", channel.name)
    jobs = scheduler.start(app.services)
    links = await start_web(app)  # signed links in emails (acknowledge an escalation)
    delivery = asyncio.create_task(dispatcher.run(stop))
    await stop.wait()
    log.info("stopping: no new events, finishing delivery")
    jobs.shutdown(wait=False)
    if links is not None:
        await links.cleanup()
    for channel in channels:
        await channel.stop()
    await delivery
