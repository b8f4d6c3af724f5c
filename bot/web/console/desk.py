"""How a console request runs: one transaction in a worker thread, the signed-in person, the answer.

A view is a plain function ``view(desk, req) -> Answer``. :func:`route` wraps it: it finds the session
behind the cookie (checking on every request that the person may still use the console), checks the
CSRF token of every POST, runs the view inside one database transaction and renders its template there
(templates may read lazily loaded rows). A view that refuses raises :class:`NotAllowed`; the person sees
"not found", the same as for an id that does not exist, so a refusal reveals nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.orm import Session

from bot.app import App
from bot.web.console import sessions
from conversations.authz import NotAllowed, Principal
from conversations.context import Services, audit
from conversations.i18n import Translator, available_languages, language_name, normalise_language, translator
from storage.db import transaction
from storage.models import StaffMember
from storage.models.console import ConsoleSession

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

APP_KEY = web.AppKey("wegbegleiter", App)


@dataclass
class Req:
    """What a view may know of the HTTP request (plain values: views run in a worker thread)."""

    method: str
    path: str
    match: Mapping[str, str]
    query: Mapping[str, str]
    form: Mapping[str, str]
    htmx: bool = False

    def id(self, name: str = "id") -> int:
        """A numeric id from the path; anything else is "not found"."""
        value = self.match.get(name, "")
        if not value.isdigit() or len(value) > 12:
            raise NotAllowed
        return int(value)


@dataclass
class Desk:
    """The signed-in person at work: the session, who they are, their language, the time."""

    session: Session
    services: Services
    staff: StaffMember
    console: ConsoleSession
    tr: Translator
    now: datetime
    memo: dict[str, Any] = field(default_factory=dict)  # what the layout and the page both ask, asked once

    @property
    def principal(self) -> Principal:
        return Principal(staff=self.staff)

    @property
    def actor(self) -> str:
        return f"staff:{self.staff.id}"

    def audit(self, action: str, object_type: str, object_id: object = None, case_id: int | None = None,
              **detail: Any) -> None:
        audit(self.session, at=self.now, actor=self.actor, action=action, object_type=object_type,
              object_id=object_id, case_id=case_id, via="console", **detail)

    def csrf(self, path: str) -> str:
        return sessions.csrf_token(self.console.csrf_key, path)


@dataclass
class Page:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass
class Redirect:
    location: str
    notice: str | None = None  # a key of NOTICES, shown once on the next page

    def url(self) -> str:
        if not self.notice:
            return self.location
        joiner = "&" if "?" in self.location else "?"
        return f"{self.location}{joiner}{urlencode({'notice': self.notice})}"


Answer = Page | Redirect | web.StreamResponse
View = Callable[[Desk, Req], Answer]


# --- language before sign-in ---------------------------------------------------------------------------
def browser_language(request: web.Request) -> str:
    """The language asked for (``?lang=``), else the browser's first offered one, else German."""
    asked = request.query.get("lang")
    if asked:
        return normalise_language(asked)
    offered = set(available_languages())
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().replace("-", "_")
        for candidate in (code, code.split("_")[0]):
            if candidate in offered:
                return candidate
    return "de"


def languages() -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in available_languages()]


# --- rendering ---------------------------------------------------------------------------------------------
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """The templates of every page (the console's and the signed links'), made at the first page shown:
    Jinja2 costs a running bot about 1.5 MB, and most bots serve chats for hours before anyone opens the
    console (bench/footprint.py). The first page waits for the import once (about 35 ms), as it waits
    for its template to compile."""
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def render(tr: Translator, page: Page, **common: Any) -> web.Response:
    context = {"_": tr.gettext, "ngettext": tr.ngettext, "tr": tr, "lang": tr.lang,
               "dir": "rtl" if tr.rtl else "ltr", "languages": languages(), "staff": None, "notice": None,
               "nav": [], "path": "", **common, **page.context}
    body = environment().get_template(page.template).render(context)
    return web.Response(text=body, content_type="text/html", status=page.status, headers=SECURITY_HEADERS)


def not_found(tr: Translator, **common: Any) -> web.Response:
    return render(tr, Page("not_found.html", status=404), **common)


def secure_cookies(app: App) -> bool:
    return app.settings.public_base_url.startswith("https://")


def set_cookie(response: web.StreamResponse, app: App, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, httponly=True, secure=secure_cookies(app), samesite="Strict", path="/",
                        max_age=max_age)


# --- the wrapper every console page goes through --------------------------------------------------------------
Common = Callable[[Desk, Req], dict[str, Any]]
_common: list[Common] = []  # the layout's data (navigation), set by bot.web.console


def layout_data(provider: Common) -> Common:
    _common.append(provider)
    return provider


def route(view: View) -> Callable[[web.Request], Any]:
    """The aiohttp handler for a console view."""

    async def handler(request: web.Request) -> web.StreamResponse:
        app: App = request.app[APP_KEY]
        form = await request.post() if request.method == "POST" else {}
        req = Req(method=request.method, path=request.path, match=dict(request.match_info),
                  query=dict(request.query), form={k: str(v) for k, v in form.items()},
                  htmx=request.headers.get("HX-Request") == "true")
        token = request.cookies.get(sessions.COOKIE)
        answer = await asyncio.to_thread(run, app, view, token, req)
        if isinstance(answer, Redirect):
            url = answer.url()
            if req.htmx:  # htmx would swap the next page into this one: let it load the page as a whole
                return web.Response(status=204, headers={"HX-Location": url, **SECURITY_HEADERS})
            raise web.HTTPSeeOther(url, headers=SECURITY_HEADERS)
        return answer

    return handler


class Refused(Exception):
    """A POST without the CSRF token of its form and session."""


def run(app: App, view: View, token: str | None, req: Req) -> Answer:
    services, now = app.services, app.services.clock.now()
    idle = timedelta(minutes=app.settings.console_idle_minutes)
    tr, staff_id = translator(None), None
    try:
        with transaction(app.sessions) as session:
            console = sessions.current(session, token, now, idle)
            if console is None:
                return Redirect("/signin", "signed_out" if token else None)
            staff, staff_id = console.staff, console.staff_id
            tr = translator(staff.language)
            desk = Desk(session=session, services=services, staff=staff, console=console, tr=tr, now=now)
            if req.method == "POST" and not sessions.csrf_valid(console.csrf_key, req.path, req.form.get("csrf")):
                raise Refused
            answer = view(desk, req)
            if isinstance(answer, Page):
                common: dict[str, Any] = {"staff": staff, "csrf": desk.csrf, "path": req.path,
                                          "notice": tr.gettext(NOTICES[key]) if (key := req.query.get("notice"))
                                          in NOTICES else None}
                for provider in _common:
                    common.update(provider(desk, req))
                return render(tr, answer, **common)
            return answer
    except (NotAllowed, Refused) as refusal:
        # Rolled back: nothing the refused request touched stays. The refusal itself is recorded.
        with transaction(app.sessions) as session:
            audit(session, at=now, actor=f"staff:{staff_id}" if staff_id else "anonymous", action="console.refused",
                  object_type="console", path=req.path, method=req.method,
                  reason="csrf" if isinstance(refusal, Refused) else "not_allowed")
        if isinstance(refusal, Refused):
            return render(tr, Page("refused.html", status=403))
        return not_found(tr)


# Notices shown once after an action (the redirect names them), translated when shown.
NOTICES: dict[str, str] = {}


def notice(key: str, text: str) -> str:
    """Register a notice (``text`` marked with ``N_``); returns its key for :class:`Redirect`."""
    NOTICES[key] = text
    return key
