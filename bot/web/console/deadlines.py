"""Fachkraft and Leitung: the Hilfeplan deadlines of their cases (:func:`conversations.hilfeplan.core.coming_for`,
as /fristen in the chat), each marked done with one click (:func:`conversations.hilfeplan.core.mark_done`)."""

from __future__ import annotations

from aiohttp import web

from bot.web.console import AREAS, Area
from bot.web.console.desk import Desk, Page, Redirect, Req, notice, route
from conversations import authz
from conversations.authz import require
from conversations.clock import BERLIN
from conversations.hilfeplan import core
from conversations.hilfeplan.chat import WEEKS
from conversations.i18n import N_
from storage.models import Role
from storage.models.hilfeplan import HilfeplanItem

DONE = notice("deadline_done", N_("The deadline is marked as done."))
AREAS.append(Area("/deadlines", N_("Deadlines"), N_("The Hilfeplan deadlines of your cases, and marking them done."),
                  lambda desk: desk.staff.has_role(Role.FACHKRAFT, Role.LEITUNG)))


def listing(desk: Desk, req: Req) -> Page:
    tr = desk.tr
    today = desk.now.astimezone(BERLIN).date()
    found = core.coming_for(desk.session, desk.principal, desk.now, WEEKS)
    desk.audit("hilfeplan.deadlines_read", "staff", desk.staff.id)
    return Page("deadlines.html", {"weeks": WEEKS, "rows": [{
        "id": item.id, "due": tr.date(item.due_on, "medium"), "label": core.item_label(tr, item),
        "case": item.case.title, "reference": item.case.reference, "case_id": item.case_id,
        "overdue": item.due_on < today, "may_mark": authz.may_mark_deadline_done(desk.principal, item),
    } for item in found]})


def done(desk: Desk, req: Req) -> Redirect:
    item = desk.session.get(HilfeplanItem, req.id())
    require(item is not None and item.obsolete_at is None and authz.may_mark_deadline_done(desk.principal, item))
    assert item is not None
    core.mark_done(desk.session, desk.principal, desk.now, item)
    return Redirect("/deadlines", DONE)


def add_routes(application: web.Application) -> None:
    application.router.add_get("/deadlines", route(listing))
    application.router.add_post("/deadlines/{id}/done", route(done))
