"""The Hilfeplan's dates as pure functions (seed 004, "Einheitliches und transparentes Hilfeplanverfahren";
DOMAIN.md § 2). Nothing here reads the database or the clock: facts in, deadlines out.

From each Hilfeplangespräch (the first one, and each Fortschreibung):

- the signed Hilfeplan reaches all participants within 14 days (owed by the Jugendamt);
- the Träger gets the Kostenzusage within 14 days (owed by the Jugendamt);
- after the first Hilfeplangespräch, the Hilfeplankonkretisierung takes place 6–8 weeks later
  (a window: not before 6 weeks, at the latest 8 weeks; owed by all participants).

From the start of the help:

- the Hilfeplanfortschreibung every 6 months, the first 6 months after the help began, each next one 6
  months after the previous Fortschreibung. One held earlier (a crisis, changed circumstances) simply
  counts: the next is 6 months after it;
- the Entwicklungsbericht reaches the fallführende Fachkraft 2 weeks before each Fortschreibung (before the
  planned talk when it has a date, else before the Fortschreibung's due day; owed by the Träger). "The
  Fortschreibung can only take place once the Entwicklungsbericht is there";
- 2–3 direct contacts per help year by the fallführende Fachkraft in the family's home: the item is met
  with 2 (counted from appointments she attended; the Träger is reminded to arrange them with her).

Calendar: "6 months after 31 August" is 28 (29) February: the month's last day when the day does not exist.
A deadline counted forward that ends on a Saturday, Sunday or public holiday of the Träger's Bundesland ends
on the next working day (as § 193 BGB has it); one counted backward (the Entwicklungsbericht, "2 weeks
before") moves to the working day before, so it is still two weeks ahead. Due dates are days, not moments:
a change to or from summer time moves nothing.
"""

from __future__ import annotations

import calendar as _calendar
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from conversations.clock import BERLIN
from conversations.rules.working_days import DEFAULT, Calendar

SIGNED_PLAN_DAYS = 14
KOSTENZUSAGE_DAYS = 14
KONKRETISIERUNG_WEEKS = (6, 8)
FORTSCHREIBUNG_MONTHS = 6
ENTWICKLUNGSBERICHT_DAYS_BEFORE = 14
HOME_CONTACTS_PER_YEAR = (2, 3)  # at least 2, up to 3

DEFAULT_REMIND_DAYS = (21, 7)  # 3 weeks and 1 week before (a Träger may set its own)
DEFAULT_REMIND_AT = time(9, 0)  # the hour reminders and notices go out, Berlin
DEFAULT_WARN_DAYS = 7  # days before a Fortschreibung whose Entwicklungsbericht is missing: the warning


class Kind(enum.StrEnum):
    SIGNED_PLAN = "signed_plan"
    KOSTENZUSAGE = "kostenzusage"
    KONKRETISIERUNG = "konkretisierung"
    FORTSCHREIBUNG = "fortschreibung"
    ENTWICKLUNGSBERICHT = "entwicklungsbericht"
    HOME_CONTACTS = "home_contacts"


class TalkKind(enum.StrEnum):
    HILFEPLAN = "hilfeplan"  # the Hilfeplangespräch that sets the help up
    KONKRETISIERUNG = "konkretisierung"
    FORTSCHREIBUNG = "fortschreibung"


class Owner(enum.StrEnum):
    JUGENDAMT = "jugendamt"  # the fallführende Fachkraft
    TRAEGER = "traeger"  # the Fachkräfte of the Träger
    ALL = "all"  # all participants


@dataclass(frozen=True)
class Talk:
    """A Hilfeplangespräch, Konkretisierung or Fortschreibung on a day (held or planned)."""

    id: int
    kind: TalkKind
    day: date
    crisis: bool = False


@dataclass(frozen=True)
class Deadline:
    key: str  # stable per case: what a stored item (its done mark, its reminders) is found by
    kind: Kind
    due: date
    owner: Owner
    earliest: date | None = None  # a window's first day (the Konkretisierung, the home contacts' year)
    talk_id: int | None = None  # the talk it follows from, or the Fortschreibung talk it prepares
    fulfilled_by: int | None = None  # the talk that fulfils it (a Konkretisierung, a Fortschreibung)
    number: int | None = None  # the n-th Fortschreibung, the n-th help year


# --- calendar arithmetic ---------------------------------------------------------------------------------------
def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when that day does not exist (31 → 30, 29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def forward(day: date, cal: Calendar = DEFAULT) -> date:
    """A deadline counted forward ends on the next working day when it falls on a day off."""
    return cal.next_working_day(day)


def backward(day: date, cal: Calendar = DEFAULT) -> date:
    """A deadline counted backward ("2 weeks before") moves to the working day before a day off."""
    while not cal.is_working_day(day):
        day -= timedelta(days=1)
    return day


# --- the deadlines of a case -------------------------------------------------------------------------------------
def deadlines(start: date | None, talks: Iterable[Talk], *, until: date, cal: Calendar = DEFAULT) -> list[Deadline]:
    """Every deadline of one case: from the help's ``start`` and its talks, up to the first one after ``until``
    for the recurring kinds (the next Fortschreibung is always there; home-contact years up to ``until``).

    Without a start, the first Hilfeplangespräch counts as the start of the help.
    """
    talks = sorted(talks, key=lambda t: (t.day, t.id))
    plans = [t for t in talks if t.kind == TalkKind.HILFEPLAN]
    if start is None:
        if not plans:
            return []
        start = plans[0].day
    result: list[Deadline] = []
    for talk in talks:
        if talk.kind not in (TalkKind.HILFEPLAN, TalkKind.FORTSCHREIBUNG):
            continue
        result.append(Deadline(f"signed_plan:t{talk.id}", Kind.SIGNED_PLAN,
                               forward(talk.day + timedelta(days=SIGNED_PLAN_DAYS), cal), Owner.JUGENDAMT,
                               talk_id=talk.id))
        result.append(Deadline(f"kostenzusage:t{talk.id}", Kind.KOSTENZUSAGE,
                               forward(talk.day + timedelta(days=KOSTENZUSAGE_DAYS), cal), Owner.JUGENDAMT,
                               talk_id=talk.id))
    for index, plan in enumerate(plans):
        following = plans[index + 1].day if index + 1 < len(plans) else date.max
        held = next((t for t in talks if t.kind == TalkKind.KONKRETISIERUNG and plan.day < t.day < following), None)
        first, last = KONKRETISIERUNG_WEEKS
        result.append(Deadline(f"konkretisierung:t{plan.id}", Kind.KONKRETISIERUNG,
                               forward(plan.day + timedelta(weeks=last), cal), Owner.ALL,
                               earliest=plan.day + timedelta(weeks=first), talk_id=plan.id,
                               fulfilled_by=held.id if held else None))
    result += fortschreibungen(start, [t for t in talks if t.kind == TalkKind.FORTSCHREIBUNG], cal)
    result += home_contact_years(start, until, cal)
    return result


def fortschreibungen(start: date, held: Sequence[Talk], cal: Calendar = DEFAULT) -> list[Deadline]:
    """Each Fortschreibung 6 months after the previous one (the first after the start), with its
    Entwicklungsbericht 2 weeks before; the one after the last recorded talk is always included."""
    result: list[Deadline] = []
    previous = start
    for number in range(1, len(held) + 2):
        talk = held[number - 1] if number <= len(held) else None
        due = forward(add_months(previous, FORTSCHREIBUNG_MONTHS), cal)
        result.append(Deadline(f"fortschreibung:{number}", Kind.FORTSCHREIBUNG, due, Owner.ALL,
                               fulfilled_by=talk.id if talk else None, number=number))
        before = (talk.day if talk else due) - timedelta(days=ENTWICKLUNGSBERICHT_DAYS_BEFORE)
        result.append(Deadline(f"entwicklungsbericht:{number}", Kind.ENTWICKLUNGSBERICHT, backward(before, cal),
                               Owner.TRAEGER, talk_id=talk.id if talk else None, number=number))
        if talk:
            previous = talk.day
    return result


def help_year(start: date, number: int) -> tuple[date, date]:
    """The first and last day of the ``number``-th year of the help (1-based)."""
    return add_months(start, 12 * (number - 1)), add_months(start, 12 * number) - timedelta(days=1)


def home_contact_years(start: date, until: date, cal: Calendar = DEFAULT) -> list[Deadline]:
    """One item per help year that has begun by ``until``: at least 2 home contacts by its last day."""
    result = []
    number = 1
    while (year := help_year(start, number))[0] <= until:
        result.append(Deadline(f"home_contacts:{number}", Kind.HOME_CONTACTS, backward(year[1], cal),
                               Owner.JUGENDAMT, earliest=year[0], number=number))
        number += 1
    return result


def home_contacts_met(count: int) -> bool:
    return count >= HOME_CONTACTS_PER_YEAR[0]


# --- when people hear of a deadline ------------------------------------------------------------------------------
def at_hour(day: date, hour: time = DEFAULT_REMIND_AT) -> datetime:
    """``hour`` on ``day``, Berlin wall-clock (the same hour in summer and winter), as aware Berlin time."""
    return datetime.combine(day, hour, tzinfo=BERLIN)


def reminder_moments(due: date, remind_days: Iterable[int] = DEFAULT_REMIND_DAYS,
                     hour: time = DEFAULT_REMIND_AT) -> list[tuple[int, datetime]]:
    """(days before, moment) of each reminder ahead of a due day, earliest first."""
    return sorted(((days, at_hour(due - timedelta(days=days), hour)) for days in set(remind_days)),
                  key=lambda item: item[1])


def due_reminder(now: datetime, due: date, remind_days: Iterable[int] = DEFAULT_REMIND_DAYS,
                 hour: time = DEFAULT_REMIND_AT) -> int | None:
    """The reminder to send at ``now`` (its days before), or None. Only the newest one that is due: a
    scan after days of downtime sends "in 1 week", not "in 3 weeks" as well. None once the day is due."""
    if now >= at_hour(due, hour):
        return None
    passed = [days for days, moment in reminder_moments(due, remind_days, hour) if moment <= now]
    return min(passed) if passed else None


def overdue_at(due: date, hour: time = DEFAULT_REMIND_AT) -> datetime:
    """The Leitung hears of an item not done by its due day on the morning after."""
    return at_hour(due + timedelta(days=1), hour)


def warning_at(talk_day: date, warn_days: int = DEFAULT_WARN_DAYS, hour: time = DEFAULT_REMIND_AT) -> datetime:
    """A Fortschreibung whose Entwicklungsbericht is not marked sent: the warning ``warn_days`` before it."""
    return at_hour(talk_day - timedelta(days=warn_days), hour)


@dataclass(frozen=True)
class ReminderSettings:
    """A Träger's settings under ``Organisation.settings["hilfeplan"]``."""

    remind_days: tuple[int, ...] = DEFAULT_REMIND_DAYS
    hour: time = DEFAULT_REMIND_AT
    warn_days: int = DEFAULT_WARN_DAYS

    @classmethod
    def of(cls, settings: dict | None) -> ReminderSettings:
        raw = (settings or {}).get("hilfeplan") or {}
        days = tuple(int(d) for d in raw.get("remind_days", DEFAULT_REMIND_DAYS))
        if any(not 0 < d <= 90 for d in days):
            raise ValueError("remind_days: each between 1 and 90")
        warn = int(raw.get("warn_days", DEFAULT_WARN_DAYS))
        if not 0 < warn <= 30:
            raise ValueError("warn_days: between 1 and 30")
        return cls(days, time.fromisoformat(str(raw.get("hour", DEFAULT_REMIND_AT.isoformat("minutes")))), warn)
