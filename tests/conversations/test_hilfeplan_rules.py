"""The Hilfeplan's deadlines (seed 004) as a table: month ends, 31 → 30, leap years, holidays, summer time."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from conversations.clock import BERLIN
from conversations.hilfeplan.rules import (
    Kind,
    ReminderSettings,
    Talk,
    TalkKind,
    add_months,
    backward,
    deadlines,
    due_reminder,
    forward,
    help_year,
    home_contacts_met,
    overdue_at,
    reminder_moments,
    warning_at,
)
from conversations.rules.working_days import Calendar

D = date.fromisoformat


@pytest.mark.parametrize(("day", "months", "expected", "why"), [
    ("2026-08-31", 6, "2027-02-28", "31 August + 6 months: the last day of February"),
    ("2027-08-31", 6, "2028-02-29", "… in a leap year the 29th"),
    ("2026-10-31", 1, "2026-11-30", "31 → 30"),
    ("2028-02-29", 12, "2029-02-28", "a leap day a year later"),
    ("2026-12-15", 2, "2027-02-15", "across the year end"),
    ("2026-11-01", 6, "2027-05-01", "plain"),
])
def test_months(day, months, expected, why):
    assert add_months(D(day), months) == D(expected), why


@pytest.mark.parametrize(("day", "direction", "expected", "why"), [
    ("2026-12-25", forward, "2026-12-28", "Christmas Friday → Monday"),
    ("2027-05-01", forward, "2027-05-03", "1 May, a Saturday → Monday"),
    ("2027-01-01", forward, "2027-01-04", "New Year, a Friday → Monday"),
    ("2026-12-31", forward, "2026-12-31", "31 December is a working day"),
    ("2028-04-14", backward, "2028-04-13", "Karfreitag backward → Maundy Thursday"),
    ("2027-10-31", backward, "2027-10-29", "Reformationstag on a Sunday → Friday"),
    ("2027-02-28", forward, "2027-03-01", "a Sunday"),
])
def test_days_off(day, direction, expected, why):
    assert direction(D(day)) == D(expected), why


def by_key(items):
    return {d.key: d for d in items}


@pytest.mark.parametrize(("talk_day", "signed", "konkr_from", "konkr_due", "why"), [
    ("2026-10-22", "2026-11-05", "2026-12-03", "2026-12-17", "a Thursday: nothing moves"),
    ("2026-12-11", "2026-12-28", "2027-01-22", "2027-02-05", "14 days end on Christmas → the Monday after"),
    ("2026-11-06", "2026-11-20", "2026-12-18", "2027-01-04", "8 weeks end on New Year → Monday"),
])
def test_after_the_hilfeplangespraech(talk_day, signed, konkr_from, konkr_due, why):
    items = by_key(deadlines(None, [Talk(1, TalkKind.HILFEPLAN, D(talk_day))], until=D(talk_day)))
    assert items["signed_plan:t1"].due == D(signed), why
    assert items["kostenzusage:t1"].due == D(signed), why
    assert (items["konkretisierung:t1"].earliest, items["konkretisierung:t1"].due) == (D(konkr_from), D(konkr_due))
    assert items["signed_plan:t1"].owner == "jugendamt"


@pytest.mark.parametrize(("start", "first_due", "report_due", "why"), [
    ("2026-11-01", "2027-05-03", "2027-04-19", "6 months land on 1 May (Saturday, holiday) → Monday 3 May"),
    ("2026-08-31", "2027-03-01", "2027-02-15", "31 Aug → 28 Feb, a Sunday → 1 March"),
    ("2027-08-31", "2028-02-29", "2028-02-15", "a leap year: 29 February"),
    ("2027-10-28", "2028-04-28", "2028-04-13", "the report 2 weeks before falls on Karfreitag → Thursday"),
])
def test_first_fortschreibung_and_its_entwicklungsbericht(start, first_due, report_due, why):
    items = by_key(deadlines(D(start), [], until=D(start)))
    assert items["fortschreibung:1"].due == D(first_due), why
    assert items["entwicklungsbericht:1"].due == D(report_due), why
    assert items["entwicklungsbericht:1"].owner == "traeger"
    assert "fortschreibung:2" not in items  # only the next one is known


def test_each_next_fortschreibung_counts_from_the_last_and_a_crisis_one_counts_too():
    talks = [Talk(1, TalkKind.HILFEPLAN, D("2026-10-22")),
             Talk(2, TalkKind.KONKRETISIERUNG, D("2026-12-10")),
             Talk(3, TalkKind.FORTSCHREIBUNG, D("2027-02-10"), crisis=True)]
    items = by_key(deadlines(D("2026-11-01"), talks, until=D("2027-02-10")))
    assert items["konkretisierung:t1"].fulfilled_by == 2
    assert items["fortschreibung:1"].due == D("2027-05-03") and items["fortschreibung:1"].fulfilled_by == 3
    assert items["entwicklungsbericht:1"].due == D("2027-01-27")  # 2 weeks before the talk itself
    assert items["fortschreibung:2"].due == D("2027-08-10") and items["fortschreibung:2"].fulfilled_by is None
    assert items["signed_plan:t3"].due == D("2027-02-24")  # a Fortschreibung is signed and sent too
    assert "signed_plan:t2" not in items  # a Konkretisierung has no deadlines of its own


def test_home_contacts_per_help_year():
    items = [d for d in deadlines(D("2026-11-01"), [], until=D("2027-12-01")) if d.kind == Kind.HOME_CONTACTS]
    assert [(d.number, d.earliest, d.due) for d in items] == [
        (1, D("2026-11-01"), D("2027-10-29")),  # 31 Oct 2027: Sunday and Reformationstag
        (2, D("2027-11-01"), D("2028-10-30")),  # 31 Oct 2028: Reformationstag, a Tuesday → Monday
    ]
    assert help_year(D("2028-02-29"), 2) == (D("2029-02-28"), D("2030-02-27"))
    assert [home_contacts_met(n) for n in (0, 1, 2, 3)] == [False, False, True, True]


def test_a_bundesland_decides_the_holidays():
    # Allerheiligen (1 Nov) is a holiday in Bayern, not in Sachsen-Anhalt
    assert forward(D("2027-11-01"), Calendar("BY")) == D("2027-11-02")
    assert forward(D("2027-11-01")) == D("2027-11-01")


@pytest.mark.parametrize(("now", "expected", "why"), [
    ("2027-03-24T08:59", None, "before three weeks"),
    ("2027-03-24T09:00", 21, "three weeks before, 09:00 winter time"),
    ("2027-04-06T12:00", 21, "still the first"),
    ("2027-04-07T09:00", 7, "one week before, 09:00 summer time"),
    ("2027-04-14T08:59", 7, "on the day, before 09:00"),
    ("2027-04-14T09:00", None, "due: no reminder, the overdue notice follows"),
])
def test_reminders_across_the_change_to_summer_time(now, expected, why):
    at = datetime.fromisoformat(now).replace(tzinfo=BERLIN)
    assert due_reminder(at, D("2027-04-14")) == expected, why


def test_reminder_moments_keep_the_wall_clock_hour():
    (first_days, first), (second_days, second) = reminder_moments(D("2027-04-14"))
    assert (first_days, second_days) == (21, 7)
    assert first.utcoffset() != second.utcoffset()  # 28 March 2027: summer time begins in between
    assert first.hour == second.hour == 9
    assert overdue_at(D("2027-04-14")).isoformat() == "2027-04-15T09:00:00+02:00"
    assert warning_at(D("2027-05-03")).isoformat() == "2027-04-26T09:00:00+02:00"


def test_settings_per_trager():
    assert ReminderSettings.of({}).remind_days == (21, 7)
    custom = ReminderSettings.of({"hilfeplan": {"remind_days": [28, 14, 2], "hour": "08:30", "warn_days": 10}})
    assert (custom.remind_days, custom.hour, custom.warn_days) == ((28, 14, 2), time(8, 30), 10)
    with pytest.raises(ValueError):
        ReminderSettings.of({"hilfeplan": {"remind_days": [0]}})
