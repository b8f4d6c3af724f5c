"""Jugendamt (fallführende Fachkraft): only her cases — escalations to acknowledge, extra hours to confirm,
the monthly Nachweise. The links in her emails lead to pages in the same look (:mod:`bot.web.links`).

She steers and confirms; she does not record visits (:mod:`conversations.authz`). Confirming extra hours
is the same function as her button in the chat and her email link (:func:`budget.approve_extra_hours`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.web.console import AREAS, Area
from bot.web.console import escalations as open_items
from bot.web.console.cases import my_case_ids
from bot.web.console.desk import Desk, Page, Redirect, Req, notice, route
from conversations import appointments, authz, budget, nachweis
from conversations.authz import require
from conversations.escalations import ATTENDANCE
from conversations.i18n import N_
from conversations.rules.billing import Month
from storage.models import Appointment, Case, Escalation, ExtraHoursRequest, NachweisConfirmation, Role

SHOWN = 30
APPROVED = notice("extra_approved", N_("The extra hours are confirmed. The Fachkräfte have been told."))


def _waiting(desk: Desk) -> int:
    ids = my_case_ids(desk, Role.FALLFUEHREND)
    if not ids:
        return 0
    pending = desk.session.scalars(select(ExtraHoursRequest.id).where(
        ExtraHoursRequest.case_id.in_(ids), ExtraHoursRequest.status == "pending")).all()
    escalations = desk.session.scalars(select(Escalation.id).where(
        Escalation.case_id.in_(ids), Escalation.kind == ATTENDANCE, Escalation.acknowledged_at.is_(None))).all()
    return len(pending) + len(escalations)


AREAS.append(Area("/jugendamt", N_("My cases at the Jugendamt"), N_("Escalations to acknowledge, extra hours to "
                                                                  "confirm, the monthly Nachweise."),
                  lambda desk: desk.staff.has_role(Role.FALLFUEHREND), _waiting))


def page(desk: Desk, req: Req) -> Page:
    ids = my_case_ids(desk, Role.FALLFUEHREND)
    session, tr = desk.session, desk.tr
    cases = [c for c in session.scalars(select(Case).where(Case.id.in_(ids))
                                        .options(selectinload(Case.assignments)).order_by(Case.title))
             if authz.may_see_case(desk.principal, c)] if ids else []
    mine = [c.id for c in cases]
    context: dict[str, Any] = {"cases": cases, "open": [], "extra": [], "nachweise": []}
    if mine:
        found = session.scalars(select(Escalation).where(
            Escalation.case_id.in_(mine), Escalation.kind == ATTENDANCE, Escalation.acknowledged_at.is_(None))
            .options(selectinload(Escalation.case).selectinload(Case.assignments))
            .order_by(Escalation.created_at).limit(SHOWN)).all()
        context["open"] = open_items.items(desk, found, back="/jugendamt")
        requests = session.scalars(select(ExtraHoursRequest).where(
            ExtraHoursRequest.case_id.in_(mine), ExtraHoursRequest.status == "pending")
            .options(selectinload(ExtraHoursRequest.case).selectinload(Case.assignments))
            .order_by(ExtraHoursRequest.requested_at).limit(SHOWN)).all()
        visits = {a.id: a for a in session.scalars(select(Appointment).where(
            Appointment.id.in_([r.appointment_id for r in requests if r.appointment_id])))} if requests else {}
        context["extra"] = [{
            "id": r.id, "case": r.case, "month": tr.date(Month.parse(r.month).first_day, "LLLL yyyy"),
            "hours": appointments.hours_text(tr, r.minutes),
            "visit": appointments.describe(tr, visits[r.appointment_id]) if r.appointment_id in visits else "",
            "may": authz.may_approve_extra_hours(desk.principal, r)} for r in requests]
        proofs = session.scalars(select(NachweisConfirmation).where(NachweisConfirmation.case_id.in_(mine))
                                 .options(selectinload(NachweisConfirmation.case),
                                          selectinload(NachweisConfirmation.answered_by_member))
                                 .order_by(NachweisConfirmation.month.desc(), NachweisConfirmation.id).limit(SHOWN)).all()
        context["nachweise"] = [{"case": n.case, "month": n.month,
                                 "label": tr.date(Month.parse(n.month).first_day, "LLLL yyyy"),
                                 "status": nachweis._status_line(tr, n)} for n in proofs]
    return Page("jugendamt.html", context)


def approve(desk: Desk, req: Req) -> Redirect:
    request = desk.session.get(ExtraHoursRequest, req.id())
    require(request is not None and authz.may_approve_extra_hours(desk.principal, request))
    assert request is not None
    budget.approve_extra_hours(desk.session, desk.services, request.id, desk.staff.id)
    return Redirect("/jugendamt", APPROVED)


def add_routes(application: web.Application) -> None:
    application.router.add_get("/jugendamt", route(page))
    application.router.add_post("/extra-hours/{id}/approve", route(approve))
