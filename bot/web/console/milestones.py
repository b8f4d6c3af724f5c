"""Gesprächsführer*in: the Meilensteingespräche she leads, the family's and the Fachkräfte's views side by
side (:func:`conversations.milestone.summary.build`, as in the chat and the PDF), and the evaluation form
after the talk (:func:`conversations.milestone.evaluation.record_evaluation`, the chat flow's function)."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.web.console import AREAS, Area
from bot.web.console.desk import Desk, Page, Redirect, Req, notice, route
from conversations import authz
from conversations.authz import require
from conversations.i18n import N_
from conversations.milestone import core, evaluation, summary
from storage.models import Appointment, Case, Milestone, Role

ACTIONS = 3  # action rows on the form; a second save adds more
SAVED = notice("evaluation_saved", N_("Thank you, the evaluation is recorded."))
AREAS.append(Area("/milestones", N_("Meilensteingespräche"), N_("The summaries of the talks you lead, and the "
                                                                "evaluation afterwards."),
                  lambda desk: desk.staff.has_role(Role.GESPRAECHSFUEHRUNG)))


def listing(desk: Desk, req: Req) -> Page:
    found = desk.session.scalars(select(Milestone).join(Appointment).where(Milestone.leader_id == desk.staff.id)
                                 .options(selectinload(Milestone.case).selectinload(Case.assignments),
                                          selectinload(Milestone.appointment),
                                          selectinload(Milestone.responses))
                                 .order_by(Appointment.starts_at.desc()).limit(100)).all()
    tr = desk.tr
    return Page("milestones.html", {"rows": [{
        "id": ms.id, "case": ms.case.title, "reference": ms.case.reference, "when": tr.when(ms.appointment.starts_at),
        "sent": sum(1 for r in ms.responses if r.submitted_at), "invited": len(ms.responses),
        "past": ms.appointment.starts_at <= desk.now,
    } for ms in found if authz.may_read_milestone_answers(desk.principal, ms)]})


def _milestone(desk: Desk, req: Req) -> Milestone:
    ms = desk.session.get(Milestone, req.id())
    require(ms is not None and authz.may_read_milestone_answers(desk.principal, ms))
    assert ms is not None
    return ms


def detail(desk: Desk, req: Req) -> Page:
    ms = _milestone(desk, req)
    tr = desk.tr
    desk.audit("milestone.summary_read", "milestone", ms.id, case_id=ms.case_id)
    built = summary.build(tr, ms)
    context: dict[str, Any] = {"ms": ms, "summary": built, "evaluation": summary.evaluation_text(tr, ms),
                               "may_evaluate": authz.may_record_evaluation(desk.principal, ms, desk.now),
                               "actions": range(ACTIONS), "people": core.readers(ms)}
    return Page("milestone.html", context)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def evaluate(desk: Desk, req: Req) -> Redirect:
    ms = _milestone(desk, req)
    require(authz.may_record_evaluation(desk.principal, ms, desk.now))
    form = req.form
    readers = {s.id for s in core.readers(ms)}
    actions = []
    for i in range(ACTIONS):
        text = form.get(f"action-{i}", "").strip()
        who = form.get(f"who-{i}", "")
        if text:
            assignee = int(who) if who.isdigit() and int(who) in readers else None
            actions.append(evaluation.AgreedAction(text[:1000], assignee, _day(form.get(f"due-{i}", ""))
                                                   if assignee else None))
    evaluation.record_evaluation(
        desk.session, ms, desk.staff, desk.now, signs={"yes": True, "no": False}.get(form.get("signs", "")),
        note=form.get("note", "").strip()[:2000] or None, blind_spots=form.get("blind_spots", "").strip()[:4000] or None,
        insights=form.get("insights", "").strip()[:4000] or None, actions=actions)
    return Redirect(f"/milestones/{ms.id}", SAVED)


def add_routes(application: web.Application) -> None:
    application.router.add_get("/milestones", route(listing))
    application.router.add_get("/milestones/{id}", route(detail))
    application.router.add_post("/milestones/{id}/evaluation", route(evaluate))
