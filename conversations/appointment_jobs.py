"""Periodic work around appointments: family reminders, the staff's evening agenda, "what happened?".

A scan runs every few minutes and writes due messages with unique keys (``dedupe_key``), so a scan that
runs twice, late, or after a restart never sends anything twice. A reminder whose moment passed while the
bot was down goes out late only while the appointment is still ahead, and only the newest one that is due
(the family does not get "in two days" and "today" at once).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from conversations import authz
from conversations.appointments import (
    describe,
    ends_at,
    family_choices,
    kind_label,
    members_of,
    routine_time,
    staff_of,
)
from conversations.clock import BERLIN
from conversations.context import Services
from conversations.i18n import Translator
from conversations.messages import Choice, Reply
from conversations.outbox import notify, still_to_notify
from conversations.registry import REGISTRY, PeriodicTask
from conversations.rules.outcomes import Outcome
from conversations.rules.quiet_hours import QuietHours
from storage.db import transaction
from storage.models import (
    Appointment,
    AppointmentMember,
    AppointmentStaff,
    Case,
    CaseAssignment,
    CaseReminderSetting,
    FamilyMember,
    StaffMember,
)

DEFAULT_OFFSETS = ("2d", "0d@08:00")  # two days before (same time), and the morning of the day
AGENDA_AT = time(18, 0)  # the staff's next-day agenda, before quiet hours begin
LOOKAHEAD = timedelta(days=15)
OUTCOME_LOOKBACK = timedelta(days=14)


def parse_offset(text: str) -> tuple[int, time | None]:
    """"2d" → 2 days before at the appointment's time; "0d@08:00" → on the day at 08:00."""
    days, _sep, at = text.strip().partition("@")
    if not days.endswith("d") or not days[:-1].isdigit():
        raise ValueError(f"{text!r} is not a reminder like 2d or 0d@08:00")
    return int(days[:-1]), time.fromisoformat(at) if at else None


def reminder_due(starts_at: datetime, offset: str) -> datetime:
    days, at = parse_offset(offset)
    local = starts_at.astimezone(BERLIN)
    day = local.date() - timedelta(days=days)
    return datetime.combine(day, at or local.time(), tzinfo=BERLIN)


def offsets_for(session: Session, case_id: int) -> list[str]:
    row = session.scalar(select(CaseReminderSetting).where(CaseReminderSetting.case_id == case_id))
    return list(row.offsets) if row and row.offsets is not None else list(DEFAULT_OFFSETS)


def set_offsets(session: Session, case_id: int, offsets: list[str]) -> None:
    for offset in offsets:
        parse_offset(offset)
    row = session.scalar(select(CaseReminderSetting).where(CaseReminderSetting.case_id == case_id))
    if row is None:
        session.add(CaseReminderSetting(case_id=case_id, offsets=offsets, settings={}))
    else:
        row.offsets = offsets


def _last_told(appointment: Appointment) -> datetime:
    """When the family last heard of this appointment's time (the invitation or the move)."""
    return appointment.told_at or appointment.created_at


def _offsets_of_cases(session: Session, case_ids: set[int]) -> dict[int, list[str]]:
    found = {case_id: list(DEFAULT_OFFSETS) for case_id in case_ids}
    for row in session.scalars(select(CaseReminderSetting).where(CaseReminderSetting.case_id.in_(case_ids))):
        if row.offsets is not None:
            found[row.case_id] = list(row.offsets)
    return found


# --- family reminders ------------------------------------------------------------------------------------------
def remind_families(session: Session, services: Services) -> int:
    """Each appointment of the next days gets its newest due reminder, once. The appointments of the window
    come in one query with their family members; what was sent is looked up at once (:func:`still_to_notify`)."""
    now = services.clock.now()
    quiet = QuietHours.parse(services.settings.quiet_hours)
    earliest = routine_time(services, now)
    appointments = session.scalars(select(Appointment).options(
        selectinload(Appointment.members).selectinload(AppointmentMember.member)).where(
        Appointment.outcome == Outcome.PLANNED, Appointment.starts_at > now,
        Appointment.starts_at <= now + LOOKAHEAD).order_by(Appointment.starts_at)).all()
    offsets = _offsets_of_cases(session, {a.case_id for a in appointments})
    wanted: list[tuple[FamilyMember, str]] = []
    chosen: dict[str, Appointment] = {}
    for appointment in appointments:
        due = [(quiet.next_allowed(reminder_due(appointment.starts_at, o)), o) for o in offsets[appointment.case_id]]
        due = [(at, o) for at, o in due if at <= now and at < appointment.starts_at]
        if not due or earliest >= appointment.starts_at:
            continue  # nothing due, or it would only arrive after the start
        at, offset = max(due)
        if _last_told(appointment) > at:
            continue  # the family heard of it after this reminder's moment
        key = f"remind:{appointment.id}:{appointment.starts_at.isoformat()}:{offset}"
        for member in members_of(appointment):
            wanted.append((member, f"{key}:m{member.id}"))
            chosen[f"{key}:m{member.id}"] = appointment
    sent = 0
    for member, key in still_to_notify(session, wanted):
        appointment = chosen[key]

        def render(tr: Translator, appointment: Appointment = appointment) -> Reply:
            today = tr.date(appointment.starts_at) == tr.date(now)
            text = (tr.gettext("A reminder: today is your appointment. {appointment}. Does it suit you?") if today
                    else tr.gettext("A reminder of your appointment: {appointment}. Does it suit you?"))
            return Reply(text.format(appointment=describe(tr, appointment)), family_choices(tr, appointment))

        sent += len(notify(session, member, render, now=now, kind="appointment.reminder", dedupe_key=key,
                           not_before=earliest))
    return sent


# --- staff: what happened? ----------------------------------------------------------------------------------------
def outcome_choices(tr: Translator, appointment: Appointment) -> list[Choice]:
    _ = tr.gettext
    return [Choice(_("Took place"), f"act:appt_outcome:{appointment.id}:{Outcome.TOOK_PLACE}"),
            Choice(_("Family not there"), f"act:appt_outcome:{appointment.id}:{Outcome.NO_SHOW}"),
            Choice(_("Cancelled by the family"), f"act:appt_outcome:{appointment.id}:{Outcome.CANCELLED_BY_FAMILY}"),
            Choice(_("Cancelled by us"), f"act:appt_outcome:{appointment.id}:{Outcome.CANCELLED_BY_PROVIDER}")]


def next_morning(moment: datetime, quiet: QuietHours) -> datetime:
    day = moment.astimezone(BERLIN).date() + timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=BERLIN)


def _with_staff() -> tuple:  # type: ignore[type-arg]
    """An appointment's staff and its case's team in three queries for a whole window (staff_of, authz).
    (Built when used: loader options at import would configure every mapper, 0.2 s of `wegbegleiter --help`.)"""
    return (selectinload(Appointment.staff).selectinload(AppointmentStaff.staff_member),
            selectinload(Appointment.case).selectinload(Case.assignments).selectinload(CaseAssignment.staff))


def ask_outcomes(session: Session, services: Services) -> int:
    now = services.clock.now()
    quiet = QuietHours.parse(services.settings.quiet_hours)
    rows = session.scalars(select(Appointment).options(*_with_staff()).where(
        Appointment.outcome == Outcome.PLANNED, Appointment.starts_at <= now,
        Appointment.starts_at >= now - OUTCOME_LOOKBACK).order_by(Appointment.starts_at)).all()
    wanted: list[tuple[StaffMember, str]] = []
    chosen: dict[str, tuple[Appointment, bool]] = {}
    for appointment in rows:
        end = ends_at(appointment)
        if end > now:
            continue
        again = now >= next_morning(end, quiet)
        for person in staff_of(appointment):
            if not authz.may_record_outcome(authz.as_staff(person), appointment):
                continue  # asked only of those who can answer (not the Gesprächsführer*in of a review)
            key = f"outcome-ask:{appointment.id}:{2 if again else 1}:s{person.id}"
            wanted.append((person, key))
            chosen[key] = (appointment, again)
    sent = 0
    for person, key in still_to_notify(session, wanted):
        appointment, again = chosen[key]

        def render(tr: Translator, appointment: Appointment = appointment, again: bool = again) -> Reply:
            text = (tr.gettext("Still open: what happened at this appointment with {case}? {appointment}") if again
                    else tr.gettext("What happened at this appointment with {case}? {appointment}"))
            return Reply(text.format(case=appointment.case.title, appointment=describe(tr, appointment)),
                         outcome_choices(tr, appointment))

        sent += len(notify(session, person, render, now=now, kind="appointment.outcome_question",
                           dedupe_key=key, not_before=routine_time(services, now)))
    return sent


# --- staff: tomorrow's agenda ----------------------------------------------------------------------------------------
def send_agendas(session: Session, services: Services) -> int:
    now = services.clock.now()
    quiet = QuietHours.parse(services.settings.quiet_hours)
    local = now.astimezone(BERLIN)
    if not (local.time() >= AGENDA_AT and not quiet.contains(now)):
        return 0  # too early, or too late for today (no agenda in quiet hours)
    tomorrow: date = local.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), tzinfo=BERLIN)
    rows = list(session.scalars(select(Appointment).options(*_with_staff()).where(
        Appointment.outcome == Outcome.PLANNED, Appointment.starts_at >= start,
        Appointment.starts_at < start + timedelta(days=1)).order_by(Appointment.starts_at)))
    by_staff: dict[int, tuple[StaffMember, list[Appointment]]] = {}
    for appointment in rows:
        for person in staff_of(appointment):
            by_staff.setdefault(person.id, (person, []))[1].append(appointment)
    sent = 0
    to_tell = {person.id for person, _key in still_to_notify(session, [
        (person, f"agenda:{person.id}:{tomorrow.isoformat()}") for person, _items in by_staff.values()])}
    for person, items in by_staff.values():
        if person.id not in to_tell:
            continue  # told already (the scan runs every few minutes)
        def render(tr: Translator, items: list[Appointment] = items) -> Reply:
            lines = [tr.gettext("Your appointments tomorrow, {date}:").format(date=tr.date(tomorrow))]
            for a in items:
                confirmed = tr.gettext(" (confirmed by the family)") if a.confirmed_at else ""
                lines.append(f"• {tr.time(a.starts_at)} {a.case.title}: {kind_label(tr, a.kind)}"
                             f"{', ' + a.place if a.place else ''}{confirmed}")
            return Reply("\n".join(lines))

        sent += len(notify(session, person, render, now=now, kind="appointment.agenda",
                           dedupe_key=f"agenda:{person.id}:{tomorrow.isoformat()}"))
    return sent


def scan(services: Services) -> None:
    with transaction(services.sessions) as session:
        remind_families(session, services)
        ask_outcomes(session, services)
        send_agendas(session, services)


REGISTRY.tasks["appointments"] = PeriodicTask("appointments", 300, scan)
