"""Working days skip weekends and the public holidays of the organisation's Bundesland (default Sachsen-Anhalt)."""

from __future__ import annotations

from datetime import date

import pytest

from conversations.clock import BERLIN, berlin
from conversations.rules.working_days import DEFAULT, Calendar, calendar_of


@pytest.mark.parametrize(("day", "working", "why"), [
    (date(2028, 4, 13), True, "Maundy Thursday is a working day"),
    (date(2028, 4, 14), False, "Karfreitag"),
    (date(2028, 4, 17), False, "Ostermontag"),
    (date(2028, 5, 1), False, "Erster Mai (a Monday in 2028)"),
    (date(2028, 5, 25), False, "Christi Himmelfahrt"),
    (date(2028, 1, 6), False, "Heilige Drei Könige: a holiday in Sachsen-Anhalt"),
    (date(2028, 10, 31), False, "Reformationstag: a holiday in Sachsen-Anhalt"),
    (date(2028, 11, 1), True, "Allerheiligen is not a holiday in Sachsen-Anhalt"),
    (date(2027, 12, 24), True, "24 December is no public holiday: a working day unless the Träger closes"),
    (date(2027, 12, 31), True, "31 December likewise"),
    (date(2027, 12, 27), True, "the Monday after Christmas"),
    (date(2027, 12, 25), False, "Erster Weihnachtstag (a Saturday anyway)"),
    (date(2028, 3, 4), False, "a Saturday"),
])
def test_sachsen_anhalt_by_default(day, working, why):
    assert DEFAULT.is_working_day(day) is working, why


@pytest.mark.parametrize(("bundesland", "day", "working"), [
    ("BY", date(2028, 10, 31), True),  # Reformationstag is no holiday in Bayern …
    ("BY", date(2028, 11, 1), False),  # … Allerheiligen is
    ("SN", date(2028, 11, 22), False),  # Buß- und Bettag, Sachsen only
    ("ST", date(2028, 11, 22), True),
    ("BE", date(2028, 3, 8), False),  # Internationaler Frauentag, Berlin
])
def test_each_bundesland_has_its_own_holidays(bundesland, day, working):
    assert Calendar(bundesland).is_working_day(day) is working


@pytest.mark.parametrize(("sent", "days", "due", "why"), [
    (berlin(2028, 3, 14, 8, 15), 1, berlin(2028, 3, 15, 8, 15), "Tuesday → Wednesday"),
    (berlin(2028, 3, 17, 16, 0), 1, berlin(2028, 3, 20, 16, 0), "Friday → Monday"),
    (berlin(2028, 3, 18, 11, 0), 1, berlin(2028, 3, 21, 8, 0), "Saturday counts from Monday 08:00"),
    (berlin(2028, 4, 13, 15, 0), 1, berlin(2028, 4, 18, 15, 0), "Maundy Thursday → Tuesday after Easter"),
    (berlin(2028, 4, 14, 10, 0), 2, berlin(2028, 4, 20, 8, 0), "sent on Karfreitag: from Tuesday 08:00"),
    (berlin(2028, 4, 28, 12, 0), 1, berlin(2028, 5, 2, 12, 0), "Friday before 1 May (a Monday) → Tuesday"),
    (berlin(2028, 10, 30, 9, 0), 1, berlin(2028, 11, 1, 9, 0), "over Reformationstag"),
    (berlin(2027, 3, 25, 15, 0), 2, berlin(2027, 3, 31, 15, 0), "Easter 2027 and the DST change: same hour"),
    (berlin(2027, 10, 29, 9, 0), 1, berlin(2027, 11, 1, 9, 0), "across the change back to winter time"),
    (berlin(2027, 12, 23, 10, 0), 1, berlin(2027, 12, 24, 10, 0), "24 December counts as a working day"),
    (berlin(2028, 3, 14, 8, 15), 0, berlin(2028, 3, 14, 8, 15), "zero days: unchanged on a working day"),
])
def test_adding_working_days(sent, days, due, why):
    assert DEFAULT.add_working_days(sent, days) == due, why


def test_a_trager_that_closes_on_24_and_31_december_says_so():
    closed = Calendar.of({"bundesland": "st", "closed_days": ["12-24", "12-31"]})
    assert not closed.is_working_day(date(2027, 12, 24)) and not closed.is_working_day(date(2027, 12, 31))
    assert closed.add_working_days(berlin(2027, 12, 23, 10, 0), 1) == berlin(2027, 12, 27, 10, 0)
    assert [d for d, _name in closed.holidays_between(date(2027, 12, 20), date(2028, 1, 7))] == [
        date(2027, 12, 24), date(2027, 12, 31), date(2028, 1, 6)]


@pytest.mark.parametrize(("year", "month", "first"), [
    (2027, 3, date(2027, 3, 1)),
    (2027, 5, date(2027, 5, 3)),  # 1 May 2027 is a Saturday
    (2028, 5, date(2028, 5, 2)),  # 1 May 2028 is a Monday (Erster Mai)
    (2028, 1, date(2028, 1, 3)),  # Neujahr on a Saturday
    (2027, 1, date(2027, 1, 4)),  # Neujahr Friday
])
def test_first_working_day_of_a_month(year, month, first):
    assert DEFAULT.first_working_day(year, month) == first


def test_the_tragers_phone_hours_skip_holidays():
    assert DEFAULT.open_at(berlin(2028, 3, 14, 9, 0))
    assert not DEFAULT.open_at(berlin(2028, 3, 14, 18, 0))
    assert not DEFAULT.open_at(berlin(2028, 10, 31, 10, 0))  # Reformationstag
    assert DEFAULT.next_opening(berlin(2028, 10, 30, 19, 0)) == berlin(2028, 11, 1, 8, 0).astimezone(BERLIN)


def test_the_setting_is_checked_and_read_from_the_organisation():
    with pytest.raises(ValueError, match="bundesland"):
        Calendar.of({"bundesland": "XX"})

    class Org:
        settings = {"bundesland": "BY"}

    assert calendar_of(Org()).bundesland == "BY" and calendar_of(None) is DEFAULT
