"""Leitung: the Träger at a glance, each line linking to where it is handled.

Open child-protection alerts and escalations with their age (handled right here), complaints near or past
their deadlines, budgets at 80 % and 100 %, extra hours waiting for the Jugendamt, Nachweisblätter not
confirmed yet, messages that could not be delivered, and people without a way to reach them. Every
section is bounded (:data:`SHOWN` rows, with the total), so the page costs the same number of queries
however large the Träger is. The alerts refresh by themselves (htmx), so a new one appears while the
page is open.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from bot.web.console import AREAS, Area
from bot.web.console import escalations as open_items
from bot.web.console.complaints import due, load_people
from bot.web.console.desk import Desk, Page, Req, route
from conversations import authz, budget
from conversations.authz import require
from conversations.complaints import procedure, report, rules
from conversations.i18n import N_
from conversations.rules.billing import Month
from storage.models import (
    Case,
    ChatIdentity,
    Escalation,
    ExtraHoursRequest,
    FamilyMember,
    NachweisConfirmation,
    OutboxMessage,
    OutboxStatus,
    StaffMember,
)

SHOWN = 20  # rows per section, the oldest first, with the total beside the heading
REFRESH_SECONDS = 20  # how often the open alerts refresh while the page is open
UNDELIVERED_DAYS = 30
COUNT_LIMIT = 1000


def _open_escalations(desk: Desk):  # type: ignore[no-untyped-def]
    return (select(Escalation).join(Case, Case.id == Escalation.case_id)
            .where(Case.organisation_id == desk.staff.organisation_id, Escalation.acknowledged_at.is_(None)))


def _count_open(desk: Desk) -> int:
    """Asked by the navigation and by the page: counted once per request."""
    if "open_escalations" not in desk.memo:
        query = _open_escalations(desk).with_only_columns(func.count(Escalation.id))
        desk.memo["open_escalations"] = int(desk.session.scalar(query) or 0)
    return desk.memo["open_escalations"]


AREAS.append(Area("/overview", N_("Overview"), N_("The Träger at a glance: what is open, late or stuck."),
                  lambda desk: authz.may_see_overview(desk.principal), _count_open))


def overview(desk: Desk, req: Req) -> Page:
    require(authz.may_see_overview(desk.principal))
    org = desk.staff.organisation_id
    session, tr = desk.session, desk.tr
    found = session.scalars(_open_escalations(desk).options(
        selectinload(Escalation.case).selectinload(Case.assignments), selectinload(Escalation.member))
                            .order_by(Escalation.created_at).limit(SHOWN)).all()
    context: dict[str, Any] = {
        "refresh": REFRESH_SECONDS,
        "open": open_items.items(desk, found, back="/overview"), "open_total": _count_open(desk),
    }
    # complaints near or past their deadline (the Leitung sees every complaint not about herself)
    pressing = [c for c in report.find(session, report.Filters(status="open", organisation_id=org))
                if authz.may_see_complaint(desk.principal, c)
                and rules.deadline_state(c, desk.now) in (rules.Deadline.LATE, rules.Deadline.SOON)]
    load_people(desk, pressing[:SHOWN])
    procedure.log_many(session, desk.now, desk.actor, "complaint.listed", pressing[:SHOWN])
    context["complaints"] = [{"id": c.id, "reference": c.reference, "about": procedure.about_text(tr, c),
                              **due(desk, c)} for c in pressing[:SHOWN]]
    context["complaints_total"] = len(pressing)
    # budgets at 80 % / 100 % this month: the warnings the team was sent are the record
    month = Month.of(desk.now)
    warned = budget.warned_thresholds(session, month)
    cases = {c.id: c for c in session.scalars(select(Case).where(
        Case.id.in_(list(warned)[:SHOWN * 4]), Case.organisation_id == org))} if warned else {}
    context["budgets"] = sorted(({"case": cases[i], "percent": warned[i]} for i in cases),
                                key=lambda row: (-row["percent"], row["case"].title))[:SHOWN]
    context["budgets_total"] = len(cases)
    # extra hours waiting for the Jugendamt, Nachweisblätter not confirmed
    extra = session.scalars(select(ExtraHoursRequest).join(Case).where(
        Case.organisation_id == org, ExtraHoursRequest.status == "pending")
        .options(selectinload(ExtraHoursRequest.case)).order_by(ExtraHoursRequest.requested_at).limit(SHOWN)).all()
    context["extra"] = [{"case": r.case, "month": tr.date(Month.parse(r.month).first_day, "LLLL yyyy"),
                         "hours": tr.number(r.minutes / 60), "since": open_items.age_text(desk, r.requested_at)}
                        for r in extra]
    unconfirmed = session.scalars(select(NachweisConfirmation).join(Case).where(
        Case.organisation_id == org, NachweisConfirmation.status == "pending")
        .options(selectinload(NachweisConfirmation.case)).order_by(NachweisConfirmation.asked_at).limit(SHOWN)).all()
    context["unconfirmed"] = [{"case": n.case, "month": tr.date(Month.parse(n.month).first_day, "LLLL yyyy"),
                               "since": open_items.age_text(desk, n.asked_at)} for n in unconfirmed]
    context |= _undelivered(desk) | _unreachable(desk)
    return Page("overview.html", context)


def _undelivered(desk: Desk) -> dict[str, Any]:
    """Messages the networks refused or the person blocked, in the last days, with whom they were for."""
    org, tr = desk.staff.organisation_id, desk.tr
    since = desk.now - timedelta(days=UNDELIVERED_DAYS)
    rows = desk.session.execute(
        select(OutboxMessage, ChatIdentity, FamilyMember, StaffMember)
        .outerjoin(ChatIdentity, ChatIdentity.id == OutboxMessage.identity_id)
        .outerjoin(FamilyMember, FamilyMember.id == ChatIdentity.member_id)
        .outerjoin(Case, Case.id == FamilyMember.case_id)
        .outerjoin(StaffMember, or_(StaffMember.id == ChatIdentity.staff_id,
                                    and_(OutboxMessage.identity_id.is_(None), StaffMember.email == OutboxMessage.address)))
        .where(OutboxMessage.status.in_([OutboxStatus.FAILED.value, OutboxStatus.BLOCKED.value]),
               OutboxMessage.created_at >= since,
               or_(Case.organisation_id == org, StaffMember.organisation_id == org))
        .order_by(OutboxMessage.created_at.desc()).limit(SHOWN)).all()
    return {"undelivered": [{
        "when": tr.datetime(m.created_at, "short"), "channel": m.channel,
        "to": member.display_name if member else staff.name if staff else m.address,
        "case_id": member.case_id if member else None,
        "why": tr.gettext("blocked the bot") if m.status == OutboxStatus.BLOCKED else (m.last_error or "")[:120],
    } for m, _chat, member, staff in rows]}


def _unreachable(desk: Desk) -> dict[str, Any]:
    """Family members of open cases and active staff with no chat and no email: nothing reaches them."""
    org = desk.staff.organisation_id
    no_chat_member = ~exists().where(ChatIdentity.member_id == FamilyMember.id, ChatIdentity.blocked_at.is_(None))
    members = (select(FamilyMember).join(Case).where(
        Case.organisation_id == org, Case.closed_at.is_(None), FamilyMember.email.is_(None), no_chat_member))
    no_chat_staff = ~exists().where(ChatIdentity.staff_id == StaffMember.id, ChatIdentity.blocked_at.is_(None))
    staff = select(StaffMember).where(StaffMember.organisation_id == org, StaffMember.active.is_(True),
                                      StaffMember.email.is_(None), no_chat_staff)
    session = desk.session
    return {
        "unreachable_members": session.scalars(members.options(selectinload(FamilyMember.case))
                                               .order_by(FamilyMember.case_id, FamilyMember.id).limit(SHOWN)).all(),
        # counted up to COUNT_LIMIT: "1000+" says enough, and a Träger with many costs no more
        "unreachable_members_total": session.scalar(select(func.count()).select_from(
            members.with_only_columns(FamilyMember.id).limit(COUNT_LIMIT + 1).subquery())) or 0,
        "count_limit": COUNT_LIMIT,
        "unreachable_staff": session.scalars(staff.order_by(StaffMember.name).limit(SHOWN)).all(),
    }


def add_routes(application: web.Application) -> None:
    application.router.add_get("/overview", route(overview))
