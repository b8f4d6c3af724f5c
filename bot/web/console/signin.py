"""Signing in and out: the sign-in page, the single-use link, "sign out", "sign out everywhere".

Before sign-in there is no session; the sign-in forms' CSRF tokens are bound to a random cookie of this
browser (``wb_pre``) and signed with the server's key. The link's GET only shows a button (mail scanners
and chat link previews open links); its POST uses the link up and starts the session.
"""

from __future__ import annotations

import asyncio
import secrets

from aiohttp import web

from bot.app import App
from bot.web.console import sessions
from bot.web.console.desk import (
    APP_KEY,
    NOTICES,
    SECURITY_HEADERS,
    Desk,
    Page,
    Req,
    browser_language,
    notice,
    render,
    route,
    set_cookie,
)
from conversations.i18n import N_, translator
from conversations.webconsole import signin
from storage import crypto
from storage.db import transaction

LINK_SENT = notice("link_sent", N_("If this address belongs to someone at the Träger, a sign-in link is on its way "
                                    "there now. It works once, for 10 minutes."))
SIGNED_OUT = notice("signed_out", N_("You are signed out. Please sign in again."))
SIGNED_OUT_NOW = notice("signed_out_now", N_("You are signed out. Thank you for your work."))
EVERYWHERE = notice("signed_out_everywhere", N_("You are signed out on every device."))
FORM_EXPIRED = notice("form_expired", N_("The form had expired. Please try again."))


def pre_token(pre: str, path: str) -> str:
    return crypto.sign(f"console-pre:{pre}:{path}")


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **SECURITY_HEADERS})


def _pre_cookie(request: web.Request) -> tuple[str, bool]:
    """This browser's pre-sign-in value; True if it is new and must be set."""
    pre = request.cookies.get(sessions.PRE_COOKIE, "")
    return (pre, False) if len(pre) >= 20 else (secrets.token_urlsafe(24), True)


def _pre_valid(request: web.Request, form: dict[str, str]) -> bool:
    pre = request.cookies.get(sessions.PRE_COOKIE, "")
    given = form.get("csrf", "")
    return len(pre) >= 20 and bool(given) and crypto.verify(f"console-pre:{pre}:{request.path}", given)


def _page(request: web.Request, template: str, status: int = 200, **context: object) -> web.Response:
    app: App = request.app[APP_KEY]
    pre, new = _pre_cookie(request)
    tr = translator(browser_language(request))
    key = request.query.get("notice", "")
    response = render(tr, Page(template, dict(context), status),
                      csrf=lambda path: pre_token(pre, path), path=request.path, staff=None,
                      notice=tr.gettext(NOTICES[key]) if key in NOTICES else None)
    if new:
        set_cookie(response, app, sessions.PRE_COOKIE, pre)
    return response


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    return _page(request, "signin.html")


async def request_link(request: web.Request) -> web.StreamResponse:
    app: App = request.app[APP_KEY]
    form = {k: str(v) for k, v in (await request.post()).items()}
    if not _pre_valid(request, form):
        return _see_other(f"/signin?notice={FORM_EXPIRED}")

    def work() -> None:
        with transaction(app.sessions) as session:
            signin.request_by_email(session, app.services, form.get("email", ""))

    await asyncio.to_thread(work)
    lang = browser_language(request)
    return _see_other(f"/signin?notice={LINK_SENT}&lang={lang}")


async def link_page(request: web.Request) -> web.StreamResponse:
    app: App = request.app[APP_KEY]
    token = request.match_info["token"]

    def valid() -> bool:
        with transaction(app.sessions) as session:
            return signin.valid_link(session, token, app.services.clock.now()) is not None

    if not await asyncio.to_thread(valid):
        return _page(request, "link_invalid.html", status=403)
    return _page(request, "link.html")


async def use_link(request: web.Request) -> web.StreamResponse:
    app: App = request.app[APP_KEY]
    token = request.match_info["token"]
    form = {k: str(v) for k, v in (await request.post()).items()}
    if not _pre_valid(request, form):
        return _page(request, "link.html", status=403, expired=True)

    def work() -> str | None:
        now = app.services.clock.now()
        with transaction(app.sessions) as session:
            staff = signin.redeem(session, token, now)
            return None if staff is None else sessions.start(session, staff, now, request.headers.get("User-Agent"))

    cookie = await asyncio.to_thread(work)
    if cookie is None:
        return _page(request, "link_invalid.html", status=403)
    response = _see_other("/")
    set_cookie(response, app, sessions.COOKIE, cookie)
    response.del_cookie(sessions.PRE_COOKIE, path="/")
    return response


def sign_out(desk: Desk, req: Req) -> web.StreamResponse:
    sessions.end(desk.session, desk.console, desk.now)
    response = _see_other(f"/signin?notice={SIGNED_OUT_NOW}")
    response.del_cookie(sessions.COOKIE, path="/")
    return response


def sign_out_everywhere(desk: Desk, req: Req) -> web.StreamResponse:
    sessions.end_all(desk.session, desk.staff.id, desk.now)
    response = _see_other(f"/signin?notice={EVERYWHERE}")
    response.del_cookie(sessions.COOKIE, path="/")
    return response


def add_routes(application: web.Application) -> None:
    application.router.add_get("/signin", sign_in_page)
    application.router.add_post("/signin", request_link)
    application.router.add_get(f"{signin.PATH}{{token}}", link_page)
    application.router.add_post(f"{signin.PATH}{{token}}", use_link)
    application.router.add_post("/signout", route(sign_out))
    application.router.add_post("/signout/everywhere", route(sign_out_everywhere))



