"""When the Meilensteingespräch asks whom, as pure functions (seed 000, DOMAIN.md § 1).

- Invitations go out on the day ``invite_days`` before the meeting (default 10), or at once when it is set later.
- One reminder ``reminder_days`` after the invitation if the questionnaire is not sent, and only while
  the answers can still reach the summary; never a second one.
- The Gesprächsführer*in gets the summary two days before the meeting.
- After the meeting ends, she is asked for the evaluation with the two Fachkräfte.
- Adults answer the full questionnaire; children from ``youth_age`` (default 14) get the youth version,
  younger children are not asked (their parents and the Fachkräfte are asked how they are doing).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from conversations.clock import BERLIN
from conversations.rules.youth import age_on

SUMMARY_BEFORE = timedelta(days=2)


class Version(enum.StrEnum):
    ADULT = "adult"
    YOUTH = "youth"
    STAFF = "staff"


class GoalRating(enum.StrEnum):
    REACHED = "reached"
    PARTLY = "partly"
    NOT_YET = "not_yet"
    UNKNOWN = "unknown"  # "I don't know": an answer, but no view to compare


def invite_at(starts_at: datetime, invite_days: int) -> datetime:
    """The start (Berlin) of the day ``invite_days`` calendar days before the meeting's day.

    People count days, not hours: for a talk on 14 April at 10:00, "10 days before" is 4 April, and the
    invitation goes out that morning (after quiet hours), not at 10:00.
    """
    day = starts_at.astimezone(BERLIN).date() - timedelta(days=invite_days)
    return datetime.combine(day, time(0, 0), tzinfo=BERLIN).astimezone(UTC)


def summary_at(starts_at: datetime) -> datetime:
    return starts_at - SUMMARY_BEFORE


def invitation_due(now: datetime, starts_at: datetime, invite_days: int) -> bool:
    """Invite from ``invite_days`` before until the summary is made (later answers would reach nobody)."""
    return invite_at(starts_at, invite_days) <= now < summary_at(starts_at)


def reminder_due(now: datetime, invited_at: datetime, starts_at: datetime, reminder_days: int) -> bool:
    return invited_at + timedelta(days=reminder_days) <= now < summary_at(starts_at)


def version_for(kind: str, birth_date: date | None, on: date, youth_age: int) -> Version | None:
    """Which questionnaire a family member gets; None: not asked (a younger child, or age unknown)."""
    if kind != "child":
        return Version.ADULT
    if birth_date is None or age_on(birth_date, on) < youth_age:
        return None
    return Version.YOUTH if age_on(birth_date, on) < 18 else Version.ADULT


def views_differ(family: Iterable[str | None], staff: Iterable[str | None]) -> bool:
    """True when the family and the Fachkräfte gave different answers (a topic for the talk).

    Only real views count: skipped questions and "I don't know" are left out, and a side without any
    view is no difference.
    """
    def real(values: Iterable[str | None]) -> set[str]:
        return {v for v in values if v and v != GoalRating.UNKNOWN}

    fam, team = real(family), real(staff)
    return bool(fam and team and fam != team)
