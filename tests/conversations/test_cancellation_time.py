"""When the family cancelled is a fact: given, only its notice, or unknown; billing and the three-in-a-row
rule read the same recorded moment, in real elapsed time, across both DST changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from conversations import admin, budget
from conversations import appointments as appts
from conversations.admin import AdminError
from conversations.clock import BERLIN, berlin
from conversations.rules.attendance import AttendanceRule, Situation, situation
from conversations.rules.billing import Month, charge
from conversations.rules.outcomes import AppointmentFacts, Notice, Outcome
from storage.models import Appointment, Case


def local(*parts: int) -> datetime:
    """A Berlin wall-clock time *in the Berlin zone* (not UTC): the input that tripped the old rule."""
    return datetime(*parts, tzinfo=BERLIN)


# start (Berlin), when the family cancelled, what is billed (h), off the budget (h), situation for the streak
CASES = [
    # given moments
    (local(2027, 3, 11, 10), local(2027, 3, 8, 17, 30), 0, 0, Situation.EARLY_FAMILY_CANCELLATION),
    (local(2027, 3, 11, 10), local(2027, 3, 10, 10, 0), 0, 0, Situation.EARLY_FAMILY_CANCELLATION),  # 24 h exactly
    (local(2027, 3, 11, 10), local(2027, 3, 10, 10, 1), 1, 2, Situation.LATE_FAMILY_CANCELLATION),
    (local(2027, 3, 11, 10), local(2027, 3, 11, 11, 0), 1, 2, Situation.LATE_FAMILY_CANCELLATION),  # after start
    # spring forward (28 March 2027, 02:00 → 03:00): 24.5 h on the wall clock, 23.5 h elapsed → short notice
    (local(2027, 3, 28, 10, 30), local(2027, 3, 27, 10, 0), 1, 2, Situation.LATE_FAMILY_CANCELLATION),
    # … and 24 h on the wall clock across it is only 23 h elapsed
    (local(2027, 3, 28, 10, 0), local(2027, 3, 27, 10, 0), 1, 2, Situation.LATE_FAMILY_CANCELLATION),
    # fall back (31 October 2027, 03:00 → 02:00): 23.5 h on the wall clock, 24.5 h elapsed → in time
    (local(2027, 10, 31, 10, 0), local(2027, 10, 30, 10, 30), 0, 0, Situation.EARLY_FAMILY_CANCELLATION),
    # only the notice is known
    (local(2027, 3, 11, 10), Notice.IN_TIME, 0, 0, Situation.EARLY_FAMILY_CANCELLATION),
    (local(2027, 3, 11, 10), Notice.SHORT, 1, 2, Situation.LATE_FAMILY_CANCELLATION),
    # nobody knows: billed nothing (nothing is assumed); the streak counts it, the safer reading
    (local(2027, 3, 11, 10), None, 0, 0, Situation.FAMILY_CANCELLATION_TIME_UNKNOWN),
]


@pytest.mark.parametrize(("start", "when", "billed", "used", "streak"), CASES)
def test_the_rules_read_one_recorded_moment(start, when, billed, used, streak):
    facts = AppointmentFacts(start, 120, Outcome.CANCELLED_BY_FAMILY,
                             cancelled_at=when if isinstance(when, datetime) else None,
                             cancel_notice=when if isinstance(when, Notice) else None)
    item = charge(facts)
    assert (float(item.billable_minutes) / 60, item.used_minutes / 60, item.time_unknown) == (
        billed, used, when is None)
    assert situation(facts, AttendanceRule()) is streak


@pytest.mark.parametrize(("start", "when", "billed", "used", "streak"), CASES)
def test_recorded_after_the_fact_through_the_database(app, codes, clock, start, when, billed, used, streak):
    """The same table through record_outcome and the statement (SQLite, and PostgreSQL with DATABASE_URL)."""
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        budget.set_budget(session, "cli", clock.now(), case, 20 * 60, Month.of(start).first_day)
        jana = admin.team(case)[0]
        ident = appts.create_appointment(session, app.services, jana, case, "hausbesuch", start, 120, [jana],
                                         appts.default_members(case)).id
    clock.set(start + timedelta(days=2))  # recorded two days after the appointment
    with app.sessions.begin() as session:
        appointment = session.get(Appointment, ident)
        appts.record_outcome(session, app.services, "cli", appointment, Outcome.CANCELLED_BY_FAMILY,
                             cancelled=when)
    with app.sessions.begin() as session:
        appointment = session.get(Appointment, ident)
        if isinstance(when, datetime):
            assert appointment.cancelled_at == when  # stored as the same moment (in UTC)
        stmt = budget.case_statement(session, appointment.case, Month.of(start))
        assert (float(stmt.billable_minutes) / 60, stmt.used_minutes / 60) == (billed, used)
        review = budget.to_review(session, appointment.case, Month.of(start))
        assert [a.id for a in review] == ([ident] if when is None else [])
        assert stmt.time_unknown_count == (when is None)


def test_took_place_and_no_show_wait_for_the_start_and_a_cancellation_cannot_lie_ahead(app, codes, clock):
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        jana = admin.team(case)[0]
        appointment = appts.create_appointment(session, app.services, jana, case, "hausbesuch",
                                               berlin(2027, 3, 2, 10), 120, [jana], appts.default_members(case))
        for outcome in (Outcome.TOOK_PLACE, Outcome.NO_SHOW):
            with pytest.raises(appts.NotStartedYet, match="has not started yet"):
                appts.record_outcome(session, app.services, jana, appointment, outcome)
        with pytest.raises(AdminError, match="cannot lie in the future"):
            appts.cancel(session, app.services, jana, appointment, by_family=True,
                         when=clock.now() + timedelta(hours=1))
        clock.set(berlin(2027, 3, 2, 10, 0))  # from its start on
        appts.record_outcome(session, app.services, jana, appointment, Outcome.NO_SHOW)
        assert appointment.outcome == Outcome.NO_SHOW
