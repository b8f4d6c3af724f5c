"""Appointments: create, move, cancel, record what happened; the family hears of each with an .ics file.

Every function works inside the caller's transaction (a chat turn, a CLI command, a periodic task), so
the change, its audit event and its messages commit together. Whenever an outcome is recorded or changed
(also a cancellation) every ``REGISTRY.outcome_listeners`` entry runs in the same transaction: the hour
budget, the three-misses escalation, ...
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from conversations import admin, authz, ics
from conversations.admin import Actor, AdminError
from conversations.clock import BERLIN
from conversations.context import Services, audit
from conversations.i18n import N_, Translator
from conversations.messages import Attachment, Choice, Reply
from conversations.outbox import notify
from conversations.registry import REGISTRY
from conversations.rules.outcomes import AppointmentFacts, AppointmentKind, Notice, Outcome
from conversations.rules.quiet_hours import QuietHours
from storage.models import (
    Appointment,
    AppointmentMember,
    AppointmentSeries,
    AppointmentStaff,
    Case,
    FamilyMember,
    MemberKind,
    OutboxMessage,
    OutboxStatus,
    StaffMember,
)

KIND_LABELS: dict[str, str] = {
    AppointmentKind.HAUSBESUCH: N_("Home visit"),
    AppointmentKind.HILFEPLANGESPRAECH: N_("Hilfeplan meeting"),
    AppointmentKind.MEILENSTEINGESPRAECH: N_("Milestone review"),
    AppointmentKind.GRUPPENANGEBOT: N_("Group session"),
    AppointmentKind.KRISENINTERVENTION: N_("Crisis intervention"),
    AppointmentKind.OTHER: N_("Appointment"),
}
OUTCOME_LABELS: dict[str, str] = {  # what happened, as a Fachkraft reads it after "Recorded: …"
    Outcome.TOOK_PLACE: N_("took place"), Outcome.NO_SHOW: N_("the family was not there"),
    Outcome.CANCELLED_BY_FAMILY: N_("cancelled by the family"), Outcome.CANCELLED_BY_PROVIDER: N_("cancelled by us"),
}
MAX_WEEKS = 52

ActorLike = Actor | StaffMember | str


class NotStartedYet(AdminError):
    """Took place or no-show recorded for an appointment that has not begun."""


# --- small helpers shared by the appointment modules -------------------------------------------------
def actor_label(actor: ActorLike) -> str:
    if isinstance(actor, StaffMember):
        return f"staff:{actor.id}"
    return actor.label if isinstance(actor, Actor) else actor


def actor_staff_id(actor: ActorLike) -> int | None:
    label = actor_label(actor)
    return int(label.split(":", 1)[1]) if label.startswith("staff:") else None


def routine_time(services: Services, now: datetime) -> datetime:
    """The earliest moment a routine message may go out: now, or the end of quiet hours."""
    return QuietHours.parse(services.settings.quiet_hours).next_allowed(now)


def kind_label(tr: Translator, kind: str) -> str:
    return tr.gettext(KIND_LABELS.get(kind, KIND_LABELS[AppointmentKind.OTHER]))


def hours_text(tr: Translator, minutes: float) -> str:
    return tr.gettext("{hours} h").format(hours=tr.number(float(minutes) / 60))


def ends_at(appointment: Appointment) -> datetime:
    return appointment.starts_at + timedelta(minutes=appointment.duration_minutes)


def facts(appointment: Appointment) -> AppointmentFacts:
    """The appointment as the pure rules see it (billing, budget, the three-in-a-row rule)."""
    try:
        kind = AppointmentKind(appointment.kind)
    except ValueError:
        kind = AppointmentKind.OTHER
    return AppointmentFacts(
        starts_at=appointment.starts_at, planned_minutes=appointment.duration_minutes,
        outcome=Outcome(appointment.outcome), kind=kind,
        cancelled_at=appointment.cancelled_at, actual_minutes=appointment.actual_minutes,
        cancel_notice=Notice(appointment.cancel_notice) if appointment.cancel_notice else None,
    )


# When a cancellation reached the Träger: a moment, only the notice (24 h or more / less), None for
# "not known", or NOW (the family cancels this minute, by its button).
NOW = "now"
When = datetime | Notice | None | str


def set_cancellation_time(appointment: Appointment, when: When, now: datetime) -> None:
    if when == NOW:
        when = now
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise AdminError("the time of cancellation must be an aware datetime")
        if when > now:
            raise AdminError(f"the cancellation cannot lie in the future ({when.astimezone(BERLIN):%d.%m.%Y %H:%M}); "
                             "give when the family cancelled")
        appointment.cancelled_at, appointment.cancel_notice = when.astimezone(UTC), None
    elif isinstance(when, Notice):
        appointment.cancelled_at, appointment.cancel_notice = None, when.value
    elif when is None:
        appointment.cancelled_at, appointment.cancel_notice = None, None
    else:
        raise AdminError(f"not a time of cancellation: {when!r}")


def cancellation_time_unknown(appointment: Appointment) -> bool:
    return (appointment.outcome == Outcome.CANCELLED_BY_FAMILY and appointment.cancelled_at is None
            and appointment.cancel_notice is None)


def staff_of(appointment: Appointment) -> list[StaffMember]:
    """The staff named on the appointment who still work on the case, or else the case's Fachkräfte
    (someone who handed the case on, or left, hears nothing more of it)."""
    case = appointment.case
    named = [s.staff_member for s in appointment.staff if authz.works_on(s.staff_member, case, admin.CASE_ROLES)]
    return named or admin.team(case)


def members_of(appointment: Appointment) -> list[FamilyMember]:
    return [m.member for m in appointment.members]


def default_members(case: Case) -> list[FamilyMember]:
    """Who is expected by default: the parents and other adults (children are invited by name)."""
    return [m for m in case.members if m.kind != MemberKind.CHILD]


def find(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise AdminError(f"no appointment with id {appointment_id}")
    return appointment


def upcoming(session: Session, case: Case, now: datetime) -> list[Appointment]:
    return list(session.scalars(
        select(Appointment).where(Appointment.case_id == case.id, Appointment.starts_at >= now,
                                  Appointment.outcome == Outcome.PLANNED).order_by(Appointment.starts_at)))


def describe(tr: Translator, appointment: Appointment) -> str:
    """"Home visit, Tuesday, 16 March 2027, 10:00 (2 h), at home"."""
    text = f"{kind_label(tr, appointment.kind)}: {tr.when(appointment.starts_at)} " \
           f"({hours_text(tr, appointment.duration_minutes)})"
    return f"{text}, {appointment.place}" if appointment.place else text


# --- the family's calendar file and message ----------------------------------------------------------
def calendar_file(tr: Translator, appointment: Appointment, now: datetime) -> Attachment:
    org = appointment.case.organisation
    event = ics.Event(
        uid=appointment.ics_uid, sequence=appointment.ics_sequence, starts_at=appointment.starts_at,
        duration_minutes=appointment.duration_minutes,
        summary=f"{kind_label(tr, appointment.kind)} – {org.name}", stamp=now, location=appointment.place,
        description=", ".join(s.name for s in staff_of(appointment)) or None,
        cancelled=appointment.outcome in (Outcome.CANCELLED_BY_FAMILY, Outcome.CANCELLED_BY_PROVIDER),
    )
    return Attachment("termin.ics", "text/calendar", ics.calendar(event))


def family_choices(tr: Translator, appointment: Appointment) -> list[Choice]:
    _ = tr.gettext
    return [Choice(_("Confirm"), f"act:appt_confirm:{appointment.id}"),
            Choice(_("Cancel appointment"), f"act:appt_cancel:{appointment.id}"),
            Choice(_("Ask for another date"), f"act:appt_move:{appointment.id}")]


def tell_family(session: Session, services: Services, appointment: Appointment, what: str) -> None:
    """Tell every expected family member at once (after quiet hours), with the updated .ics file.

    ``what``: "new", "moved" or "cancelled".
    """
    now = services.clock.now()

    def render(tr: Translator) -> Reply:
        _ = tr.gettext
        if what == "new":
            text = _("New appointment: {appointment}. You will get a reminder before it.")
        elif what == "moved":
            text = _("Your appointment has changed. New: {appointment}.")
        else:
            text = _("This appointment is cancelled: {appointment}. You do not need to do anything.")
        choices = family_choices(tr, appointment) if what != "cancelled" else []
        return Reply(text.format(appointment=describe(tr, appointment)), choices,
                     [calendar_file(tr, appointment, now)])

    written = []
    for member in members_of(appointment):
        written += notify(session, member, render, now=now, kind=f"appointment.{what}",
                          dedupe_key=f"appt:{appointment.id}:seq{appointment.ics_sequence}:{what}:m{member.id}",
                          not_before=routine_time(services, now))
    if written and what in ("new", "moved"):
        appointment.told_at = now  # a reminder due before this is not sent (conversations.appointment_jobs)


def withdraw_reminders(session: Session, appointment: Appointment) -> None:
    """Reminders still waiting (e.g. for the end of quiet hours) must not arrive after a change."""
    session.execute(delete(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"remind:{appointment.id}:%"),
        OutboxMessage.status == OutboxStatus.PENDING))


def outcome_changed(session: Session, services: Services, appointment: Appointment) -> None:
    """Run every listener (budget, three-misses escalation, ...) in this transaction."""
    session.flush()
    for listener in REGISTRY.outcome_listeners:
        listener(session, services, appointment)


# --- creating and changing ----------------------------------------------------------------------------
def _check(case: Case, kind: str, duration_minutes: int, staff: Sequence[StaffMember],
           members: Sequence[FamilyMember]) -> None:
    if not authz.is_open(case):
        raise AdminError(f"case {case.reference} is closed")
    if kind not in {k.value for k in AppointmentKind}:
        raise AdminError(f"kind must be one of {', '.join(k.value for k in AppointmentKind)}")
    if not 5 <= duration_minutes <= 24 * 60:
        raise AdminError("the duration must be between 5 minutes and 24 hours")
    if any(m.case_id != case.id for m in members):
        raise AdminError("every family member must belong to the case")


def overlapping(session: Session, case: Case, starts_at: datetime, duration_minutes: int,
                exclude_id: int | None = None) -> list[Appointment]:
    """The case's appointments (not cancelled) whose time overlaps [starts_at, starts_at + duration)."""
    end = starts_at + timedelta(minutes=duration_minutes)
    rows = session.scalars(select(Appointment).where(
        Appointment.case_id == case.id, Appointment.starts_at < end,
        Appointment.starts_at > starts_at - timedelta(hours=24),  # nothing lasts longer (see _check)
        Appointment.outcome.not_in((Outcome.CANCELLED_BY_FAMILY, Outcome.CANCELLED_BY_PROVIDER)))
        .order_by(Appointment.starts_at))
    return [a for a in rows if a.id != exclude_id and ends_at(a) > starts_at]


def refuse_second_milestone_review(session: Session, case: Case, kind: str, starts_at: datetime,
                                   duration_minutes: int, exclude_id: int | None = None) -> None:
    """One Meilensteingespräch of a case at a time: a second one overlapping it is refused (its questionnaires
    and summary would be sent twice for one talk). Other overlaps are allowed, and the staff member warned."""
    if kind != AppointmentKind.MEILENSTEINGESPRAECH:
        return
    clash = [a for a in overlapping(session, case, starts_at, duration_minutes, exclude_id)
             if a.kind == AppointmentKind.MEILENSTEINGESPRAECH]
    if clash:
        raise AdminError("a Meilensteingespräch of this case is already planned at that time (appointment {id}, "
                         "{start})", id=clash[0].id, start=f"{clash[0].starts_at.astimezone(BERLIN):%Y-%m-%d %H:%M}")


def build_appointment(session: Session, services: Services, case: Case, kind: str, starts_at: datetime,
                      duration_minutes: int, staff: Sequence[StaffMember], members: Sequence[FamilyMember],
                      place: str | None = None, *, series: AppointmentSeries | None = None) -> Appointment:
    """A checked new appointment, added to the session but not yet flushed, told or budgeted
    (:func:`announce`; :func:`create_appointment` does all of it for one)."""
    if starts_at.tzinfo is None:
        raise AdminError("the start must be an aware datetime")
    kind = str(kind)
    _check(case, kind, duration_minutes, staff, members)
    if kind == AppointmentKind.MEILENSTEINGESPRAECH:
        session.flush()  # a review entered just before, in the same batch, is seen
    refuse_second_milestone_review(session, case, kind, starts_at, duration_minutes)
    appointment = Appointment(
        case=case, case_id=case.id, series_id=series.id if series else None, kind=kind,
        starts_at=starts_at.astimezone(UTC),
        duration_minutes=duration_minutes, place=place, outcome=Outcome.PLANNED,
        ics_uid=f"{uuid.uuid4()}@wegbegleiter", ics_sequence=0, created_at=services.clock.now(),
        staff=[AppointmentStaff(staff_id=s.id, staff_member=s) for s in dict.fromkeys(staff)],
        members=[AppointmentMember(member_id=m.id, member=m) for m in dict.fromkeys(members)],
    )
    session.add(appointment)
    return appointment


def announce(session: Session, services: Services, actor: ActorLike, appointment: Appointment, *,
             tell: bool = True) -> None:
    """After the flush: the audit event, and the family told with an .ics file (a future appointment only:
    a visit entered afterwards, an import of last month, is only recorded)."""
    now = services.clock.now()
    audit(session, at=now, actor=actor_label(actor), action="appointment.created", object_type="appointment",
          object_id=appointment.id, case_id=appointment.case_id, kind=appointment.kind,
          starts_at=appointment.starts_at.astimezone(BERLIN).isoformat(), minutes=appointment.duration_minutes)
    if tell and appointment.starts_at > now:
        tell_family(session, services, appointment, "new")


def create_appointment(session: Session, services: Services, actor: ActorLike, case: Case, kind: str,
                       starts_at: datetime, duration_minutes: int, staff: Sequence[StaffMember],
                       members: Sequence[FamilyMember], place: str | None = None, *,
                       series: AppointmentSeries | None = None, tell: bool = True,
                       check_budget: bool = True) -> Appointment:
    """One appointment; the family is told with an .ics file, the budget checked (and warned about).

    ``check_budget=False``: the caller checks many at once (``budget.after_scheduling_many``)."""
    appointment = build_appointment(session, services, case, kind, starts_at, duration_minutes, staff, members,
                                    place, series=series)
    session.flush()
    announce(session, services, actor, appointment, tell=tell)
    if check_budget:
        from conversations import budget  # the budget reads appointments; imported late to keep one direction

        budget.after_scheduling(session, services, actor, appointment)
    return appointment


def announce_many(session: Session, services: Services, actor: ActorLike,
                  appointments: Sequence[Appointment]) -> None:
    """Many built appointments (an import): one flush for all, each announced, then the budget once per
    case and month and each Fachkraft's week once (``budget.after_scheduling_many``)."""
    from conversations import budget

    session.flush()
    with session.no_autoflush:  # their audit events and messages go in together at the end
        for appointment in appointments:
            announce(session, services, actor, appointment)
    budget.after_scheduling_many(session, services, actor, appointments)


def weekly_starts(first_start: datetime, weeks: int) -> list[datetime]:
    """Wall-clock arithmetic: a series stays at 10:00 Berlin time across a DST change."""
    local = first_start.astimezone(BERLIN)
    return [datetime.combine(local.date() + timedelta(weeks=i), local.time(), tzinfo=BERLIN) for i in range(weeks)]


def create_weekly(session: Session, services: Services, actor: ActorLike, case: Case, kind: str,
                  first_start: datetime, duration_minutes: int, staff: Sequence[StaffMember],
                  members: Sequence[FamilyMember], weeks: int, place: str | None = None, *,
                  check_budget: bool = True) -> list[Appointment]:
    """A weekly series: the same Berlin wall-clock time each week (also across DST changes)."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise AdminError(f"a series has 1 to {MAX_WEEKS} weeks")
    starts = weekly_starts(first_start, weeks)
    now = services.clock.now()
    series = AppointmentSeries(case_id=case.id, kind=str(kind), first_start=first_start,
                               duration_minutes=duration_minutes, until=starts[-1], place=place, created_at=now)
    session.add(series)
    session.flush()
    return [create_appointment(session, services, actor, case, kind, start, duration_minutes, staff, members,
                               place, series=series, check_budget=check_budget) for start in starts]


def reschedule(session: Session, services: Services, actor: ActorLike, appointment: Appointment,
               starts_at: datetime, duration_minutes: int | None = None) -> Appointment:
    if appointment.outcome != Outcome.PLANNED:
        raise AdminError("only a planned appointment can be moved")
    refuse_second_milestone_review(session, appointment.case, appointment.kind, starts_at,
                                   duration_minutes or appointment.duration_minutes, appointment.id)
    now = services.clock.now()
    before = appointment.starts_at
    appointment.starts_at = starts_at
    if duration_minutes is not None:
        _check(appointment.case, appointment.kind, duration_minutes, [], [])
        appointment.duration_minutes = duration_minutes
    appointment.ics_sequence += 1
    audit(session, at=now, actor=actor_label(actor), action="appointment.moved", object_type="appointment",
          object_id=appointment.id, case_id=appointment.case_id, before=before.isoformat(),
          after=starts_at.isoformat())
    withdraw_reminders(session, appointment)
    tell_family(session, services, appointment, "moved")
    return appointment


def cancel(session: Session, services: Services, actor: ActorLike, appointment: Appointment, *,
           by_family: bool, reason: str | None = None, tell: bool = True, when: When = NOW) -> Appointment:
    """Cancel: when the family cancelled decides the 24-hour rule (conversations.rules.billing).

    ``when``: the moment the cancellation reached the Träger (default: now, as when the family presses its
    button), only the notice, or None if nobody knows (billed nothing, listed for review).
    """
    if appointment.outcome != Outcome.PLANNED:
        raise AdminError("this appointment is not planned any more")
    now = services.clock.now()
    set_cancellation_time(appointment, when if by_family else NOW, now)
    appointment.outcome = Outcome.CANCELLED_BY_FAMILY if by_family else Outcome.CANCELLED_BY_PROVIDER
    appointment.cancel_reason = reason or None
    appointment.outcome_recorded_at = now
    appointment.outcome_recorded_by = actor_staff_id(actor)
    appointment.ics_sequence += 1
    audit(session, at=now, actor=actor_label(actor), action="appointment.cancelled", object_type="appointment",
          object_id=appointment.id, case_id=appointment.case_id, by="family" if by_family else "provider",
          cancelled_at=appointment.cancelled_at.isoformat() if appointment.cancelled_at else None,
          notice=appointment.cancel_notice)
    withdraw_reminders(session, appointment)
    if tell:
        tell_family(session, services, appointment, "cancelled")
    outcome_changed(session, services, appointment)
    return appointment


KEEP = "keep"  # record_outcome: keep the time of cancellation recorded before (or unknown, if none was)
CANCELLED = (Outcome.CANCELLED_BY_FAMILY, Outcome.CANCELLED_BY_PROVIDER)


def record_outcome(session: Session, services: Services, actor: ActorLike, appointment: Appointment,
                   outcome: Outcome | str, actual_minutes: int | None = None, *,
                   cancelled: When = KEEP) -> Appointment:
    """What happened, as the Fachkraft records it (may correct an earlier record).

    ``cancelled``: for a cancellation by the family, when it reached the Träger (see :func:`cancel`).
    Recorded afterwards, nothing is assumed: without it the time is unknown, so the appointment is billed
    nothing and the statement lists it until the time is given (the same command, with the time).
    Took place and no-show are facts only once the appointment has begun.
    """
    outcome = Outcome(outcome)
    if outcome == Outcome.PLANNED:
        raise AdminError("an outcome is one of took_place, no_show, cancelled_by_family, cancelled_by_provider")
    if outcome == Outcome.TOOK_PLACE and actual_minutes is not None and not 1 <= actual_minutes <= 24 * 60:
        raise AdminError("the actual duration must be between 1 minute and 24 hours")
    now = services.clock.now()
    if outcome in (Outcome.TOOK_PLACE, Outcome.NO_SHOW) and now < appointment.starts_at:
        raise NotStartedYet(f"appointment {appointment.id} has not started yet "
                            f"({appointment.starts_at.astimezone(BERLIN):%d.%m.%Y %H:%M}): what happened "
                            "can be recorded from its start on")
    previous = appointment.outcome
    if previous == Outcome.PLANNED and now < appointment.starts_at and outcome in CANCELLED:
        # A cancellation recorded before the appointment began (`appointments outcome`, a console form) is
        # its cancelling: the family is told and its reminders are withdrawn, as with `cancel`.
        return cancel(session, services, actor, appointment, by_family=outcome == Outcome.CANCELLED_BY_FAMILY,
                      when=None if cancelled == KEEP else cancelled)
    if outcome == Outcome.CANCELLED_BY_FAMILY:
        if cancelled != KEEP:
            set_cancellation_time(appointment, cancelled, now)
        elif previous != Outcome.CANCELLED_BY_FAMILY:
            set_cancellation_time(appointment, None, now)
    elif outcome == Outcome.CANCELLED_BY_PROVIDER:
        if previous != Outcome.CANCELLED_BY_PROVIDER:
            set_cancellation_time(appointment, NOW, now)  # ours: its time decides nothing
    else:
        set_cancellation_time(appointment, None, now)
    appointment.outcome = outcome
    appointment.actual_minutes = (actual_minutes or appointment.duration_minutes) \
        if outcome == Outcome.TOOK_PLACE else None
    appointment.outcome_recorded_at = now
    appointment.outcome_recorded_by = actor_staff_id(actor)
    audit(session, at=now, actor=actor_label(actor), action="appointment.outcome", object_type="appointment",
          object_id=appointment.id, case_id=appointment.case_id, outcome=str(outcome), before=previous,
          actual_minutes=appointment.actual_minutes,
          cancelled_at=appointment.cancelled_at.isoformat() if appointment.cancelled_at else None,
          notice=appointment.cancel_notice)
    outcome_changed(session, services, appointment)
    return appointment


def confirm_by_family(session: Session, services: Services, member: FamilyMember,
                      appointment: Appointment) -> None:
    now = services.clock.now()
    appointment.confirmed_at = appointment.confirmed_at or now
    audit(session, at=now, actor=f"member:{member.id}", action="appointment.confirmed",
          object_type="appointment", object_id=appointment.id, case_id=appointment.case_id)
