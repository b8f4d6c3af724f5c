"""The three-misses rule as a table: what counts, what resets, what changes nothing, and its settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.clock import berlin
from conversations.rules.attendance import (
    AttendanceRule,
    Effect,
    Situation,
    current_streak,
    effect,
    escalation_due,
)
from conversations.rules.outcomes import AppointmentFacts, AppointmentKind, Outcome

START = berlin(2027, 3, 16, 10)
RULE = AttendanceRule()


def visit(outcome: Outcome, *, week: int = 0, cancelled_ahead: timedelta | None = None,
          kind: AppointmentKind = AppointmentKind.HAUSBESUCH) -> AppointmentFacts:
    starts = START + timedelta(weeks=week)
    return AppointmentFacts(starts_at=starts, planned_minutes=120, outcome=outcome, kind=kind,
                            cancelled_at=starts - cancelled_ahead if cancelled_ahead is not None else None)


@pytest.mark.parametrize(("facts", "expected"), [
    (visit(Outcome.NO_SHOW), Effect.COUNTS),
    (visit(Outcome.CANCELLED_BY_FAMILY, cancelled_ahead=timedelta(hours=11, minutes=20)), Effect.COUNTS),
    (visit(Outcome.CANCELLED_BY_FAMILY, cancelled_ahead=timedelta(hours=23, minutes=59)), Effect.COUNTS),
    (visit(Outcome.CANCELLED_BY_FAMILY, cancelled_ahead=timedelta(hours=24)), Effect.NEUTRAL),  # exactly 24 h: in time
    (visit(Outcome.CANCELLED_BY_FAMILY, cancelled_ahead=timedelta(days=3)), Effect.NEUTRAL),
    (visit(Outcome.CANCELLED_BY_FAMILY), Effect.COUNTS),  # time of cancellation unknown: the safer reading
    (visit(Outcome.CANCELLED_BY_FAMILY, cancelled_ahead=-timedelta(minutes=30)), Effect.COUNTS),  # after the start
    (visit(Outcome.CANCELLED_BY_PROVIDER, cancelled_ahead=timedelta(hours=2)), Effect.NEUTRAL),
    (visit(Outcome.TOOK_PLACE), Effect.RESETS),
    (visit(Outcome.PLANNED), Effect.NEUTRAL),
])
def test_the_effect_of_each_outcome(facts, expected):
    assert effect(facts, RULE) is expected


def test_the_24_hours_are_elapsed_time_across_the_dst_change():
    # Sunday 28 March 2027 has 23 hours in Berlin: Saturday 10:00 to Sunday 10:00 is 23 h of real time.
    starts = berlin(2027, 3, 28, 10)
    facts = AppointmentFacts(starts_at=starts, planned_minutes=120, outcome=Outcome.CANCELLED_BY_FAMILY,
                             cancelled_at=berlin(2027, 3, 27, 10))
    assert effect(facts, RULE) is Effect.COUNTS


def test_three_in_a_row_escalate_and_a_visit_that_took_place_resets():
    late = timedelta(hours=11)
    history = [
        visit(Outcome.TOOK_PLACE, week=0),
        visit(Outcome.CANCELLED_BY_FAMILY, week=1, cancelled_ahead=late),
        visit(Outcome.NO_SHOW, week=2),
    ]
    assert escalation_due(history, RULE) is None and current_streak(history, RULE) == [1, 2]
    history.append(visit(Outcome.CANCELLED_BY_FAMILY, week=3, cancelled_ahead=timedelta(hours=2)))
    assert escalation_due(history, RULE) == [1, 2, 3]
    history.append(visit(Outcome.TOOK_PLACE, week=4))
    assert escalation_due(history, RULE) is None and current_streak(history, RULE) == []


def test_cancellations_in_time_and_by_the_provider_neither_count_nor_reset():
    history = [
        visit(Outcome.NO_SHOW, week=0),
        visit(Outcome.CANCELLED_BY_PROVIDER, week=1),
        visit(Outcome.NO_SHOW, week=2),
        visit(Outcome.CANCELLED_BY_FAMILY, week=3, cancelled_ahead=timedelta(days=2)),
        visit(Outcome.PLANNED, week=4),
        visit(Outcome.NO_SHOW, week=5),
    ]
    assert escalation_due(history, RULE) == [0, 2, 5]


def test_outcomes_recorded_out_of_order_still_find_the_streak():
    history = [visit(Outcome.NO_SHOW, week=0), visit(Outcome.NO_SHOW, week=1), visit(Outcome.NO_SHOW, week=2),
               visit(Outcome.TOOK_PLACE, week=3)]
    # The visit of week 3 was recorded first; the no-show of week 2 is entered afterwards.
    assert escalation_due(history, RULE) is None  # the running streak is empty...
    assert escalation_due(history, RULE, changed=2) == [0, 1, 2]  # ...but this one completed three in a row
    assert escalation_due(history, RULE, changed=3) is None


def test_a_correction_to_a_neutral_outcome_joins_two_runs():
    history = [visit(Outcome.NO_SHOW, week=0), visit(Outcome.NO_SHOW, week=1),
               visit(Outcome.CANCELLED_BY_PROVIDER, week=2),  # was recorded as "took place" first
               visit(Outcome.NO_SHOW, week=3), visit(Outcome.TOOK_PLACE, week=4)]
    assert escalation_due(history, RULE, changed=2) == [0, 1, 3]


def test_an_organisation_configures_the_rule():
    rule = AttendanceRule.from_settings({
        "streak_length": 2,
        "short_notice_hours": 48,
        "effects": {"early_family_cancellation": "counts", "provider_cancellation": "resets"},
        "ignored_kinds": ["gruppenangebot"],
        "acknowledge_within_working_days": 2,
    })
    assert effect(visit(Outcome.CANCELLED_BY_FAMILY, cancelled_ahead=timedelta(hours=30)), rule) is Effect.COUNTS
    assert effect(visit(Outcome.CANCELLED_BY_PROVIDER), rule) is Effect.RESETS
    assert effect(visit(Outcome.NO_SHOW, kind=AppointmentKind.GRUPPENANGEBOT), rule) is Effect.NEUTRAL
    assert escalation_due([visit(Outcome.NO_SHOW), visit(Outcome.NO_SHOW, week=1)], rule) == [0, 1]
    assert rule.acknowledge_within_working_days == 2
    assert AttendanceRule.from_settings(None) == AttendanceRule()
    assert AttendanceRule().effects[Situation.TOOK_PLACE] is Effect.RESETS


@pytest.mark.parametrize("settings", [
    {"streak": 3},  # a typo must not silently weaken the rule
    {"effects": {"no_show": "ignore"}},
    {"effects": {"missed": "counts"}},
    {"streak_length": 0},
])
def test_a_wrong_setting_is_refused_with_its_name(settings):
    with pytest.raises(ValueError, match="attendance"):
        AttendanceRule.from_settings(settings)
