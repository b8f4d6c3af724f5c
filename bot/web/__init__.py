"""The bot's web surface on HTTP_LISTEN: the staff console, the signed links from emails, and the
operations endpoints (``/healthz``, ``/readyz``, ``/metrics``: :mod:`bot.web.ops`).

One aiohttp application; each part adds its routes in its own module (``console``, ``links``, ...), and
:func:`make_app` puts them together. Routes stay thin: they call the same functions as the chat.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app import App
from bot.web import console, links, ops
from bot.web.links import link_for, page

__all__ = ["link_for", "make_app", "page", "start"]

log = logging.getLogger(__name__)


def make_app(app: App) -> web.Application:
    application = web.Application()
    console.add_routes(application, app)
    links.add_routes(application, app)
    ops.add_routes(application, app)  # /healthz, /readyz, /metrics
    return application


async def start(app: App) -> web.AppRunner:
    """Listen on HTTP_LISTEN (host:port); the runner stops it with ``await runner.cleanup()``."""
    host, _sep, port = app.settings.http_listen.rpartition(":")
    runner = web.AppRunner(make_app(app), access_log=None)  # links carry signatures: keep them out of logs
    await runner.setup()
    await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
    log.info("web endpoint on %s", app.settings.http_listen)
    return runner
