"""Signed links from emails (acknowledge an escalation, confirm extra hours).

A link names the action, its object and the email it was sent in, signed with the server's key
(``storage.crypto.sign``): ``/ack/<escalation>?m=<outbox id>&sig=…``. Opening it (GET) only shows a
page with one button; the acknowledgement is the button's POST. Mail scanners that open every link
in an email therefore never acknowledge anything in someone's name.

A link expires ``LINK_TTL_DAYS`` after its email went out and works once (:class:`LinkUse`); a POST
another website sends (its ``Origin`` is not ours) changes nothing, and a malformed or forged signature
gets the same 403 as a wrong one.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.app import App
from conversations import budget, escalations
from conversations.escalations import LinkPage
from conversations.i18n import translator
from storage import crypto
from storage.db import transaction
from storage.models import OutboxMessage
from storage.models.privacy import LinkUse

INVALID = "Dieser Link ist ungültig. / This link is not valid."
FOREIGN = ("Diese Bestätigung kam von einer anderen Website und wurde nicht ausgeführt. / "
           "This confirmation came from another website and was not carried out.")
NUMBER = re.compile(r"[0-9]{1,12}")  # ASCII digits only ("²".isdigit() is True), and nothing a column cannot hold

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

    response = render(translator(lang), Page("link_action.html", {
        "title": title, "text": text, "form": Markup(form)}, status))  # noqa: S704  (the form is built here)
    # The address carries the signature: it never leaves as a Referer to another site, while our own
    # form's POST still names its origin (with "no-referrer" browsers would send "Origin: null").
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@dataclass(frozen=True)
class Outcome:
    page: LinkPage | None
    status: int = 200


def _gone(message: OutboxMessage, now: datetime, ttl_days: int) -> bool:
    sent = message.sent_at or message.created_at
    return now >= sent + timedelta(days=ttl_days)


def use(session: Session, app: App, handler: LinkHandler, route: str, arg: str, outbox_id: int,
        *, confirm: bool) -> Outcome:
    """The page for a signed link: refused when its email is unknown, expired or the link was used."""
    message = session.get(OutboxMessage, outbox_id)
    if message is None:
        return Outcome(None, 404)
    now = app.services.clock.now()
    tr = translator(message.language)
    used = session.scalar(select(LinkUse).where(LinkUse.outbox_id == outbox_id, LinkUse.route == route,
                                                LinkUse.arg == arg))
    if used is not None:
        return Outcome(LinkPage(tr.lang, tr.gettext(
            "This link was used on {when}; each link works only once. What is still open is in the chat (/offen) "
            "and in the Wegbegleiter console.").format(when=tr.when(used.used_at)), None), 410)
    if _gone(message, now, app.settings.link_ttl_days):
        return Outcome(LinkPage(tr.lang, tr.gettext(
            "This link has expired: links in emails work only for {days} days. What is still open is in the chat (/offen) "
            "and in the Wegbegleiter console.").format(days=app.settings.link_ttl_days),
            None), 410)
    result = handler(session, app.services, int(arg), outbox_id, confirm=confirm)
    if result is not None and confirm:
        session.add(LinkUse(outbox_id=outbox_id, route=route, arg=arg, used_at=now))
        session.flush()
    return Outcome(result, 200 if result is not None else 404)


def same_origin(request: web.Request, base_url: str) -> bool:
    """Whether a POST comes from our own page. Browsers send ``Origin`` (and ``Sec-Fetch-Site``) with every
    POST; a request without them is no browser's, so no other website can have sent it."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    base = urlsplit(base_url)
    return origin in (f"{base.scheme}://{base.netloc}", f"{request.scheme}://{request.host}")


def add_routes(application: web.Application, app: App) -> None:
    for route, handler in LINKS.values():
        endpoint = link_endpoint(app, route, handler)
        application.router.add_get(f"/{route}/{{arg}}", endpoint)
        application.router.add_post(f"/{route}/{{arg}}", endpoint)


def link_endpoint(app: App, route: str, handler: LinkHandler) -> Callable[[web.Request], object]:
    async def endpoint(request: web.Request) -> web.Response:
        arg, outbox, sig = request.match_info["arg"], request.query.get("m", ""), request.query.get("sig", "")
        if not (NUMBER.fullmatch(arg) and NUMBER.fullmatch(outbox) and sig.isascii()
                and crypto.verify(f"{route}:{arg}:{outbox}", sig)):
            return page("Wegbegleiter", INVALID, status=403)
        confirm = request.method == "POST"
        if confirm and not same_origin(request, app.settings.public_base_url):
            return page("Wegbegleiter", FOREIGN, status=403)

        def work() -> Outcome:
            try:
                with transaction(app.sessions) as session:
                    return use(session, app, handler, route, arg, int(outbox), confirm=confirm)
            except IntegrityError:  # the same link pressed twice at once: the other press counted
                with transaction(app.sessions) as session:
                    return use(session, app, handler, route, arg, int(outbox), confirm=False)

        outcome = await asyncio.to_thread(work)
        result = outcome.page
        if result is None:
            return page("Wegbegleiter", INVALID, status=404)
        form = ""
        if result.button:
            form = (f"<form method='post' action='{html.escape(request.path_qs)}'>"
                    f"<button type='submit'>{html.escape(result.button)}</button></form>")
        return page("Wegbegleiter", result.text, form=form, lang=result.lang, status=outcome.status)

    return endpoint
