"""The monthly hour budget of a case: validity periods, statements, warnings, approval of extra hours.

The rules themselves are pure (:mod:`conversations.rules.billing`); this module reads the database,
tells people, and keeps approvals. Warnings carry unique keys (once per case, month and threshold).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conversations import admin, authz, charts
from conversations.admin import AdminError
from conversations.appointments import (
    ActorLike,
    actor_label,
    actor_staff_id,
    cancellation_time_unknown,
    describe,
    facts,
    hours_text,
    routine_time,
    staff_of,
)
from conversations.context import Services, audit
from conversations.escalations import LinkPage
from conversations.i18n import Translator, translator
from conversations.messages import Attachment, Choice, Reply
from conversations.outbox import notify, notify_all
from conversations.registry import REGISTRY
from conversations.rules import billing
from conversations.rules.billing import BudgetPeriod, Month, Statement
from conversations.rules.outcomes import AppointmentKind, Outcome
from storage.models import (
    Appointment,
    AppointmentStaff,
    Case,
    CaseBudget,
    ExtraHoursRequest,
    OutboxMessage,
    Role,
    StaffMember,
)

APPROVE_ACTION = "approve_hours"  # act:approve_hours:<request id>; a web route may offer it as a signed link


# --- budget periods ------------------------------------------------------------------------------------
def periods(session: Session, case: Case) -> list[BudgetPeriod]:
    rows = session.scalars(select(CaseBudget).where(CaseBudget.case_id == case.id).order_by(CaseBudget.valid_from))
    return [BudgetPeriod(r.monthly_minutes, r.valid_from, r.valid_until) for r in rows]


def set_budget(session: Session, actor: ActorLike, now: datetime, case: Case, monthly_minutes: int,
               valid_from: date, valid_until: date | None = None) -> CaseBudget:
    """A new Hilfeplan budget from ``valid_from``: the one before it ends the day before."""
    if monthly_minutes < 0:
        raise AdminError("the budget cannot be negative")
    if valid_until is not None and valid_until < valid_from:
        raise AdminError("the budget must start before it ends")
    for row in session.scalars(select(CaseBudget).where(CaseBudget.case_id == case.id)):
        if row.valid_from >= valid_from:
            session.delete(row)  # replaced by the new Hilfeplan
        elif row.valid_until is None or row.valid_until >= valid_from:
            row.valid_until = valid_from - timedelta(days=1)
    budget = CaseBudget(case_id=case.id, monthly_minutes=monthly_minutes, valid_from=valid_from,
                        valid_until=valid_until, created_at=now, created_by=actor_label(actor))
    session.add(budget)
    session.flush()
    audit(session, at=now, actor=actor_label(actor), action="budget.set", object_type="case", object_id=case.id,
          case_id=case.id, monthly_minutes=monthly_minutes, valid_from=valid_from.isoformat())
    return budget


# --- statements ------------------------------------------------------------------------------------------
def month_appointments(session: Session, case: Case, month: Month) -> list[Appointment]:
    start, end = month.bounds()
    return list(session.scalars(
        select(Appointment).where(Appointment.case_id == case.id, Appointment.starts_at >= start,
                                  Appointment.starts_at < end).order_by(Appointment.starts_at)))


def approved_extra_minutes(session: Session, case: Case, month: Month) -> int:
    return session.scalar(select(func.coalesce(func.sum(ExtraHoursRequest.minutes), 0)).where(
        ExtraHoursRequest.case_id == case.id, ExtraHoursRequest.month == str(month),
        ExtraHoursRequest.status == "approved")) or 0


def pending_extra_minutes(session: Session, case: Case, month: Month) -> int:
    """Extra hours asked for and still waiting for the Jugendamt's approval."""
    return session.scalar(select(func.coalesce(func.sum(ExtraHoursRequest.minutes), 0)).where(
        ExtraHoursRequest.case_id == case.id, ExtraHoursRequest.month == str(month),
        ExtraHoursRequest.status == "pending")) or 0


def case_statement(session: Session, case: Case, month: Month) -> Statement:
    session.flush()
    return billing.statement(month, periods(session, case), [facts(a) for a in month_appointments(session, case, month)],
                             approved_extra_minutes(session, case, month), pending_extra_minutes(session, case, month))


def to_review(session: Session, case: Case, month: Month) -> list[Appointment]:
    """Cancellations by the family whose time nobody has given yet: billed nothing until someone does."""
    return [a for a in month_appointments(session, case, month) if cancellation_time_unknown(a)]


def statement_text(tr: Translator, case: Case, stmt: Statement, review: Sequence[Appointment] = ()) -> str:
    """The month's hours in words; ``review``: cancellations whose time is still to be given (listed)."""
    _ = tr.gettext
    lines = [
        _("Hours of {case} in {month}").format(case=case.title, month=tr.month(stmt.month.first_day)),
        _("Budget: {hours}").format(hours=hours_text(tr, stmt.budget_minutes)),
    ]
    if stmt.approved_extra_minutes:
        lines.append(_("Extra hours approved: {hours}").format(hours=hours_text(tr, stmt.approved_extra_minutes)))
    lines += [
        _("Used: {hours} ({percent} %)").format(hours=hours_text(tr, stmt.used_minutes), percent=stmt.used_percent),
        _("Billable: {hours}").format(hours=hours_text(tr, stmt.billable_minutes)),
        _("Still planned: {hours}").format(hours=hours_text(tr, stmt.planned_minutes)),
        _("Cancelled at short notice: {count} ({hours} off the budget)").format(
            count=stmt.short_notice_count, hours=hours_text(tr, stmt.short_notice_minutes)),
        _("Cancelled in time or by us: {count}").format(count=stmt.free_cancellation_count),
        _("Remaining: {hours}").format(hours=hours_text(tr, stmt.remaining_minutes)),
    ]
    if stmt.crisis_minutes:
        lines.append(_("Of these, crisis intervention: {hours}").format(hours=hours_text(tr, stmt.crisis_minutes)))
    if stmt.pending_extra_minutes:
        lines.append(_("Waiting for the Jugendamt's approval: {hours} extra").format(
            hours=hours_text(tr, stmt.pending_extra_minutes)))
    if review:
        lines.append(_("Cancelled by the family, time of cancellation not given yet (billed nothing until it is):"))
        lines += [f"• #{a.id} {describe(tr, a)}" for a in review]
    return "\n".join(lines)


def chart_png(tr: Translator, case: Case, stmt: Statement) -> bytes:
    """The month at a glance: budget, used, billable, still planned (people would rather look than read)."""
    _ = tr.gettext
    over = stmt.used_minutes > stmt.allowed_minutes
    bars = [charts.Bar(_("Budget"), float(stmt.allowed_minutes) / 60),
            charts.Bar(_("Used"), float(stmt.used_minutes) / 60, "over" if over else "ok"),
            charts.Bar(_("Billable"), float(stmt.billable_minutes) / 60, "info"),
            charts.Bar(_("Still planned"), float(stmt.planned_minutes) / 60, "ahead")]
    if stmt.pending_extra_minutes:
        bars.append(charts.Bar(_("Waiting for approval"), stmt.pending_extra_minutes / 60, "waiting"))
    title = _("{case} · {month} · budget {budget}").format(
        case=case.title, month=tr.month(stmt.month.first_day), budget=hours_text(tr, stmt.allowed_minutes))
    subtitle = _("Used {used} of {budget} ({percent} %), billable {billable}").format(
        used=hours_text(tr, stmt.used_minutes), budget=hours_text(tr, stmt.allowed_minutes),
        percent=stmt.used_percent, billable=hours_text(tr, stmt.billable_minutes))
    return charts.bar_chart_png(title, bars, lambda hours: hours_text(tr, hours * 60), subtitle=subtitle,
                                axis_label=_("Hours"), rtl=tr.rtl)


def statement_reply(tr: Translator, case: Case, stmt: Statement, review: Sequence[Appointment] = ()) -> Reply:
    return Reply(statement_text(tr, case, stmt, review),
                 attachments=[Attachment(f"stunden-{stmt.month}.png", "image/png", chart_png(tr, case, stmt))])


# --- who hears of it ---------------------------------------------------------------------------------------
def fallfuehrend(case: Case) -> list[StaffMember]:
    return admin.team(case, Role.FALLFUEHREND)


def _staff_to_warn(actor: ActorLike, appointment: Appointment) -> list[StaffMember]:
    people = staff_of(appointment)
    staff_id = actor_staff_id(actor)
    if staff_id is not None and staff_id not in {s.id for s in people}:
        people = [*people, *[s for s in admin.team(appointment.case) if s.id == staff_id]]
    return people


# --- scheduling beyond the budget -----------------------------------------------------------------------------
def after_scheduling(session: Session, services: Services, actor: ActorLike, appointment: Appointment) -> None:
    """Warn when new hours go beyond the month's budget (and ask the Jugendamt), or a week beyond 48 h."""
    case, now = appointment.case, services.clock.now()
    month = Month.of(appointment.starts_at)
    stmt = case_statement(session, case, month)
    over = stmt.used_minutes + stmt.planned_minutes - stmt.allowed_minutes
    if over > 0 and appointment.kind != AppointmentKind.KRISENINTERVENTION and periods(session, case):
        minutes = int(min(over, appointment.duration_minutes))
        request = ExtraHoursRequest(case_id=case.id, month=str(month), appointment_id=appointment.id,
                                    minutes=minutes, requested_by=actor_label(actor), requested_at=now,
                                    status="pending")
        session.add(request)
        session.flush()
        audit(session, at=now, actor=actor_label(actor), action="budget.extra_requested",
              object_type="extra_hours_request", object_id=request.id, case_id=case.id, minutes=minutes)
        notify_all(session, _staff_to_warn(actor, appointment), lambda tr: Reply(
            tr.gettext("This appointment goes beyond the budget of {case} for {month} by {hours}: {appointment}. "
                       "I have asked the fallführende Fachkraft to confirm the extra hours; until then they are "
                       "not approved.").format(case=case.title, month=tr.month(month.first_day),
                                               hours=hours_text(tr, minutes),
                                               appointment=describe(tr, appointment))),
            now=now, kind="budget.over", dedupe_key=f"budget-over:{request.id}",
            not_before=routine_time(services, now))
        for person in fallfuehrend(case):
            ask_approval(session, services, request, person, dedupe_key=f"budget-approval:{request.id}")
    check_weekly_load(session, services, appointment)


def ask_approval(session: Session, services: Services, request: ExtraHoursRequest, person: StaffMember, *,
                 dedupe_key: str) -> None:
    """Ask the fallführende Fachkraft to confirm extra hours. By email the button becomes a signed link
    (bot.channels.email → bot.web → approve_by_link), which finds the request by ``budget-approval:<id>:``."""
    case, month, now = request.case, Month.parse(request.month), services.clock.now()
    appointment = session.get(Appointment, request.appointment_id) if request.appointment_id else None

    def render(tr: Translator) -> Reply:
        return Reply(tr.gettext(
            "{case}: the Fachkräfte ask to go beyond the monthly budget in {month} by {hours} "
            "({appointment}). Do you confirm the extra hours?").format(
                case=case.title, month=tr.month(month.first_day),
                hours=hours_text(tr, request.minutes), appointment=describe(tr, appointment) if appointment else "—"),
            [Choice(tr.gettext("Confirm the extra hours"), f"act:{APPROVE_ACTION}:{request.id}")])

    notify(session, person, render, now=now, kind="budget.approval", email=True, dedupe_key=dedupe_key,
           not_before=routine_time(services, now),
           subject=lambda tr: tr.gettext("Extra hours to confirm: {case}").format(case=case.title))


def pending_requests(session: Session, case: Case) -> list[ExtraHoursRequest]:
    return list(session.scalars(select(ExtraHoursRequest).where(
        ExtraHoursRequest.case_id == case.id, ExtraHoursRequest.status == "pending").order_by(ExtraHoursRequest.id)))


def approve_by_link(session: Session, services: Services, request_id: int, outbox_id: int,
                    *, confirm: bool) -> LinkPage | None:
    """For the web endpoint's signed link: GET shows the question and a button, POST confirms.

    The link names the email (outbox message) it was sent in; that email's recipient is who confirms.
    None if the link does not belong to this request.
    """
    message = session.get(OutboxMessage, outbox_id)
    if message is None or not (message.dedupe_key or "").startswith(f"budget-approval:{request_id}:"):
        return None
    staff = next((s for s in fallfuehrend(session.get(ExtraHoursRequest, request_id).case)  # type: ignore[union-attr]
                  if s.email == message.address), None)
    if staff is None:
        return None
    tr = translator(staff.language)
    request = session.get(ExtraHoursRequest, request_id)
    assert request is not None
    text = tr.gettext("The extra {hours} for {case} are confirmed.").format(
        hours=hours_text(tr, request.minutes), case=request.case.title)
    if request.status == "approved":
        return LinkPage(tr.lang, text, None)
    if not confirm:
        return LinkPage(tr.lang, message.text, tr.gettext("Confirm the extra hours"))
    approve_extra_hours(session, services, request_id, staff.id)
    return LinkPage(tr.lang, text, None)


def approve_extra_hours(session: Session, services: Services, request_id: int, staff_id: int) -> ExtraHoursRequest:
    """The fallführende Fachkraft confirms (button or signed link); a second press changes nothing."""
    request = session.get(ExtraHoursRequest, request_id)
    if request is None:
        raise AdminError(f"no request for extra hours with id {request_id}")
    if not authz.may_approve_extra_hours(authz.as_staff(session.get(StaffMember, staff_id)), request):
        raise AdminError("only the fallführende Fachkraft of the case can confirm extra hours")
    if request.status == "approved":
        return request
    now = services.clock.now()
    request.status, request.decided_at, request.decided_by = "approved", now, staff_id
    audit(session, at=now, actor=f"staff:{staff_id}", action="budget.extra_approved",
          object_type="extra_hours_request", object_id=request.id, case_id=request.case_id, minutes=request.minutes)
    case = request.case
    notify_all(session, admin.team(case), lambda tr: Reply(tr.gettext(
        "The fallführende Fachkraft confirmed {hours} extra for {case} in {month}.").format(
            hours=hours_text(tr, request.minutes), case=case.title,
            month=tr.month(Month.parse(request.month).first_day))),
        now=now, kind="budget.approved", dedupe_key=f"budget-approved:{request.id}",
        not_before=routine_time(services, now))
    return request


def _many_over(case: Case, month: Month, minutes: int, count: int) -> Callable[[Translator], Reply]:
    def render(tr: Translator) -> Reply:
        return Reply(tr.ngettext(
            "The {count} appointment entered for {case} in {month} goes beyond the budget by {hours}. "
            "I have asked the fallführende Fachkraft to confirm the extra hours; until then they are not approved.",
            "The {count} appointments entered for {case} in {month} go beyond the budget by {hours}. "
            "I have asked the fallführende Fachkraft to confirm the extra hours; until then they are not approved.",
            count).format(count=count, case=case.title, month=tr.month(month.first_day),
                          hours=hours_text(tr, minutes)))

    return render


def after_scheduling_many(session: Session, services: Services, actor: ActorLike,
                          appointments: Sequence[Appointment]) -> None:
    """:func:`after_scheduling` for many new appointments at once (an import): each case and month is
    checked once, and what goes beyond its budget is one request to the Jugendamt; each Fachkraft's week
    is checked once."""
    now = services.clock.now()
    months: dict[tuple[int, Month], list[Appointment]] = {}
    for a in appointments:
        months.setdefault((a.case_id, Month.of(a.starts_at)), []).append(a)
    for (_case_id, month), items in months.items():
        case = items[0].case
        chargeable = [a for a in items if a.kind != AppointmentKind.KRISENINTERVENTION]
        if not chargeable or not periods(session, case):
            continue
        stmt = case_statement(session, case, month)
        over = stmt.used_minutes + stmt.planned_minutes - stmt.allowed_minutes
        if over <= 0:
            continue
        minutes = int(min(over, sum(a.duration_minutes for a in chargeable)))
        request = ExtraHoursRequest(case_id=case.id, month=str(month), appointment_id=chargeable[-1].id,
                                    minutes=minutes, requested_by=actor_label(actor), requested_at=now,
                                    status="pending")
        session.add(request)
        session.flush()
        audit(session, at=now, actor=actor_label(actor), action="budget.extra_requested",
              object_type="extra_hours_request", object_id=request.id, case_id=case.id, minutes=minutes,
              appointments=len(chargeable))
        people = {p.id: p for a in chargeable for p in _staff_to_warn(actor, a)}
        notify_all(session, list(people.values()), _many_over(case, month, minutes, len(chargeable)),
                   now=now, kind="budget.over", dedupe_key=f"budget-over:{request.id}",
                   not_before=routine_time(services, now))
        for person in fallfuehrend(case):
            ask_approval(session, services, request, person, dedupe_key=f"budget-approval:{request.id}")
    weeks = {(person.id, billing.week_start(a.starts_at)): person for a in appointments for person in staff_of(a)}
    for (_staff_id, week), person in weeks.items():
        _check_week(session, services, person, week)


# --- weekly load ---------------------------------------------------------------------------------------------------
def check_weekly_load(session: Session, services: Services, appointment: Appointment) -> None:
    week = billing.week_start(appointment.starts_at)
    for person in staff_of(appointment):
        _check_week(session, services, person, week)


def _check_week(session: Session, services: Services, person: StaffMember, week: date) -> None:
    start = datetime.combine(week, datetime.min.time(), tzinfo=billing.BERLIN)
    now = services.clock.now()
    rows = session.scalars(
        select(Appointment).join(AppointmentStaff, AppointmentStaff.appointment_id == Appointment.id).where(
            AppointmentStaff.staff_id == person.id, Appointment.starts_at >= start - timedelta(days=1),
            Appointment.starts_at < start + timedelta(days=8)))
    load = billing.weekly_load_minutes([facts(a) for a in rows], week)
    if load > billing.MAX_WEEKLY_MINUTES:
        notify(session, person, lambda tr, load=load: Reply(tr.gettext(
            "Your appointments in the week of {date} add up to {hours}, more than the 48 hours a week "
            "agreed as the maximum load. Please talk to your Leitung.").format(
                date=tr.date(week, "long"), hours=hours_text(tr, load))),
            now=now, kind="budget.weekly_load", dedupe_key=f"weekly-load:{person.id}:{week.isoformat()}",
            not_before=routine_time(services, now))


# --- after an outcome: thresholds and crisis reports ------------------------------------------------------------------
def on_outcome(session: Session, services: Services, appointment: Appointment) -> None:
    case, now = appointment.case, services.clock.now()
    month = Month.of(appointment.starts_at)
    stmt = case_statement(session, case, month)
    if not periods(session, case):
        return
    for threshold in billing.WARNING_THRESHOLDS:
        if stmt.used_percent >= threshold:
            notify_all(session, admin.team(case), lambda tr: Reply(tr.gettext(
                "{case} has used {percent} % of its budget for {month} ({used} of {budget}).").format(
                    case=case.title, percent=stmt.used_percent, month=tr.month(month.first_day),
                    used=hours_text(tr, stmt.used_minutes), budget=hours_text(tr, stmt.allowed_minutes))),
                now=now, kind="budget.threshold", dedupe_key=f"budget-threshold:{case.id}:{month}:{threshold}",
                not_before=routine_time(services, now))
    if (appointment.kind == AppointmentKind.KRISENINTERVENTION and appointment.outcome == Outcome.TOOK_PLACE
            and stmt.used_minutes > stmt.allowed_minutes):
        # Allowed without prior consultation, but reported straight after (seed 004): not held for quiet hours.
        notify_all(session, fallfuehrend(case), lambda tr: Reply(tr.gettext(
            "Report of a crisis intervention in {case}: {appointment}. It took {hours} and goes beyond the budget "
            "for {month} ({used} used of {budget}).").format(
                case=case.title, appointment=describe(tr, appointment),
                hours=hours_text(tr, appointment.actual_minutes or appointment.duration_minutes),
                month=tr.month(month.first_day), used=hours_text(tr, stmt.used_minutes),
                budget=hours_text(tr, stmt.allowed_minutes))),
            now=now, kind="budget.crisis", email=True, dedupe_key=f"crisis-report:{appointment.id}",
            subject=lambda tr: tr.gettext("Crisis intervention beyond the budget: {case}").format(case=case.title))


def warned_thresholds(session: Session, month: Month) -> dict[int, int]:
    """Cases whose team was warned in ``month`` (:func:`on_outcome`), with the highest threshold reached.

    The warnings are the record: their keys ``budget-threshold:<case>:<month>:<threshold>`` exist once.
    The Leitung's overview lists them without working out every case's statement again.
    """
    reached: dict[int, int] = {}
    for key in session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.like(f"budget-threshold:%:{month}:%"))):
        _prefix, case_id, _month, threshold, *_chat = (key or "").split(":")
        reached[int(case_id)] = max(reached.get(int(case_id), 0), int(threshold))
    return reached


REGISTRY.outcome_listeners.append(on_outcome)
