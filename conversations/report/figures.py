"""The figures of one organisation for one year or quarter: pure aggregation over the database.

Every value is a :class:`Count` (how many) or a :class:`Measure` (hours, a median, a share) that knows how
many cases or appointments it rests on. Small numbers are never shown as they are: a count from 1 to 4 is
"< 5", and a measure resting on 1 to 4 items is left out ("n < 5"), so that no family can be recognised
from a report (0 stays 0: nothing happened). Nothing here carries a name, a text or a reference.

What counts where (the Träger checks these against its own lists):

- The period is the calendar year or quarter in Berlin time. An appointment belongs to it when it starts in
  it, a complaint when it was sent in it, an escalation or alert when it was raised in it, a
  Meilensteingespräch when its appointment is in it, a reminder when it was delivered in it.
- Cases: *active* = begun on or before the period's last day and not closed before its first; *new* =
  begun in the period (the start of the help, or the day the case was entered if no start is known);
  *ended* = closed in the period, by reason. Help type and legal basis come from the case's help type text
  ("SPFH § 31 SGB VIII": help type "SPFH", legal basis "§ 31 SGB VIII").
- Hours follow the billing rules (:mod:`conversations.rules.billing`): delivered = hours of appointments
  that took place; billable = what may be billed (50 % of a late cancellation or no-show by the family);
  off the budget = what the budget lost. Cancellations are split by side (family, Träger) and by notice
  (under 24 h = late, 24 h or more = in time, not recorded = unknown).
- ``--case-type`` keeps the cases of one help type or legal basis; complaints then count only the named
  complaints of those cases (an anonymous complaint has no case).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.admin import AdminError
from conversations.clock import BERLIN, berlin, iso
from conversations.rules import billing
from conversations.rules.outcomes import (
    AppointmentFacts,
    AppointmentKind,
    Notice,
    Outcome,
    cancelled_at_short_notice,
)
from storage.models import Appointment, Case, Organisation, OutboxMessage, OutboxStatus
from storage.models.budget import NachweisConfirmation
from storage.models.complaints import Complaint
from storage.models.escalations import Escalation
from storage.models.milestone import Milestone, MilestoneResponse

SMALL = 5  # counts below this (and above 0) are shown as "< 5"
SMALL_TEXT = "< 5"
SMALL_BASE_TEXT = "n < 5"
SMALL_COUNTS_RULE = ("A count from 1 to 4 is given as the string \"< 5\"; a figure resting on 1 to 4 cases, "
                     "appointments or answers (hours, a median, a share) as the string \"n < 5\"; 0 is 0; "
                     "null means there is nothing to measure.")


# --- the period -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    year: int
    quarter: int | None = None

    @classmethod
    def of(cls, year: int, quarter: int | None = None) -> Period:
        if not 2000 <= year <= 2100:
            raise AdminError("the year must be between 2000 and 2100, not {year}", year=year)
        if quarter is not None and quarter not in (1, 2, 3, 4):
            raise AdminError("the quarter must be 1, 2, 3 or 4, not {quarter}", quarter=quarter)
        return cls(year, quarter)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * (self.quarter - 1) + 1 if self.quarter else 1, 1)

    @property
    def last_day(self) -> date:
        if not self.quarter or self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    @property
    def start(self) -> datetime:
        return berlin(self.first_day.year, self.first_day.month, 1)

    @property
    def end(self) -> datetime:
        after = self.last_day + timedelta(days=1)
        return berlin(after.year, after.month, after.day)

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def contains_day(self, day: date | None) -> bool:
        return day is not None and self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return f"{self.year}-Q{self.quarter}" if self.quarter else str(self.year)


# --- values -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Count:
    n: int

    @property
    def small(self) -> bool:
        return 0 < self.n < SMALL

    def public(self) -> int | str:
        """What may be shown: the number, or "< 5"."""
        return SMALL_TEXT if self.small else self.n


@dataclass(frozen=True)
class Measure:
    """Hours, days, a share (0–1): ``value`` None when there is nothing to measure (``base`` 0)."""

    value: float | None
    base: int  # how many cases, appointments or answers it rests on
    unit: str  # hours · days · share

    @property
    def small(self) -> bool:
        return 0 < self.base < SMALL

    def public(self) -> float | str | None:
        if self.small:
            return SMALL_BASE_TEXT
        return None if self.value is None else round(self.value, 3 if self.unit == "share" else 1)


Figure = Count | Measure


@dataclass(frozen=True)
class Row:
    key: str  # what it is ("new", "hours_delivered"); with ``item``: a breakdown ("by_help_type")
    figure: Figure
    item: str | None = None  # the breakdown's entry: a help type, a category code, a rating


@dataclass
class Section:
    key: str
    rows: list[Row] = field(default_factory=list)

    def add(self, key: str, figure: Figure, item: str | None = None) -> None:
        self.rows.append(Row(key, figure, item))

    def get(self, key: str, item: str | None = None) -> Figure:
        return next(r.figure for r in self.rows if r.key == key and r.item == item)

    def items(self, key: str) -> list[Row]:
        return [r for r in self.rows if r.key == key and r.item is not None]


@dataclass
class Report:
    organisation: str
    period: Period
    case_type: str | None
    generated_at: datetime
    sections: list[Section]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` form: counts as numbers or "< 5", breakdowns as objects (see SMALL_COUNTS_RULE)."""
        data: dict[str, Any] = {
            "organisation": self.organisation, "period": str(self.period), "year": self.period.year,
            "quarter": self.period.quarter, "from": self.period.first_day.isoformat(),
            "to": self.period.last_day.isoformat(), "case_type": self.case_type,
            "generated_at": iso(self.generated_at), "small_counts": SMALL_COUNTS_RULE,
        }
        for section in self.sections:
            out: dict[str, Any] = {}
            for row in section.rows:
                if row.item is None:
                    out[row.key] = row.figure.public()
                else:
                    out.setdefault(row.key, {})[row.item] = row.figure.public()
            data[section.key] = out
        return data


# --- help types -------------------------------------------------------------------------------------------------
PARAGRAPH = re.compile(r"§\s*(\d+\s*[a-z]?)(?![a-z])", re.IGNORECASE)  # "§ 35a", not the S of "§ 31 SGB"
UNKNOWN = "unknown"  # no help type recorded


def legal_basis(help_type: str | None) -> str:
    """"SPFH § 31 SGB VIII" → "§ 31 SGB VIII" ("§ 30" too); UNKNOWN without a paragraph."""
    found = PARAGRAPH.search(help_type or "")
    return f"§ {found.group(1).replace(' ', '')} SGB VIII" if found else UNKNOWN


def help_kind(help_type: str | None) -> str:
    """"SPFH § 31 SGB VIII" → "SPFH"; a text without a paragraph stays as it is; UNKNOWN if empty."""
    text = (help_type or "").strip()
    name = PARAGRAPH.split(text, maxsplit=1)[0].strip(" ,;:()-–") if text else ""
    return name or (legal_basis(text) if text else UNKNOWN)


def matches_case_type(case: Case, wanted: str) -> bool:
    """``--case-type``: a help type ("SPFH", any case) or a legal basis ("§ 31", "31")."""
    wanted = wanted.strip()
    number = re.fullmatch(r"(?:§\s*)?(\d+\s*[a-z]?)(?![a-z])(?:\s*SGB\s*VIII)?", wanted, re.IGNORECASE)
    if number:
        return legal_basis(case.help_type).lower() == f"§ {number.group(1).replace(' ', '')} sgb viii".lower()
    return help_kind(case.help_type).casefold() == wanted.casefold()


# --- helpers ----------------------------------------------------------------------------------------------------
def _median(values: Sequence[float], unit: str) -> Measure:
    return Measure(statistics.median(values) if values else None, len(values), unit)


def _share(part: int, whole: int) -> Measure:
    """``part`` of ``whole``; it rests on the part when that is small (40 % of 5 would tell a count of 2)."""
    return Measure(part / whole if whole else None, part if 0 < part < SMALL else whole, "share")


def _hours(minutes: Iterable[float | Fraction | int], base: int) -> Measure:
    return Measure(sum(float(m) for m in minutes) / 60, base, "hours")  # halves of minutes: exact in floats


def _elapsed(start: datetime | None, end: datetime | None, per: timedelta) -> float | None:
    if start is None or end is None:
        return None
    return (end - start) / per


def _opened_on(case: Case) -> date:
    return case.started_on or case.created_at.astimezone(BERLIN).date()


def _active(case: Case, period: Period) -> bool:
    return _opened_on(case) <= period.last_day and (case.closed_at is None or case.closed_at >= period.start)


# --- the report -------------------------------------------------------------------------------------------------
def build(session: Session, org: Organisation, period: Period, now: datetime, case_type: str | None = None) -> Report:
    all_cases = list(session.scalars(select(Case).where(Case.organisation_id == org.id).order_by(Case.id)))
    if case_type:
        known = sorted({help_kind(c.help_type) for c in all_cases} | {legal_basis(c.help_type) for c in all_cases}
                       - {UNKNOWN})
        cases = [c for c in all_cases if matches_case_type(c, case_type)]
        if not cases:
            raise AdminError("no case has the help type {wanted!r} (known: {known})", wanted=case_type,
                             known=", ".join(known) or "—")
    else:
        cases = all_cases
    ids = {c.id for c in cases}
    appointments = _appointments(session, ids, period)
    sections = [
        _cases(cases, period),
        _hours_section(appointments),
        _confirmations(session, appointments, ids, period),
        _escalations(session, ids, period, "attendance"),
        _escalations(session, ids, period, "child_protection"),
        _complaints(session, org, ids, period, named_only=bool(case_type)),
        _milestones(session, ids, period),
    ]
    return Report(org.name, period, case_type, now, sections)


def _cases(cases: Sequence[Case], period: Period) -> Section:
    s = Section("cases")
    active = [c for c in cases if _active(c, period)]
    new = [c for c in cases if period.contains_day(_opened_on(c))]
    ended = [c for c in cases if period.contains(c.closed_at)]
    s.add("active", Count(len(active)))
    s.add("new", Count(len(new)))
    s.add("ended", Count(len(ended)))
    for kind, n in sorted(Counter(help_kind(c.help_type) for c in active).items()):
        s.add("by_help_type", Count(n), kind)
    for basis, n in sorted(Counter(legal_basis(c.help_type) for c in active).items()):
        s.add("by_legal_basis", Count(n), basis)
    for reason, n in sorted(Counter(c.closed_reason or "other" for c in ended).items()):
        s.add("ended_by_reason", Count(n), reason)
    return s


@dataclass(frozen=True)
class _Appointment:
    """What the figures need of an appointment: its facts for the billing rules, and the family's confirmation."""

    facts: AppointmentFacts
    confirmed: bool


def _appointments(session: Session, case_ids: set[int], period: Period) -> list[_Appointment]:
    """The period's appointments as plain facts: only the columns the rules read (no ORM objects, nothing
    encrypted), so a year of a large Träger is one query and no per-row cost beyond the rules."""
    rows = session.execute(select(
        Appointment.starts_at, Appointment.duration_minutes, Appointment.outcome, Appointment.kind,
        Appointment.cancelled_at, Appointment.actual_minutes, Appointment.cancel_notice, Appointment.confirmed_at,
    ).where(Appointment.case_id.in_(case_ids), Appointment.starts_at >= period.start,
            Appointment.starts_at < period.end))
    kinds, outcomes = {k.value: k for k in AppointmentKind}, {o.value: o for o in Outcome}
    notices: dict[str | None, Notice | None] = {None: None, **{n.value: n for n in Notice}}
    return [_Appointment(AppointmentFacts(
        starts_at=r.starts_at, planned_minutes=r.duration_minutes, outcome=outcomes[r.outcome],
        kind=kinds.get(r.kind, AppointmentKind.OTHER), cancelled_at=r.cancelled_at, actual_minutes=r.actual_minutes,
        cancel_notice=notices.get(r.cancel_notice)), r.confirmed_at is not None) for r in rows]


def _hours_section(appointments: Sequence[_Appointment]) -> Section:
    s = Section("hours")
    charged = [(a, a.facts, billing.charge(a.facts)) for a in appointments]
    took = [(a, f, c) for a, f, c in charged if f.outcome == Outcome.TOOK_PLACE]
    recorded = [(a, f, c) for a, f, c in charged if f.outcome != Outcome.PLANNED]
    s.add("appointments", Count(len(appointments)))
    s.add("took_place", Count(len(took)))
    s.add("not_recorded", Count(len(charged) - len(recorded)))
    s.add("hours_delivered", _hours((f.actual_minutes or f.planned_minutes for _a, f, _c in took), len(took)))
    s.add("hours_billable", _hours((c.billable_minutes for _a, _f, c in recorded),
                                   sum(c.billable_minutes > 0 for _a, _f, c in recorded)))
    s.add("hours_off_budget", _hours((c.used_minutes for _a, _f, c in recorded),
                                     sum(c.used_minutes > 0 for _a, _f, c in recorded)))
    no_show = [f for _a, f, _c in charged if f.outcome == Outcome.NO_SHOW]
    s.add("no_show", Count(len(no_show)))
    s.add("no_show_hours", _hours((f.planned_minutes for f in no_show), len(no_show)))
    for side, outcome in (("family", Outcome.CANCELLED_BY_FAMILY), ("traeger", Outcome.CANCELLED_BY_PROVIDER)):
        cancelled = [f for _a, f, _c in charged if f.outcome == outcome]
        notice = {"late": [f for f in cancelled if cancelled_at_short_notice(f) is True],
                  "in_time": [f for f in cancelled if cancelled_at_short_notice(f) is False],
                  "unknown": [f for f in cancelled if cancelled_at_short_notice(f) is None]}
        for when, rows in notice.items():
            s.add(f"cancelled_{when}_by_{side}", Count(len(rows)))
            if when != "unknown":
                s.add(f"cancelled_{when}_by_{side}_hours", _hours((f.planned_minutes for f in rows), len(rows)))
    s.add("crisis_interventions", Count(sum(f.kind == AppointmentKind.KRISENINTERVENTION for _a, f, _c in charged)))
    return s


REMINDER_KEY = re.compile(r"^remind:(\d+):")


def _confirmations(session: Session, appointments: Sequence[_Appointment], case_ids: set[int],
                   period: Period) -> Section:
    s = Section("confirmations")
    s.add("appointments_confirmed", Count(sum(a.confirmed for a in appointments)))
    s.add("appointments_confirmed_share", _share(sum(a.confirmed for a in appointments), len(appointments)))
    reminders = list(session.scalars(select(OutboxMessage.dedupe_key).where(  # the key names the appointment
        OutboxMessage.kind == "appointment.reminder", OutboxMessage.status == OutboxStatus.SENT,
        OutboxMessage.sent_at >= period.start, OutboxMessage.sent_at < period.end)))
    reminded_ids = {int(m.group(1)) for key in reminders if (m := REMINDER_KEY.match(key or ""))}
    reminded = session.execute(select(Appointment.id, Appointment.confirmed_at).where(
        Appointment.id.in_(reminded_ids), Appointment.case_id.in_(case_ids))).all() if reminded_ids else []
    mine = {a.id for a in reminded}
    sent = [key for key in reminders if (m := REMINDER_KEY.match(key or "")) and int(m.group(1)) in mine]
    confirmed = sum(a.confirmed_at is not None for a in reminded)
    s.add("reminders_sent", Count(len(sent)))
    s.add("appointments_reminded", Count(len(reminded)))
    s.add("reminded_and_confirmed", Count(confirmed))
    s.add("reminded_confirmed_share", _share(confirmed, len(reminded)))
    months = {f"{d.year}-{d.month:02d}" for d in _months(period)}
    proofs = list(session.scalars(select(NachweisConfirmation).where(
        NachweisConfirmation.case_id.in_(case_ids), NachweisConfirmation.month.in_(sorted(months)))))
    for status in ("confirmed", "disputed", "pending"):
        s.add("nachweis", Count(sum(p.status == status for p in proofs)), status)
    return s


def _months(period: Period) -> list[date]:
    first = period.first_day
    return [date(first.year, first.month + i, 1) for i in range(12 if not period.quarter else 3)]


def _escalations(session: Session, case_ids: set[int], period: Period, kind: str) -> Section:
    s = Section("escalations" if kind == "attendance" else "alerts")
    rows = list(session.scalars(select(Escalation).where(
        Escalation.kind == kind, Escalation.case_id.in_(case_ids), Escalation.created_at >= period.start,
        Escalation.created_at < period.end)))
    done = [e for e in rows if e.acknowledged_at is not None]
    hours = [h for e in done if (h := _elapsed(e.created_at, e.acknowledged_at, timedelta(hours=1))) is not None]
    s.add("raised", Count(len(rows)))
    s.add("acknowledged" if kind == "attendance" else "handled", Count(len(done)))
    s.add("open", Count(len(rows) - len(done)))
    s.add("median_hours_to_acknowledge" if kind == "attendance" else "median_hours_to_handle",
          _median(hours, "hours"))
    in_time = [e for e in done if e.due_at is None or e.acknowledged_at <= e.due_at]  # type: ignore[operator]
    s.add("in_time", Count(len(in_time)))
    s.add("reminder_needed", Count(sum(e.reminded_at is not None for e in rows)))
    return s


def _complaints(session: Session, org: Organisation, case_ids: set[int], period: Period, *,
                named_only: bool) -> Section:
    from conversations.complaints.rules import Category, Outcome, Satisfaction, Status

    s = Section("complaints")
    query = select(Complaint).where(Complaint.organisation_id == org.id, Complaint.status != Status.DRAFT,
                                    Complaint.submitted_at >= period.start, Complaint.submitted_at < period.end)
    found = list(session.scalars(query))
    if named_only:
        found = [c for c in found if c.case_id in case_ids]
    closed = [c for c in found if c.status == Status.CLOSED]
    s.add("received", Count(len(found)))
    s.add("anonymous", Count(sum(c.anonymous for c in found)))
    s.add("open", Count(len(found) - len(closed)))
    for category in Category:
        s.add("by_topic", Count(sum(c.category == category for c in found)), category.value)
    for outcome in Outcome:
        s.add("by_outcome", Count(sum(c.outcome == outcome for c in closed)), outcome.value)
    day = timedelta(days=1)
    taken = [d for c in found if (d := _elapsed(c.submitted_at, c.taken_at, day)) is not None]
    answered = [d for c in found if (d := _elapsed(c.submitted_at, c.answered_at or c.closed_at, day)) is not None]
    s.add("median_days_to_take_up", _median(taken, "days"))
    s.add("taken_up_in_time", Count(sum(c.taken_at is not None and c.take_up_due is not None
                                        and c.taken_at <= c.take_up_due for c in found)))
    s.add("median_days_to_answer", _median(answered, "days"))
    s.add("answered_in_time", Count(sum((c.answered_at or c.closed_at) is not None and c.answer_due is not None
                                        and (c.answered_at or c.closed_at) <= c.answer_due for c in found)))
    for value in Satisfaction:
        s.add("satisfaction", Count(sum(c.satisfaction == value for c in closed)), value.value)
    s.add("satisfaction", Count(sum(c.satisfaction is None for c in closed)), "no_answer")
    return s


def _milestones(session: Session, case_ids: set[int], period: Period) -> Section:
    from conversations.milestone.core import answers
    from conversations.milestone.questions import FACES
    from conversations.rules.milestone import GoalRating

    s = Section("milestones")
    held = list(session.scalars(select(Milestone).join(Appointment, Appointment.id == Milestone.appointment_id).where(
        Milestone.case_id.in_(case_ids), Appointment.starts_at >= period.start, Appointment.starts_at < period.end)))
    responses = list(session.scalars(select(MilestoneResponse).where(
        MilestoneResponse.milestone_id.in_([m.id for m in held]), MilestoneResponse.submitted_at.is_not(None))))
    family = [r for r in responses if r.member_id is not None]
    staff = [r for r in responses if r.staff_id is not None]
    s.add("talks", Count(len(held)))
    s.add("questionnaires_family", Count(len(family)))
    s.add("questionnaires_staff", Count(len(staff)))
    for who, group in (("family", family), ("staff", staff)):
        ratings = Counter((answers(r).get("cooperation") or {}).get("choice") for r in group)
        for face in FACES:
            s.add(f"cooperation_{who}", Count(ratings[face]), face)
    goal_answers = Counter(a.get("choice") for r in family for key, a in answers(r).items()
                           if key.startswith("goal:") and not a.get("skipped"))
    for rating in GoalRating:
        s.add("goals_family", Count(goal_answers[rating.value]), rating.value)
    rated = sum(goal_answers[g.value] for g in (GoalRating.REACHED, GoalRating.PARTLY, GoalRating.NOT_YET))
    s.add("goals_reached_share", _share(goal_answers[GoalRating.REACHED.value], rated))
    return s
