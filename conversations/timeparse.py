"""Dates and times typed by people: one reading for the command line, one for the chat.

- :func:`cli_moment` / :func:`cli_day`: what an operator types after ``--start``, ``--at``, ``--from``:
  ISO 8601 (``2027-03-16``, ``2027-03-16T10:00``, ``2027-03-16 10:00``, with or without an offset) and the
  German forms ``16.03.2027 10:00`` and ``16.03.2027``. A time without an offset is Berlin wall-clock time.
- :func:`chat_moment`: what a Fachkraft types in the chat, in her language: "morgen", "übermorgen",
  "Donnerstag 10 Uhr", "16.3. 14:30", "yarın saat 10", "завтра в 10", relative to the injectable clock,
  in Europe/Berlin. Weekday and month names come from ``dateparser``; the numbers (a date like 16.3., a
  time like 10:30 or "10 Uhr") are read here first, because dateparser would take the 10 of "10 Uhr" for
  a day of the month.

Both answer a date that cannot exist ("31.02.", "25:00") with :class:`TypedDateError`, whose message names
the problem ("There is no 31.02.2027: February 2027 has 28 days."), in the reader's language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from conversations.clock import BERLIN
from conversations.i18n import N_, Translator, base_language, translator

Prefer = Literal["future", "past"]


class TypedDateError(ValueError):
    """A typed date or time that cannot be read or cannot exist; :meth:`message` says which, for a reader."""

    def __init__(self, message: str, **values: object) -> None:
        self.msgid, self.values = message, values
        super().__init__(self.message(translator("en")))

    def message(self, tr: Translator) -> str:
        values = {k: (tr.month(v) if isinstance(v, date) else v) for k, v in self.values.items()}
        return tr.gettext(self.msgid).format(**values)


NO_SUCH_DAY = N_("There is no {typed}: {month} has {days} days.")
NO_SUCH_MONTH = N_("There is no {typed}: a year has 12 months.")
NO_SUCH_TIME = N_("There is no {typed}: a time lies between 00:00 and 23:59.")
NOT_UNDERSTOOD = N_("I could not read “{typed}” as a date. Please write it like 16.03.2027 10:00.")
NOT_UNDERSTOOD_CLI = N_("{typed!r} is not a date and time like 2027-03-16 10:00 or 16.03.2027 10:00.")
NOT_A_DAY_CLI = N_("{typed!r} is not a date like 2027-03-16 or 16.03.2027.")


def _digits(text: str) -> str:
    """Arabic-Indic and other digits as 0–9 (an Arabic keyboard types ١٦٫٣)."""
    return "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text)


def _day(typed: str, year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise TypedDateError(NO_SUCH_MONTH, typed=typed)
    try:
        return date(year, month, day)
    except ValueError:
        first = date(year, month, 1)
        days = ((first.replace(day=28) + timedelta(days=4)).replace(day=1) - first).days
        raise TypedDateError(NO_SUCH_DAY, typed=typed, month=first, days=days) from None


def _clock(typed: str, hour: int, minute: int) -> time:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise TypedDateError(NO_SUCH_TIME, typed=typed)
    return time(hour, minute)


# --- the command line ------------------------------------------------------------------------------------------
_GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ ,T]+(\d{1,2})[:.](\d{2})(?:\s*uhr)?)?", re.IGNORECASE)
_ISO_PARTS = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?")


def cli_moment(text: str) -> datetime:
    """An aware moment from ``2027-03-16 10:00``, ``2027-03-16T10:00+01:00``, ``16.03.2027 10:00``.

    A date alone is its midnight; a time without an offset is Berlin wall-clock time.
    """
    typed = text.strip()
    if match := _GERMAN.fullmatch(typed):
        day = _day(typed, int(match[3]), int(match[2]), int(match[1]))
        clock = _clock(typed, int(match[4]), int(match[5])) if match[4] else time(0)
        return datetime.combine(day, clock, tzinfo=BERLIN)
    try:
        moment = datetime.fromisoformat(typed.replace(" ", "T", 1) if len(typed) > 10 else typed)
    except ValueError:
        if parts := _ISO_PARTS.match(typed):  # well formed, but the day or time cannot exist: say which
            _day(typed, int(parts[1]), int(parts[2]), int(parts[3]))
            if parts[4]:
                _clock(typed, int(parts[4]), int(parts[5]))
        raise TypedDateError(NOT_UNDERSTOOD_CLI, typed=typed) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BERLIN)


def cli_day(text: str) -> date:
    """A day from ``2027-03-16`` or ``16.03.2027``."""
    typed = text.strip()
    if match := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", typed):
        return _day(typed, int(match[3]), int(match[2]), int(match[1]))
    if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", typed):
        return _day(typed, int(match[1]), int(match[2]), int(match[3]))
    raise TypedDateError(NOT_A_DAY_CLI, typed=typed)


# --- the chat ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Typed:
    """What was understood: a day, a time of day, or both (None: not said)."""

    day: date | None = None
    clock: time | None = None
    text: str = field(default="", compare=False)

    def at(self, default_day: date | None = None, default_clock: time | None = None) -> datetime | None:
        """The Berlin moment, the missing part taken from the defaults (None if still missing)."""
        day, clock = self.day or default_day, self.clock or default_clock
        return datetime.combine(day, clock, tzinfo=BERLIN) if day and clock else None


# Days relative to today, in every staff language (dateparser knows most, not all: "بعد غد").
_RELATIVE = {
    0: ("heute", "today", "bugün", "اليوم", "сьогодні", "сегодня"),
    1: ("morgen", "tomorrow", "yarın", "غدا", "غدًا", "بكرة", "завтра"),
    2: ("übermorgen", "day after tomorrow", "öbür gün", "bir sonraki gün", "بعد غد", "بعد الغد",
        "післязавтра", "послезавтра"),
    -1: ("gestern", "yesterday", "dün", "أمس", "امس", "вчора", "вчера"),
    -2: ("vorgestern", "day before yesterday", "evvelsi gün", "أول أمس", "позавчора", "позавчера"),
}
# Words that only say "at" before a time: dropped before the rest is read.
_FILLERS = re.compile(r"\b(um|am|at|on|saat|в|во|о|об|на)\b|الساعة|في|يوم|,", re.IGNORECASE)
_NUMERIC_DAY = re.compile(r"(?<![\d:])(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})?(?![\d:])")
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_CLOCK = re.compile(r"(?<![\d.])(\d{1,2})[:.](\d{2})(?!\.?\d)\s*(uhr|h)?", re.IGNORECASE)
_HOUR = re.compile(r"(?<![\d.:])(\d{1,2})\s*(uhr|h|am|pm|часов|часа|час|годин[аи]?)(?![\w])", re.IGNORECASE)
_AT_HOUR = re.compile(r"(?:\bum|\bat|\bsaat|\bв|\bо|الساعة)\s+(\d{1,2})(?![\d:.])", re.IGNORECASE)


def _year_for(month: int, day: int, today: date, prefer: Prefer) -> int:
    """A day typed without a year: the next one to come, or (for something that happened) the last one."""
    year = today.year
    try:
        candidate = date(year, month, day)
    except ValueError:
        return year  # 29.2. in a year without it: reported as impossible for this year
    if prefer == "future" and candidate < today:
        return year + 1
    if prefer == "past" and candidate > today:
        return year - 1
    return year


def chat_moment(text: str, lang: str, now: datetime, prefer: Prefer = "future") -> Typed:
    """Read a day and/or a time of day a person typed in ``lang``, relative to ``now`` (Berlin).

    ``prefer``: a weekday or a date without a year means the next one ("future", when planning) or the last
    one ("past", when recording what happened). Raises :class:`TypedDateError`.
    """
    typed = " ".join(text.split())
    rest = _digits(typed).casefold()
    today = now.astimezone(BERLIN).date()
    day: date | None = None
    clock: time | None = None
    # Numbers first: a date like 16.3.[2027] or 2027-03-16, then a time like 10:30, 10.30 Uhr, 10 Uhr, um 10.
    if match := _ISO_DAY.search(rest):
        day = _day(match[0], int(match[1]), int(match[2]), int(match[3]))
        rest = rest.replace(match[0], " ", 1)
    elif match := _NUMERIC_DAY.search(rest):
        d, m = int(match[1]), int(match[2])
        year = int(match[3]) + (2000 if len(match[3]) == 2 else 0) if match[3] else _year_for(m, d, today, prefer)
        shown = f"{d:02d}.{m:02d}.{year}"
        day = _day(shown, year, m, d)
        rest = rest.replace(match[0], " ", 1)
    if match := _CLOCK.search(rest):
        clock = _clock(match[0].strip(), int(match[1]), int(match[2]))
        rest = rest.replace(match[0], " ", 1)
    elif match := _HOUR.search(rest):
        hour = int(match[1])
        if match[2].casefold() == "pm" and hour < 12:
            hour += 12
        clock = _clock(match[0].strip(), hour, 0)
        rest = rest.replace(match[0], " ", 1)
    elif match := _AT_HOUR.search(rest):
        clock = _clock(match[1], int(match[1]), 0)
        rest = rest.replace(match[0], " ", 1)
    rest = " ".join(_FILLERS.sub(" ", rest).split())
    if rest:
        relative = next((offset for offset, words in _RELATIVE.items() if rest in words), None)
        if relative is not None:
            found = today + timedelta(days=relative)
        else:
            found = _dateparser_day(rest, lang, now, prefer)
        if found is None or (day is not None and found != day):
            raise TypedDateError(NOT_UNDERSTOOD, typed=typed)
        day = found
    if day is None and clock is None:
        raise TypedDateError(NOT_UNDERSTOOD, typed=typed)
    return Typed(day, clock, typed)


def _dateparser_day(words: str, lang: str, now: datetime, prefer: Prefer) -> date | None:
    import dateparser  # imported here: the CLI and the engine start without it

    languages = list(dict.fromkeys([base_language(lang), "de", "en"]))
    languages = [code for code in languages if code in _DATEPARSER_LANGUAGES]
    local = now.astimezone(BERLIN).replace(tzinfo=None)
    found = dateparser.parse(words, languages=languages, settings={
        "RELATIVE_BASE": local, "PREFER_DATES_FROM": prefer, "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False, "REQUIRE_PARTS": ["day"] if any(c.isdigit() for c in words) else [],
    })
    return found.date() if found else None


_DATEPARSER_LANGUAGES = {"de", "en", "tr", "ar", "uk", "ru"}
