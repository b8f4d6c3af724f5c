"""Working days: Monday to Friday, without the public holidays of the organisation's Bundesland.

Every working-day rule calls this module: the complaint take-up (``complaints.rules``), the escalation
acknowledgement (``escalations``), the Nachweis on the first working day (``nachweis``), the Träger's phone
hours. The public holidays come from the ``holidays`` package for the Bundesland in
``Organisation.settings["bundesland"]`` (an ISO 3166-2 code without ``DE-``: ``ST``, ``SN``, ``BE``, …;
default ``ST``, Sachsen-Anhalt, where the seeds come from).

24 and 31 December are *not* public holidays anywhere in Germany, so they are working days here. A Träger
that closes on them (many do) lists them in ``Organisation.settings["closed_days"]`` as ``"12-24"``,
``"12-31"`` (month-day, every year) or full dates ``"2027-12-27"``; those days then count like holidays.

A moment that falls on a day off counts from the next working day's opening (08:00): a complaint sent on
Saturday with two working days to take it up is due on Wednesday 08:00 (Monday and Tuesday are the two
days), not on Tuesday at the hour it was sent on Saturday.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from conversations.clock import BERLIN

DEFAULT_BUNDESLAND = "ST"  # Sachsen-Anhalt
BUNDESLAENDER = ("BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH")
OPENING, CLOSING = time(8, 0), time(18, 0)  # the Träger is reachable by phone Mon–Fri 8:00–18:00 (seed 004)


@cache
def _public_holidays(bundesland: str, year: int) -> Mapping[date, str]:
    import holidays  # imported when first asked: the CLI starts without it

    return dict(holidays.Germany(subdiv=bundesland, years=year, language="de"))


@dataclass(frozen=True)
class Calendar:
    """The working days of one organisation."""

    bundesland: str = DEFAULT_BUNDESLAND
    closed_days: frozenset[str] = frozenset()  # "12-24" (every year) or "2027-12-27"

    def __post_init__(self) -> None:
        if self.bundesland not in BUNDESLAENDER:
            raise ValueError(f"bundesland must be one of {', '.join(BUNDESLAENDER)} (got {self.bundesland!r})")
        for day in self.closed_days:
            try:
                date.fromisoformat(day if len(day) == 10 else f"2000-{day}")  # 2000: so 02-29 is valid
            except ValueError:
                raise ValueError(f"closed_days: {day!r} is neither a month-day like 12-24 "
                                 f"nor a date like 2027-12-27") from None

    @classmethod
    def of(cls, settings: Mapping[str, Any] | None) -> Calendar:
        """From ``Organisation.settings`` (or None: the default, Sachsen-Anhalt)."""
        raw = settings or {}
        return cls(str(raw.get("bundesland") or DEFAULT_BUNDESLAND).upper(),
                   frozenset(str(d) for d in raw.get("closed_days") or ()))

    def holiday(self, day: date) -> str | None:
        """The public holiday's German name, "closed" for a closing day of the Träger, else None."""
        name = _public_holidays(self.bundesland, day.year).get(day)
        if name:
            return name
        if day.isoformat() in self.closed_days or day.strftime("%m-%d") in self.closed_days:
            return "geschlossen"
        return None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """The same Berlin wall-clock time ``days`` working days later (a DST change does not move the hour).

        A moment on a day off counts from the next working day at 08:00. The result is aware UTC.
        """
        local = moment.astimezone(BERLIN)
        if not self.is_working_day(local.date()):
            local = datetime.combine(self.next_working_day(local.date()), OPENING, tzinfo=BERLIN)
        day = local.date()
        for _ in range(days):
            day = self.next_working_day(day + timedelta(days=1))
        return datetime.combine(day, local.time(), tzinfo=BERLIN).astimezone(moment.tzinfo or BERLIN)

    def first_working_day(self, year: int, month: int) -> date:
        return self.next_working_day(date(year, month, 1))

    def open_at(self, moment: datetime) -> bool:
        """Is the Träger's phone answered at ``moment`` (a working day, 8:00–18:00 Berlin)?"""
        local = moment.astimezone(BERLIN)
        return self.is_working_day(local.date()) and OPENING <= local.time() < CLOSING

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` if the phone is answered then, else when it is answered next (aware, Berlin)."""
        local = moment.astimezone(BERLIN)
        if self.open_at(local):
            return local
        day = local.date() if local.time() < OPENING else local.date() + timedelta(days=1)
        return datetime.combine(self.next_working_day(day), OPENING, tzinfo=BERLIN)

    def holidays_between(self, start: date, end: date) -> Iterable[tuple[date, str]]:
        """Weekdays off between two days (inclusive), with their names: for notes like "closed on …"."""
        day = start
        while day <= end:
            name = self.holiday(day)
            if name and day.weekday() < 5:
                yield day, name
            day += timedelta(days=1)


DEFAULT = Calendar()


def calendar_of(organisation: Any | None) -> Calendar:
    """The calendar of an organisation (anything with ``settings``), the default without one."""
    return Calendar.of(getattr(organisation, "settings", None)) if organisation is not None else DEFAULT


def add_working_days(moment: datetime, days: int, calendar: Calendar = DEFAULT) -> datetime:
    return calendar.add_working_days(moment, days)
