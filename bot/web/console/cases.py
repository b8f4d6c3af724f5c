"""Fachkraft: my cases, and one case with everything the work needs on one page.

Members and team, coming and past appointments (recording what happened, as the chat's "what happened?"
question does), the month's hours with the chart, the Nachweisblatt, the Hilfeplan goals, the
Meilensteingespräch summaries, and open alerts and escalations. Each part asks its own rule in
:mod:`conversations.authz`, so the Jugendamt or the Leitung opening the same case see what is theirs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.web.console import AREAS, Area
from bot.web.console import escalations as open_items
from bot.web.console.desk import Desk, Page, Redirect, Req, notice, route
from conversations import appointments, authz, budget, nachweis
from conversations.admin import AdminError
from conversations.authz import require
from conversations.i18n import N_
from conversations.milestone import core
from conversations.rules.billing import Month
from conversations.rules.outcomes import Outcome
from storage.models import (
    Appointment,
    Case,
    CaseAssignment,
    ChatIdentity,
    Escalation,
    Milestone,
    Role,
)

RECORDED = notice("outcome_recorded", N_("Recorded. The hours of the month are updated."))
NOT_RECORDED = notice("outcome_not_recorded", N_("That could not be recorded: please give the hours as a number, "
                                                  "e.g. 2,5."))
SHOWN = 10  # coming and past appointments on the page

OUTCOME_LABELS = {
    Outcome.TOOK_PLACE: N_("took place"),
    Outcome.NO_SHOW: N_("the family was not there"),
    Outcome.CANCELLED_BY_FAMILY: N_("cancelled by the family"),
    Outcome.CANCELLED_BY_PROVIDER: N_("cancelled by us"),
    Outcome.PLANNED: N_("not recorded yet"),
}
ROLE_LABELS = {
    Role.FACHKRAFT: N_("Fachkraft"),
    Role.FALLFUEHREND: N_("fallführende Fachkraft (Jugendamt)"),
    Role.GESPRAECHSFUEHRUNG: N_("Gesprächsführung (Meilensteingespräch)"),
}
KIND_LABELS = {"parent": N_("parent"), "adult": N_("adult"), "child": N_("child")}


def my_case_ids(desk: Desk, role: Role = Role.FACHKRAFT) -> list[int]:
    return list(desk.session.scalars(select(CaseAssignment.case_id).where(
        CaseAssignment.staff_id == desk.staff.id, CaseAssignment.role == role, CaseAssignment.until.is_(None))))


def _to_record(desk: Desk, case_ids: list[int]) -> dict[int, int]:
    """Per case: appointments that have begun and still wait for "what happened"."""
    if not case_ids:
        return {}
    rows = desk.session.execute(select(Appointment.case_id, func.count(Appointment.id)).where(
        Appointment.case_id.in_(case_ids), Appointment.outcome == Outcome.PLANNED, Appointment.starts_at <= desk.now)
        .group_by(Appointment.case_id))
    return {case_id: count for case_id, count in rows}


def _count_to_record(desk: Desk) -> int:
    return sum(_to_record(desk, my_case_ids(desk)).values())


AREAS.append(Area("/cases", N_("My cases"), N_("Members, appointments, hours, Nachweis, goals and what is open, "
                                               "per case."),
                  lambda desk: desk.staff.has_role(Role.FACHKRAFT), _count_to_record))


def my_cases(desk: Desk, req: Req) -> Page:
    ids = my_case_ids(desk)
    cases = [c for c in desk.session.scalars(select(Case).where(Case.id.in_(ids))
                                             .options(selectinload(Case.assignments)).order_by(Case.title))
             if authz.may_see_case(desk.principal, c)] if ids else []
    shown = [c.id for c in cases]
    nxt = dict(desk.session.execute(select(Appointment.case_id, func.min(Appointment.starts_at)).where(
        Appointment.case_id.in_(shown), Appointment.outcome == Outcome.PLANNED, Appointment.starts_at > desk.now)
        .group_by(Appointment.case_id)).all()) if shown else {}
    open_counts = dict(desk.session.execute(select(Escalation.case_id, func.count(Escalation.id)).where(
        Escalation.case_id.in_(shown), Escalation.acknowledged_at.is_(None)).group_by(Escalation.case_id)).all()) \
        if shown else {}
    waiting = _to_record(desk, shown)
    return Page("cases.html", {"rows": [{
        "id": c.id, "title": c.title, "reference": c.reference, "help_type": c.help_type or "",
        "next": desk.tr.when(nxt[c.id]) if c.id in nxt else "", "open": open_counts.get(c.id, 0),
        "to_record": waiting.get(c.id, 0)} for c in cases]})


# --- one case ---------------------------------------------------------------------------------------------------
def _case(desk: Desk, req: Req) -> Case:
    case = desk.session.get(Case, req.id(), options=[
        selectinload(Case.members), selectinload(Case.assignments).selectinload(CaseAssignment.staff)])
    require(case is not None and authz.may_see_case(desk.principal, case))
    assert case is not None
    return case


def _month(req: Req, now: datetime) -> Month:
    try:
        return Month.parse(req.query["month"]) if "month" in req.query else Month.of(now)
    except ValueError:
        return Month.of(now)


def case_page(desk: Desk, req: Req) -> Page:
    case = _case(desk, req)
    tr, session = desk.tr, desk.session
    desk.audit("case.read", "case", case.id, case_id=case.id)
    month = _month(req, desk.now)
    linked = {row.member_id: row.channel for row in session.scalars(select(ChatIdentity).where(
        ChatIdentity.member_id.in_([m.id for m in case.members]), ChatIdentity.blocked_at.is_(None)))}
    coming = list(session.scalars(select(Appointment).where(
        Appointment.case_id == case.id, Appointment.starts_at > desk.now).order_by(Appointment.starts_at).limit(SHOWN)))
    past = list(session.scalars(select(Appointment).where(
        Appointment.case_id == case.id, Appointment.starts_at <= desk.now)
        .order_by(Appointment.starts_at.desc()).limit(SHOWN)))
    open_escalations = list(session.scalars(select(Escalation).where(
        Escalation.case_id == case.id, Escalation.acknowledged_at.is_(None)).order_by(Escalation.created_at)))
    hours = authz.may_see_hours(desk.principal, case)
    context: dict[str, Any] = {
        "case": case, "month": str(month),
        "months": {"previous": str(month.previous()), "next": str(month.next()),
                   "label": tr.date(month.first_day, "LLLL yyyy")},
        "members": [{"name": m.display_name, "kind": tr.gettext(KIND_LABELS.get(m.kind, m.kind)),
                     "linked": linked.get(m.id), "email": bool(m.email)} for m in case.members],
        "team": [{"name": a.staff.name, "role": tr.gettext(ROLE_LABELS.get(Role(a.role), a.role)),
                  "phone": a.staff.phone, "email": a.staff.email}
                 for a in case.assignments if a.until is None and a.staff.active],
        "coming": [_appointment(desk, a) for a in coming],
        "past": [_appointment(desk, a) for a in past],
        "open": open_items.items(desk, open_escalations, back=f"/cases/{case.id}"),
        "hours": hours, "goals": [{"level": core.level_label(tr, g.level), "text": g.text}
                                   for g in core.goals(session, case)],
        "milestones": [{"id": ms.id, "when": tr.when(ms.appointment.starts_at)}
                       for ms in session.scalars(select(Milestone).where(Milestone.case_id == case.id)
                                                 .options(selectinload(Milestone.appointment)).order_by(Milestone.id))
                       if authz.may_read_milestone_answers(desk.principal, ms)],
    }
    if hours:
        stmt = budget.case_statement(session, case, month)
        conf = nachweis.confirmation(session, case, month)
        context |= {"statement": budget.statement_text(tr, case, stmt).split("\n")[1:],
                    "chart_version": f"{stmt.used_minutes}-{stmt.planned_minutes}-{stmt.allowed_minutes}",
                    "used_percent": stmt.used_percent, "has_budget": bool(budget.periods(session, case)),
                    "nachweis": nachweis._status_line(tr, conf) if conf else None,
                    "nachweis_asked": conf is not None}
    return Page("case.html", context)


def _appointment(desk: Desk, a: Appointment) -> dict[str, Any]:
    tr = desk.tr
    recordable = a.starts_at <= desk.now and authz.may_record_outcome(desk.principal, a)
    return {
        "id": a.id, "when": tr.when(a.starts_at), "kind": appointments.kind_label(tr, a.kind),
        "planned": appointments.hours_text(tr, a.duration_minutes),
        "actual": appointments.hours_text(tr, a.actual_minutes) if a.actual_minutes else "",
        "outcome": tr.gettext(OUTCOME_LABELS.get(Outcome(a.outcome), a.outcome)),
        "open": a.outcome == Outcome.PLANNED, "recordable": recordable,
        "default_hours": tr.number((a.actual_minutes or a.duration_minutes) / 60),
    }


def chart(desk: Desk, req: Req) -> web.Response:
    case = _case(desk, req)
    require(authz.may_see_hours(desk.principal, case))
    stmt = budget.case_statement(desk.session, case, _month(req, desk.now))
    return web.Response(body=budget.chart_png(desk.tr, case, stmt), content_type="image/png",
                        headers={"Cache-Control": "no-store"})


def nachweis_pdf(desk: Desk, req: Req) -> web.Response:
    case = _case(desk, req)
    require(authz.may_see_hours(desk.principal, case))
    month = _month(req, desk.now)
    desk.audit("nachweis.read", "case", case.id, case_id=case.id, month=str(month))
    return web.Response(body=nachweis.pdf_bytes(desk.tr, desk.session, case, month, desk.now), content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="nachweis-{case.reference}-{month}.pdf"',
                                 "Cache-Control": "no-store"})


# --- recording what happened -------------------------------------------------------------------------------------
HOURS = re.compile(r"^\s*(\d{1,2})(?:[.,](\d{1,2}))?\s*(?:h|std\.?)?\s*$", re.IGNORECASE)


def minutes_of(text: str) -> int | None:
    """"2,5" or "2.5" hours (or "2") as minutes; None if it is not a number of hours."""
    match = HOURS.match(text or "")
    if not match:
        return None
    whole, frac = int(match[1]), match[2] or "0"
    return round((whole + int(frac) / 10 ** len(frac)) * 60)


def record(desk: Desk, req: Req) -> Redirect:
    appointment = desk.session.get(Appointment, req.id())
    require(appointment is not None and authz.may_record_outcome(desk.principal, appointment))
    assert appointment is not None
    back = f"/cases/{appointment.case_id}?month={Month.of(appointment.starts_at)}"
    outcome = req.form.get("outcome", "")
    minutes = minutes_of(req.form.get("hours", "")) if outcome == Outcome.TOOK_PLACE else None
    if outcome not in {o.value for o in Outcome} - {Outcome.PLANNED.value} or (
            outcome == Outcome.TOOK_PLACE and req.form.get("hours") and minutes is None):
        return Redirect(back, NOT_RECORDED)
    try:
        appointments.record_outcome(desk.session, desk.services, desk.staff, appointment, outcome, minutes)
    except AdminError:
        return Redirect(back, NOT_RECORDED)
    return Redirect(back, RECORDED)


def add_routes(application: web.Application) -> None:
    router = application.router
    router.add_get("/cases", route(my_cases))
    router.add_get("/cases/{id}", route(case_page))
    router.add_get("/cases/{id}/chart.png", route(chart))
    router.add_get("/cases/{id}/nachweis.pdf", route(nachweis_pdf))
    router.add_post("/appointments/{id}/outcome", route(record))

