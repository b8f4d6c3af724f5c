"""Signed links from emails (acknowledge an escalation, confirm extra hours).

A link names the action, its object and the email it was sent in, signed with the server's key
(``storage.crypto.sign``): ``/ack/<escalation>?m=<outbox id>&sig=…``. Opening it (GET) only shows a
page with one button; the acknowledgement is the button's POST. Mail scanners that open every link
in an email therefore never acknowledge anything in someone's name.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from urllib.parse import urlencode

from aiohttp import web

from bot.app import App
from conversations import budget, escalations
from conversations.escalations import LinkPage
from storage import crypto
from storage.db import transaction

# (session, services, object id, outbox id of the email, confirm=) → the page, or None for a foreign link
LinkHandler = Callable[..., LinkPage | None]

# act:<action>:<argument> choices that have a page here: action name → (route, handler).
LINKS: dict[str, tuple[str, LinkHandler]] = {
    escalations.ACK_ACTION: ("ack", escalations.acknowledge_by_link),
    budget.APPROVE_ACTION: ("approve-hours", budget.approve_by_link),
}
LINK_ROUTES: dict[str, str] = {action: route for action, (route, _handler) in LINKS.items()}


def signature(route: str, arg: str, outbox_id: int) -> str:
    return crypto.sign(f"{route}:{arg}:{outbox_id}")


def link_for(base_url: str, payload: str, outbox_id: int) -> str | None:
    """The signed link for a choice sent by email, or None if the choice has no page."""
    kind, _sep, rest = payload.partition(":")
    name, _sep, arg = rest.partition(":")
    route = LINK_ROUTES.get(name) if kind == "act" else None
    if route is None or not arg:
        return None
    query = urlencode({"m": outbox_id, "sig": signature(route, arg, outbox_id)})
    return f"{base_url.rstrip('/')}/{route}/{arg}?{query}"


def page(title: str, text: str, *, form: str = "", status: int = 200, lang: str = "de") -> web.Response:
    """The link's page, in the staff console's look (``form`` is markup made here, never the reader's text)."""
    from markupsafe import Markup

    from bot.web.console.desk import Page, render
    from conversations.i18n import translator

    response = render(None, translator(lang), Page("link_action.html", {
        "title": title, "text": text, "form": Markup(form)}, status))  # noqa: S704  (the form is built here)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def add_routes(application: web.Application, app: App) -> None:
    for route, handler in LINKS.values():
        endpoint = link_endpoint(app, route, handler)
        application.router.add_get(f"/{route}/{{arg}}", endpoint)
        application.router.add_post(f"/{route}/{{arg}}", endpoint)


def link_endpoint(app: App, route: str, handler: LinkHandler) -> Callable[[web.Request], object]:
    async def endpoint(request: web.Request) -> web.Response:
        arg, outbox, sig = request.match_info["arg"], request.query.get("m", ""), request.query.get("sig", "")
        if not (arg.isdigit() and outbox.isdigit() and crypto.verify(f"{route}:{arg}:{outbox}", sig)):
            return page("Wegbegleiter", "Dieser Link ist ungültig. / This link is not valid.", status=403)
        confirm = request.method == "POST"

        def work() -> LinkPage | None:
            with transaction(app.sessions) as session:
                return handler(session, app.services, int(arg), int(outbox), confirm=confirm)

        result = await asyncio.to_thread(work)
        if result is None:
            return page("Wegbegleiter", "Dieser Link ist ungültig. / This link is not valid.", status=404)
        form = ""
        if result.button:
            form = (f"<form method='post' action='{html.escape(request.path_qs)}'>"
                    f"<button type='submit'>{html.escape(result.button)}</button></form>")
        return page("Wegbegleiter", result.text, form=form, lang=result.lang)

    return endpoint
