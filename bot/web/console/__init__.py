"""The staff console: server-rendered pages for the Leitung, Fachkräfte, the Beschwerdestelle, the
Gesprächsführung and the Jugendamt, on the same aiohttp application as the signed links.

Why aiohttp (+ Jinja2) and not Starlette: aiohttp already serves the signed links and runs in
the bot's own event loop beside the channels and the outbox, so the whole HTTP surface is one
application and one dependency; the pages are plain server-rendered HTML (Jinja2) with htmx, a static
file, where a part of a page updates in place. Nothing here needs ASGI.

Each area is a module with thin views (:mod:`bot.web.console.desk` explains how a request runs); the
data comes from the same job functions the chat uses, and every permission from
:mod:`conversations.authz`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import App
from bot.web.console import signin
from bot.web.console.desk import APP_KEY, Desk, Page, Req, layout_data, route

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Area:
    """One entry of the navigation: shown to whom ``visible`` allows, with an optional count of open items."""

    url: str
    label: str  # marked with N_
    description: str  # marked with N_
    visible: Any  # (desk) -> bool, from conversations.authz
    count: Any = None  # (desk) -> int


AREAS: list[Area] = []  # each area module appends its own
ORDER = ("/overview", "/cases", "/deadlines", "/complaints", "/milestones", "/jugendamt")  # the navigation, left to right


@layout_data
def navigation(desk: Desk, req: Req) -> dict[str, Any]:
    items = []
    for area in sorted(AREAS, key=lambda a: ORDER.index(a.url) if a.url in ORDER else len(ORDER)):
        if area.visible(desk):
            items.append({"url": area.url, "label": desk.tr.gettext(area.label),
                          "description": desk.tr.gettext(area.description),
                          "count": area.count(desk) if area.count else None,
                          "current": req.path == area.url or req.path.startswith(area.url + "/")})
    return {"nav": items}


def home(desk: Desk, req: Req) -> Page:
    return Page("home.html")


def add_routes(application: web.Application, app: App) -> None:
    application[APP_KEY] = app
    application.router.add_static("/static", HERE / "static", append_version=False)
    signin.add_routes(application)
    application.router.add_get("/", route(home))
    for area in (overview, cases, deadlines, complaints, milestones, jugendamt, escalations):
        area.add_routes(application)
    from bot.web.console import figures  # the Träger's figures (issue 18); its area joins the navigation here

    figures.add_routes(application)


# Each area adds its entry to AREAS as it is imported.
from bot.web.console import (  # noqa: E402
    cases,
    complaints,
    deadlines,
    escalations,
    jugendamt,
    milestones,
    overview,
)
