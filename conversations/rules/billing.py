"""Billing and the monthly hour budget: pure functions of appointment facts (DOMAIN.md § 3, seed 004).

The rules, as the Leistungsbeschreibung states them ("Abrechnung", "Auslastung/Erreichbarkeit"):

- Took place: the actual hours are used from the budget and billable (planned hours if none recorded).
- Cancelled by the family *within 24 hours* before the start: 50 % billable, the **full** planned hours
  come off the budget. We read "within 24 hours" as *less than 24 h before the start*, measured in real
  elapsed time (UTC), so a DST change does not move the edge: exactly 24 h ahead is not "within".
  A cancellation after the start counts as within 24 h.
- Cancelled by the family 24 h or more ahead, or cancelled by the Träger: nothing billed, nothing off.
- Cancelled by the family at a time nobody recorded ("time unknown"): nothing is assumed. It is billed
  nothing and deducts nothing, and the statement lists it for review until someone gives the time (or
  at least whether it was 24 h or more ahead).
- No-show (the family was not there): our reading is that it is the shortest-notice cancellation by the
  family there is, so it is treated exactly like a cancellation under 24 h (50 % billable, full hours off).
- Krisenintervention: counted like any other appointment, and flagged (it may happen without prior
  consultation, but the fallführende Fachkraft must hear of it straight after if it goes over the budget).
- An appointment belongs to the month (Europe/Berlin) in which it starts, also when it was cancelled in
  the month before.
- A budget changed during a month (a new Hilfeplan) counts pro rata by calendar days for that month.
- Weekly load of a Fachkraft: hours of her appointments in a Berlin week (Monday–Sunday) that are not
  free cancellations; over 48 h warns (the seed's 48 h also include Minderzeiten the bot does not see,
  so the warning errs on the late side).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from conversations.clock import BERLIN
from conversations.rules.outcomes import SHORT_NOTICE as SHORT_NOTICE
from conversations.rules.outcomes import AppointmentFacts, AppointmentKind, Outcome, cancelled_at_short_notice
from storage.errors import Explained

LATE_CANCELLATION_SHARE = Fraction(1, 2)
MAX_WEEKLY_MINUTES = 48 * 60
WARNING_THRESHOLDS = (80, 100)


@dataclass(frozen=True)
class Charge:
    """What one appointment means for the budget and the bill (minutes; billable may be a half)."""

    used_minutes: int  # off the month's budget
    billable_minutes: Fraction
    planned_minutes: int  # still ahead (outcome not recorded): counts for scheduling, not as used
    short_notice: bool  # a late cancellation or no-show billed under the 50 % rule
    free_cancellation: bool  # cancelled in time or by the Träger
    crisis: bool
    time_unknown: bool = False  # cancelled by the family, when is not recorded: billed nothing until it is


def short_notice(starts_at: datetime, cancelled_at: datetime) -> bool:
    """Less than 24 h of real elapsed time between the cancellation and the start."""
    facts = AppointmentFacts(starts_at, 0, Outcome.CANCELLED_BY_FAMILY, cancelled_at=cancelled_at)
    return cancelled_at_short_notice(facts) is True


def charge(facts: AppointmentFacts) -> Charge:
    crisis = facts.kind == AppointmentKind.KRISENINTERVENTION
    planned = facts.planned_minutes
    if facts.outcome == Outcome.TOOK_PLACE:
        actual = facts.actual_minutes if facts.actual_minutes is not None else planned
        return Charge(actual, Fraction(actual), 0, False, False, crisis)
    if facts.outcome == Outcome.NO_SHOW:
        return Charge(planned, planned * LATE_CANCELLATION_SHARE, 0, True, False, crisis)
    if facts.outcome == Outcome.CANCELLED_BY_FAMILY:
        late = cancelled_at_short_notice(facts)
        if late is None:  # the family cannot be charged for what we cannot show
            return Charge(0, Fraction(0), 0, False, False, crisis, time_unknown=True)
        if late:
            return Charge(planned, planned * LATE_CANCELLATION_SHARE, 0, True, False, crisis)
        return Charge(0, Fraction(0), 0, False, True, crisis)
    if facts.outcome == Outcome.CANCELLED_BY_PROVIDER:
        return Charge(0, Fraction(0), 0, False, True, crisis)
    return Charge(0, Fraction(0), planned, False, False, crisis)


# --- months and budgets ----------------------------------------------------------------------------


class MonthError(Explained, ValueError):
    """A month typed wrongly; the command line says it in the operator's language."""

@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2027-03``."""
        try:
            year, month = (int(p) for p in text.strip().split("-"))
        except ValueError:
            raise MonthError("{text!r} is not a month like 2027-03", text=text) from None
        if not 1 <= month <= 12:
            raise MonthError("{text!r} is not a month like 2027-03", text=text)
        return cls(year, month)

    @classmethod
    def of(cls, moment: datetime) -> Month:
        local = moment.astimezone(BERLIN)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def days(self) -> int:
        return self.last_day.day

    def bounds(self) -> tuple[datetime, datetime]:
        """Start and end of the month in Berlin, as aware UTC (the end is exclusive)."""
        start = datetime(self.year, self.month, 1, tzinfo=BERLIN).astimezone(UTC)
        nxt = self.next()
        return start, datetime(nxt.year, nxt.month, 1, tzinfo=BERLIN).astimezone(UTC)


@dataclass(frozen=True)
class BudgetPeriod:
    """A monthly budget valid from one day (inclusive) until another (inclusive, or open)."""

    monthly_minutes: int
    valid_from: date
    valid_until: date | None = None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


def month_budget_minutes(periods: Sequence[BudgetPeriod], month: Month) -> Fraction:
    """The month's budget; a change during the month counts pro rata by calendar days.

    On a day two periods cover, the later-starting one wins (the newer Hilfeplan).
    """
    total = Fraction(0)
    ordered = sorted(periods, key=lambda p: p.valid_from)
    for offset in range(month.days):
        day = month.first_day + timedelta(days=offset)
        covering = [p for p in ordered if p.covers(day)]
        if covering:
            total += Fraction(covering[-1].monthly_minutes, month.days)
    return total


@dataclass(frozen=True)
class Statement:
    month: Month
    budget_minutes: Fraction
    approved_extra_minutes: int
    used_minutes: int
    billable_minutes: Fraction
    planned_minutes: int
    short_notice_count: int
    short_notice_minutes: int
    free_cancellation_count: int
    free_cancellation_minutes: int
    crisis_minutes: int
    took_place_count: int
    time_unknown_count: int = 0  # family cancellations whose time is not recorded yet (billed nothing)
    pending_extra_minutes: int = 0  # extra hours asked for, still waiting for the Jugendamt's approval

    @property
    def allowed_minutes(self) -> Fraction:
        return self.budget_minutes + self.approved_extra_minutes

    @property
    def remaining_minutes(self) -> Fraction:
        return self.allowed_minutes - self.used_minutes

    @property
    def used_percent(self) -> int:
        """Share of the budget used, rounded down (0 without a budget)."""
        if self.budget_minutes <= 0:
            return 0
        return int(Fraction(self.used_minutes * 100) / self.budget_minutes)

    def as_dict(self) -> dict[str, object]:
        def hours(minutes: Fraction | int) -> float:
            return round(float(minutes) / 60, 2)

        return {
            "month": str(self.month),
            "budget_hours": hours(self.budget_minutes),
            "approved_extra_hours": hours(self.approved_extra_minutes),
            "used_hours": hours(self.used_minutes),
            "billable_hours": hours(self.billable_minutes),
            "planned_hours": hours(self.planned_minutes),
            "remaining_hours": hours(self.remaining_minutes),
            "used_percent": self.used_percent,
            "took_place": self.took_place_count,
            "cancelled_short_notice": self.short_notice_count,
            "cancelled_short_notice_hours": hours(self.short_notice_minutes),
            "cancelled_in_time_or_by_us": self.free_cancellation_count,
            "cancelled_in_time_or_by_us_hours": hours(self.free_cancellation_minutes),
            "crisis_hours": hours(self.crisis_minutes),
            "cancellation_time_unknown": self.time_unknown_count,
            "pending_extra_hours": hours(self.pending_extra_minutes),
        }


def statement(month: Month, periods: Sequence[BudgetPeriod], appointments: Iterable[AppointmentFacts],
              approved_extra_minutes: int = 0, pending_extra_minutes: int = 0) -> Statement:
    """The month's account: only appointments that start in ``month`` (Berlin) count."""
    used = planned = short_count = short_minutes = free_count = free_minutes = crisis = took = unknown = 0
    billable = Fraction(0)
    for facts in appointments:
        if Month.of(facts.starts_at) != month:
            continue
        item = charge(facts)
        used += item.used_minutes
        billable += item.billable_minutes
        planned += item.planned_minutes
        if item.short_notice:
            short_count += 1
            short_minutes += facts.planned_minutes
        if item.free_cancellation:
            free_count += 1
            free_minutes += facts.planned_minutes
        if item.crisis:
            crisis += item.used_minutes
        took += facts.outcome == Outcome.TOOK_PLACE
        unknown += item.time_unknown
    return Statement(month, month_budget_minutes(periods, month), approved_extra_minutes, used, billable,
                     planned, short_count, short_minutes, free_count, free_minutes, crisis, took, unknown,
                     pending_extra_minutes)


def thresholds_crossed(before_percent: int, after_percent: int) -> list[int]:
    """The warning thresholds (80 %, 100 %) newly reached by a change."""
    return [t for t in WARNING_THRESHOLDS if before_percent < t <= after_percent]


def exceeds_budget(current: Statement, extra_minutes: int) -> bool:
    """Would scheduling ``extra_minutes`` more go beyond what is allowed (used + planned + new)?"""
    return current.used_minutes + current.planned_minutes + extra_minutes > current.allowed_minutes


def week_start(moment: datetime) -> date:
    local = moment.astimezone(BERLIN).date()
    return local - timedelta(days=local.weekday())


def weekly_load_minutes(appointments: Iterable[AppointmentFacts], week: date) -> int:
    """A Fachkraft's hours in the Berlin week starting on Monday ``week`` (free cancellations excluded)."""
    total = 0
    for facts in appointments:
        if week_start(facts.starts_at) != week:
            continue
        item = charge(facts)
        if item.free_cancellation:
            continue
        # A late cancellation or no-show still blocked the time; one that took place counts as it went.
        total += item.used_minutes if facts.outcome == Outcome.TOOK_PLACE else facts.planned_minutes
    return total
