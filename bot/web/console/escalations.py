"""Open alerts and escalations, wherever a page lists them (a case, the Leitung's overview, the Jugendamt),
and the one action on them: "handled" (an alert) or "acknowledge" (three missed appointments).

The same function as the chat's button (:func:`conversations.escalations.acknowledge`) and the same rule
(:func:`authz.may_close_escalation`). Showing an alert shows the family's own words: each display is
audited, as a read of the complaint is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.web.console.desk import Desk, Redirect, Req, notice, route
from conversations import authz, escalations
from conversations.authz import require
from conversations.context import audit_many
from conversations.escalations import ATTENDANCE, SITUATION_TEXT
from conversations.i18n import N_
from conversations.rules.attendance import Situation
from storage.models import Escalation

CLOSED = notice("escalation_closed", N_("Recorded. Everyone who was told has been informed."))
ALREADY = notice("escalation_already", N_("Someone else had already done this. Nothing was changed."))


def age_text(desk: Desk, since: datetime) -> str:
    """"for 3 hours", "for 2 days": how long something has been open."""
    from babel.dates import format_timedelta

    return format_timedelta(desk.now - since, threshold=1.5, locale=desk.tr.locale, add_direction=False)


def items(desk: Desk, found: Sequence[Escalation], *, back: str) -> list[dict[str, Any]]:
    """What a page shows of each open escalation, with its button where the person may press it."""
    tr, shown = desk.tr, []
    audit_many(desk.session, [{"at": desk.now, "actor": desk.actor, "action": "escalation.read",
                               "object_type": "escalation", "object_id": e.id, "case_id": e.case_id,
                               "detail": {"via": "console"}} for e in found if e.kind != ATTENDANCE])
    for escalation in found:
        alert = escalation.kind != ATTENDANCE
        lines = [f"{tr.when(datetime.fromisoformat(a['starts_at']))} – "
                 f"{tr.gettext(SITUATION_TEXT[Situation(a['situation'])])}"
                 for a in escalation.facts.get("appointments", [])] if not alert else []
        shown.append({
            "id": escalation.id, "alert": alert, "case": escalation.case, "since": age_text(desk, escalation.created_at),
            "created": tr.when(escalation.created_at), "message": escalation.message if alert else None,
            "who": escalation.member.first_name if alert and escalation.member else None,
            "phrase": escalation.facts.get("phrase") if alert else None, "lines": lines,
            "late": escalation.due_at is not None and escalation.due_at < desk.now,
            "button": escalations.ack_choice(tr, escalation).label
            if authz.may_close_escalation(desk.principal, escalation) else None,
            "back": back,
        })
    return shown


def close(desk: Desk, req: Req) -> Redirect:
    escalation = desk.session.get(Escalation, req.id())
    require(escalation is not None and authz.may_close_escalation(desk.principal, escalation))
    assert escalation is not None
    result = escalations.acknowledge(desk.session, escalation, desk.staff, via="console", now=desk.now,
                                     note=req.form.get("note", "").strip()[:1000] or None)
    back = req.form.get("back", "")
    if not back.startswith("/") or back.startswith("//"):  # only a page of this console
        back = f"/cases/{escalation.case_id}"
    return Redirect(back, ALREADY if result.already else CLOSED)


def add_routes(application: web.Application) -> None:
    application.router.add_post("/escalations/{id}/close", route(close))
