"""Operations endpoints on HTTP_LISTEN: ``/healthz``, ``/readyz`` and ``/metrics``.

- ``/healthz``: the process is alive and its event loop answers (no database query): for a container's
  HEALTHCHECK or a liveness probe. Restarting a process because the database is away would not help.
- ``/readyz``: the database answers, its schema is at this version's migrations, and every configured
  chat network is connected. 200 when all hold, 503 otherwise; the JSON body names what is wrong. For a
  load balancer or a readiness probe.
- ``/metrics``: Prometheus text format (:mod:`bot.metrics`). With METRICS_TOKEN set it wants
  ``Authorization: Bearer <token>``; without, keep it off the public side of the reverse proxy.

None of them shows personal data.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine as DbEngine
from sqlalchemy import text

from bot.app import App

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


@functools.cache
def _code_heads(migrations: str) -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", migrations)
    return frozenset(ScriptDirectory.from_config(cfg).get_heads())


def check_database(db: DbEngine) -> dict[str, str]:
    """``database`` and ``migrations``: "ok" or what is wrong (one line, no secrets)."""
    from alembic.runtime.migration import MigrationContext

    from storage.db import MIGRATIONS

    try:
        with db.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # any failure to reach it is "not ready", never a 500
        return {"database": f"unreachable: {exc.__class__.__name__}", "migrations": "unknown"}
    missing = _code_heads(str(MIGRATIONS)) - current
    return {"database": "ok",
            "migrations": "ok" if not missing else "behind: run `wegbegleiter init`"}


def channel_states(app: App) -> dict[str, str]:
    states = {}
    for channel in app.status.channels:
        connected = getattr(channel, "connected", True)
        states[channel.name] = "connected" if connected else "not connected"
    return states


def readiness(app: App) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = check_database(app.db)
    if app.status.starting:
        checks["channels"] = "starting"
    else:
        checks["channels"] = channel_states(app)
    ready = (checks["database"] == "ok" and checks["migrations"] == "ok" and not app.status.starting
             and all(state == "connected" for state in checks["channels"].values()))
    return ready, checks


def add_routes(application: web.Application, app: App) -> None:
    from bot.metrics import REGISTRY, DatabaseCollector

    database_registry = CollectorRegistry()
    database_registry.register(DatabaseCollector(app))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"}, headers=NO_STORE)

    async def readyz(_request: web.Request) -> web.Response:
        ready, checks = await asyncio.to_thread(readiness, app)
        return web.json_response({"ready": ready, **checks}, status=200 if ready else 503, headers=NO_STORE)

    def scrape() -> bytes:
        from bot.metrics import CHANNEL_CONNECTED

        for name, state in channel_states(app).items():
            CHANNEL_CONNECTED.labels(name).set(1 if state == "connected" and not app.status.starting else 0)
        try:
            from_database = generate_latest(database_registry)
        except Exception as exc:  # the process's own figures still count when the database is away
            log.warning("metrics from the database unavailable: %s", exc.__class__.__name__)
            from_database = b""
        return generate_latest(REGISTRY) + from_database

    async def metrics(request: web.Request) -> web.Response:
        token = app.settings.metrics_token
        if token:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return web.Response(status=401, text="METRICS_TOKEN required\n",
                                    headers={"WWW-Authenticate": "Bearer"})
        body = await asyncio.to_thread(scrape)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, **NO_STORE})

    application.router.add_get("/healthz", healthz)
    application.router.add_get("/readyz", readyz)
    application.router.add_get("/metrics", metrics)
