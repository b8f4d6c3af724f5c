"""Dates and times typed by people: the command line's forms and the chat's phrases in every staff language."""

from __future__ import annotations

from datetime import date, time

import pytest

from conversations.clock import BERLIN, berlin
from conversations.i18n import translator
from conversations.timeparse import TypedDateError, chat_moment, cli_day, cli_moment

MONDAY = berlin(2027, 3, 15, 9, 30)  # Monday 15 March 2027, 09:30 Berlin


@pytest.mark.parametrize(("typed", "expected"), [
    ("2027-03-16", (2027, 3, 16, 0, 0)),
    ("2027-03-16 10:00", (2027, 3, 16, 10, 0)),
    ("2027-03-16T10:00", (2027, 3, 16, 10, 0)),
    ("16.03.2027 10:00", (2027, 3, 16, 10, 0)),
    ("16.3.2027 9:30", (2027, 3, 16, 9, 30)),
    ("16.03.2027", (2027, 3, 16, 0, 0)),
    (" 30.03.2027 10:00 Uhr ", (2027, 3, 30, 10, 0)),  # summer time: still 10:00 on the wall
])
def test_the_command_line_reads_iso_and_german_as_berlin_time(typed, expected):
    moment = cli_moment(typed)
    assert moment.astimezone(BERLIN).timetuple()[:5] == expected


def test_the_command_line_keeps_a_given_offset():
    assert cli_moment("2027-03-16T10:00+00:00") == berlin(2027, 3, 16, 11, 0)
    assert cli_moment("2027-03-16T09:00Z") == berlin(2027, 3, 16, 10, 0)


@pytest.mark.parametrize(("typed", "problem"), [
    ("31.02.2027 10:00", "There is no 31.02.2027 10:00: February 2027 has 28 days."),
    ("2028-02-30", "There is no 2028-02-30: February 2028 has 29 days."),
    ("2027-13-01", "There is no 2027-13-01: a year has 12 months."),
    ("2027-03-16 25:00", "There is no 2027-03-16 25:00: a time lies between 00:00 and 23:59."),
    ("morgen", "'morgen' is not a date and time like 2027-03-16 10:00 or 16.03.2027 10:00."),
])
def test_the_command_line_names_the_problem(typed, problem):
    with pytest.raises(TypedDateError) as caught:
        cli_moment(typed)
    assert str(caught.value) == problem


def test_a_day_on_the_command_line():
    assert cli_day("2027-03-16") == cli_day("16.03.2027") == date(2027, 3, 16)
    with pytest.raises(ValueError, match="April 2027 has 30 days"):
        cli_day("31.04.2027")
    with pytest.raises(ValueError, match="is not a date like 2027-03-16 or 16.03.2027"):
        cli_day("16/03/2027")


@pytest.mark.parametrize(("lang", "typed", "day", "clock"), [
    ("de", "morgen", date(2027, 3, 16), None),
    ("de", "übermorgen", date(2027, 3, 17), None),
    ("de", "heute 15 Uhr", date(2027, 3, 15), time(15)),
    ("de", "Donnerstag 10 Uhr", date(2027, 3, 18), time(10)),
    ("de", "am Freitag um 9.30", date(2027, 3, 19), time(9, 30)),
    ("de", "morgen um 10", date(2027, 3, 16), time(10)),
    ("de", "16.3. 14:30", date(2027, 3, 16), time(14, 30)),
    ("de", "1.3.", date(2028, 3, 1), None),  # passed this year: next year's
    ("de", "16.03.2027", date(2027, 3, 16), None),
    ("de", "14:30", None, time(14, 30)),
    ("de@leicht", "Morgen 10 Uhr", date(2027, 3, 16), time(10)),
    ("en", "Thursday 10am", date(2027, 3, 18), time(10)),
    ("en", "day after tomorrow", date(2027, 3, 17), None),
    ("tr", "yarın saat 10", date(2027, 3, 16), time(10)),
    ("tr", "perşembe 10:00", date(2027, 3, 18), time(10)),
    ("tr", "16.3. 14:30", date(2027, 3, 16), time(14, 30)),
    ("ar", "غدا", date(2027, 3, 16), None),
    ("ar", "بعد غد", date(2027, 3, 17), None),
    ("ar", "الخميس الساعة ١٠:٣٠", date(2027, 3, 18), time(10, 30)),  # Arabic-Indic digits
    ("uk", "післязавтра о 10", date(2027, 3, 17), time(10)),
    ("uk", "четвер 10:00", date(2027, 3, 18), time(10)),
    ("ru", "завтра", date(2027, 3, 16), None),
    ("ru", "в четверг в 10", date(2027, 3, 18), time(10)),
])
def test_the_chat_reads_natural_phrases_in_every_staff_language(lang, typed, day, clock):
    read = chat_moment(typed, lang, MONDAY)
    assert (read.day, read.clock) == (day, clock)


@pytest.mark.parametrize(("typed", "day", "clock"), [
    ("Montag 14 Uhr", date(2027, 3, 8), time(14)),  # recording what happened: the last Monday
    ("16.3.", date(2026, 3, 16), None),
    ("gestern 18:00", date(2027, 3, 14), time(18)),
])
def test_the_chat_reads_the_past_when_recording_what_happened(typed, day, clock):
    read = chat_moment(typed, "de", MONDAY, prefer="past")
    assert (read.day, read.clock) == (day, clock)


@pytest.mark.parametrize(("lang", "typed", "problem"), [
    ("de", "31.02.", "Den 31.02.2027 gibt es nicht: Der Februar 2027 hat 28 Tage."),
    ("de", "16.3. 25:00", "Die Uhrzeit 25:00 gibt es nicht: Eine Uhrzeit liegt zwischen 00:00 und 23:59."),
    ("de", "13.13.", "Den 13.13.2027 gibt es nicht: Ein Jahr hat 12 Monate."),
    ("de", "irgendwann", "„irgendwann“ konnte ich nicht als Datum lesen. Bitte schreiben Sie es so: 16.03.2027 10:00."),
    ("en", "31.02.", "There is no 31.02.2027: February 2027 has 28 days."),
])
def test_an_impossible_or_unreadable_date_gets_an_answer_that_names_the_problem(lang, typed, problem):
    with pytest.raises(TypedDateError) as caught:
        chat_moment(typed, lang, MONDAY)
    assert caught.value.message(translator(lang)) == problem


def test_every_staff_language_names_the_impossible_day():
    with pytest.raises(TypedDateError) as caught:
        chat_moment("30.02.", "de", MONDAY)
    for lang in ("de", "de@leicht", "en", "tr", "ar", "uk", "ru"):
        text = caught.value.message(translator(lang))
        assert "30.02.2027" in text and "28" in text, lang
