"""The billing rules of seed 004 ("Abrechnung"), table-driven: what is billed and what comes off the budget."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest

from conversations.clock import berlin
from conversations.rules.billing import (
    BudgetPeriod,
    Month,
    charge,
    exceeds_budget,
    month_budget_minutes,
    short_notice,
    statement,
    thresholds_crossed,
    weekly_load_minutes,
)
from conversations.rules.outcomes import AppointmentFacts, AppointmentKind, Outcome

H = 60
FAMILY, PROVIDER = Outcome.CANCELLED_BY_FAMILY, Outcome.CANCELLED_BY_PROVIDER


def visit(start: datetime, outcome: Outcome = Outcome.PLANNED, *, minutes: int = 2 * H,
          cancelled: datetime | None = None, actual: int | None = None,
          kind: AppointmentKind = AppointmentKind.HAUSBESUCH) -> AppointmentFacts:
    return AppointmentFacts(starts_at=start, planned_minutes=minutes, outcome=outcome, kind=kind,
                            cancelled_at=cancelled, actual_minutes=actual)


TUE = berlin(2027, 3, 16, 10)  # Tuesday, 16 March 2027, 10:00 (CET)
# DST starts Sunday 28 March 2027 at 02:00 (→ 03:00) and ends Sunday 31 October 2027 at 03:00 (→ 02:00):
# on those Sundays, "the same time yesterday" is 23 h (spring) or 25 h (autumn) of real time ago.
SPRING_SUNDAY = berlin(2027, 3, 28, 10)  # CEST
AUTUMN_SUNDAY = berlin(2027, 10, 31, 10)  # CET

CASES = [
    # (name, facts, used minutes, billable minutes, short notice?)
    ("took place, actual 2.5 h", visit(TUE, Outcome.TOOK_PLACE, actual=150), 150, 150, False),
    ("took place, nothing recorded: planned", visit(TUE, Outcome.TOOK_PLACE), 120, 120, False),
    ("family, exactly 24 h before: in time", visit(TUE, FAMILY, cancelled=TUE - timedelta(hours=24)), 0, 0, False),
    ("family, 23 h 59 min before: short notice",
     visit(TUE, FAMILY, cancelled=TUE - timedelta(hours=23, minutes=59)), 120, 60, True),
    ("family, 24 h 1 min before", visit(TUE, FAMILY, cancelled=TUE - timedelta(hours=24, minutes=1)), 0, 0, False),
    ("family, Monday 22:40 before Tuesday 10:00", visit(TUE, FAMILY, cancelled=berlin(2027, 3, 15, 22, 40)),
     120, 60, True),
    ("family, same morning", visit(TUE, FAMILY, cancelled=berlin(2027, 3, 16, 7, 30)), 120, 60, True),
    ("family, after the start", visit(TUE, FAMILY, cancelled=TUE + timedelta(minutes=10)), 120, 60, True),
    ("family, 45 min visit: half is 22.5 min", visit(TUE, FAMILY, minutes=45, cancelled=TUE - timedelta(hours=1)),
     45, Fraction(45, 2), True),
    ("family, Saturday 10:00 before Sunday 10:00 across spring DST: 23 h",
     visit(SPRING_SUNDAY, FAMILY, cancelled=berlin(2027, 3, 27, 10)), 120, 60, True),
    ("family, Saturday 09:00 before Sunday 10:00 across spring DST: exactly 24 h",
     visit(SPRING_SUNDAY, FAMILY, cancelled=berlin(2027, 3, 27, 9)), 0, 0, False),
    ("family, Saturday 10:00 before Sunday 10:00 across autumn DST: 25 h",
     visit(AUTUMN_SUNDAY, FAMILY, cancelled=berlin(2027, 10, 30, 10)), 0, 0, False),
    ("family, Saturday 11:00 before Sunday 10:00 across autumn DST: exactly 24 h",
     visit(AUTUMN_SUNDAY, FAMILY, cancelled=berlin(2027, 10, 30, 11)), 0, 0, False),
    ("family, Saturday 11:01 across autumn DST: 23 h 59 min",
     visit(AUTUMN_SUNDAY, FAMILY, cancelled=berlin(2027, 10, 30, 11, 1)), 120, 60, True),
    ("Träger, 1 h before", visit(TUE, PROVIDER, cancelled=TUE - timedelta(hours=1)), 0, 0, False),
    ("Träger, 3 days before", visit(TUE, PROVIDER, cancelled=TUE - timedelta(days=3)), 0, 0, False),
    ("no-show: like a cancellation under 24 h", visit(TUE, Outcome.NO_SHOW), 120, 60, True),
    ("planned: nothing yet", visit(TUE), 0, 0, False),
    ("crisis intervention that took place counts",
     visit(TUE, Outcome.TOOK_PLACE, actual=90, kind=AppointmentKind.KRISENINTERVENTION), 90, 90, False),
]


@pytest.mark.parametrize(("name", "facts", "used", "billable", "late"), CASES, ids=[c[0] for c in CASES])
def test_charge(name: str, facts: AppointmentFacts, used: int, billable: Fraction, late: bool) -> None:
    result = charge(facts)
    assert (result.used_minutes, result.billable_minutes, result.short_notice) == (used, billable, late)


def test_the_24_hour_edge_is_real_elapsed_time_even_in_one_zone() -> None:
    from conversations.clock import BERLIN

    start = datetime(2027, 3, 28, 10, tzinfo=BERLIN)
    cancelled = datetime(2027, 3, 27, 10, tzinfo=BERLIN)  # wall clocks 24 h apart, really 23 h
    assert short_notice(start, cancelled)


def test_an_appointment_counts_in_the_month_it_starts_in_berlin() -> None:
    # 1 April 00:30 Berlin is still 31 March in UTC; cancelled late on 31 March.
    april_first = berlin(2027, 4, 1, 0, 30)
    late = visit(april_first, FAMILY, cancelled=berlin(2027, 3, 31, 20))
    march_visit = visit(berlin(2027, 3, 31, 22), Outcome.TOOK_PLACE)  # 20:00 UTC, 22:00 Berlin
    budget = [BudgetPeriod(20 * H, date(2027, 1, 1))]
    march = statement(Month(2027, 3), budget, [late, march_visit])
    april = statement(Month(2027, 4), budget, [late, march_visit])
    assert (march.used_minutes, march.short_notice_count) == (120, 0)
    assert (april.used_minutes, april.billable_minutes, april.short_notice_count) == (120, 60, 1)


def test_a_weekly_series_in_march_2027_the_scenario_month() -> None:
    """SCENARIOS.md: 20 h; Tuesdays 10–12; 9th 2.5 h; 16th cancelled Mon 22:40; 23rd no-show; 30th same morning."""
    tuesdays = [berlin(2027, 3, d, 10) for d in (2, 9, 16, 23, 30)]
    series = [
        visit(tuesdays[0], Outcome.TOOK_PLACE),
        visit(tuesdays[1], Outcome.TOOK_PLACE, actual=150),
        visit(tuesdays[2], FAMILY, cancelled=berlin(2027, 3, 15, 22, 40)),
        visit(tuesdays[3], Outcome.NO_SHOW),
        visit(tuesdays[4], FAMILY, cancelled=berlin(2027, 3, 30, 7, 45)),
    ]
    result = statement(Month(2027, 3), [BudgetPeriod(20 * H, date(2027, 1, 1))], series)
    assert result.as_dict() == {
        "month": "2027-03", "budget_hours": 20.0, "approved_extra_hours": 0.0, "used_hours": 10.5,
        "billable_hours": 7.5, "planned_hours": 0.0, "remaining_hours": 9.5, "used_percent": 52, "took_place": 2,
        "cancelled_short_notice": 3, "cancelled_short_notice_hours": 6.0, "cancelled_in_time_or_by_us": 0,
        "cancelled_in_time_or_by_us_hours": 0.0, "crisis_hours": 0.0, "cancellation_time_unknown": 0,
        "pending_extra_hours": 0.0,
    }


def test_a_budget_changed_mid_month_counts_pro_rata_by_day() -> None:
    periods = [BudgetPeriod(20 * H, date(2027, 1, 1), date(2027, 3, 15)), BudgetPeriod(31 * H, date(2027, 3, 16))]
    # 15 days of 20 h/31 + 16 days of 31 h/31 = 9 h 40 min (580/31 h) + 16 h
    assert month_budget_minutes(periods, Month(2027, 3)) == Fraction(15 * 20 * H, 31) + 16 * H
    assert month_budget_minutes(periods, Month(2027, 2)) == 20 * H
    assert month_budget_minutes(periods, Month(2027, 4)) == 31 * H
    assert month_budget_minutes([], Month(2027, 4)) == 0


def test_scheduling_beyond_the_budget_and_the_warning_thresholds() -> None:
    budget = [BudgetPeriod(10 * H, date(2027, 3, 1))]
    planned = [visit(berlin(2027, 3, d, 10)) for d in (2, 9, 16, 23)]  # 8 h planned
    current = statement(Month(2027, 3), budget, planned)
    assert not exceeds_budget(current, 2 * H)
    assert exceeds_budget(current, 2 * H + 1)
    assert thresholds_crossed(70, 85) == [80]
    assert thresholds_crossed(79, 100) == [80, 100]
    assert thresholds_crossed(80, 99) == []


def test_weekly_load_over_48_hours() -> None:
    week = date(2027, 3, 15)
    long_days = [visit(berlin(2027, 3, d, 8), minutes=10 * H) for d in (15, 16, 17, 18, 19)]
    assert weekly_load_minutes(long_days, week) == 50 * H
    free = visit(berlin(2027, 3, 20, 8), PROVIDER, minutes=5 * H, cancelled=berlin(2027, 3, 10, 8))
    next_week = visit(berlin(2027, 3, 22, 8), minutes=5 * H)
    assert weekly_load_minutes([*long_days[:4], free, next_week], week) == 40 * H
