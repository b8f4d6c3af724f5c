"""Three consecutive appointments without the family taking part (seed 004, "Abrechnung"; DOMAIN.md § 5).

"Erfolgt seitens der Hilfeempfänger*innen an drei aufeinander folgenden Terminen keine Mitwirkung, so ist
unverzüglich die fallführende Fachkraft zu benachrichtigen." The seed does not say what "keine Mitwirkung"
is; this module makes it explicit. Each recorded outcome has one effect on the streak:

- ``counts``: the family did not take part (default: a no-show, and a cancellation by the family less
  than 24 h before the start, measured in elapsed time as in billing);
- ``resets``: the family took part (default: the appointment took place);
- ``neutral``: neither (default: a cancellation by the family 24 h or more ahead, a cancellation by the
  Träger, and appointments whose outcome is not recorded yet).

A cancellation by the family whose time nobody recorded is its own situation (``family_cancellation_time_
unknown``): by default it *counts*, the safer reading (a missed escalation is worse than one too many);
billing, reading the same recorded moment, bills it nothing until the time is given.

An organisation may change each effect, the length of the streak and the time to acknowledge in
``Organisation.settings["attendance"]`` (README, "Three missed appointments").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from conversations.rules.outcomes import AppointmentFacts, Outcome, cancelled_at_short_notice


class Effect(StrEnum):
    COUNTS = "counts"
    RESETS = "resets"
    NEUTRAL = "neutral"


class Situation(StrEnum):
    """What became of an appointment, as the streak rule distinguishes it."""

    TOOK_PLACE = "took_place"
    NO_SHOW = "no_show"
    LATE_FAMILY_CANCELLATION = "late_family_cancellation"  # by the family, less than 24 h ahead
    EARLY_FAMILY_CANCELLATION = "early_family_cancellation"  # by the family, 24 h or more ahead
    FAMILY_CANCELLATION_TIME_UNKNOWN = "family_cancellation_time_unknown"  # by the family, when not recorded
    PROVIDER_CANCELLATION = "provider_cancellation"  # by the Träger
    PLANNED = "planned"  # not happened yet, or not recorded yet


DEFAULT_EFFECTS: dict[Situation, Effect] = {
    Situation.TOOK_PLACE: Effect.RESETS,
    Situation.NO_SHOW: Effect.COUNTS,
    Situation.LATE_FAMILY_CANCELLATION: Effect.COUNTS,
    Situation.EARLY_FAMILY_CANCELLATION: Effect.NEUTRAL,
    Situation.FAMILY_CANCELLATION_TIME_UNKNOWN: Effect.COUNTS,
    Situation.PROVIDER_CANCELLATION: Effect.NEUTRAL,
    Situation.PLANNED: Effect.NEUTRAL,
}


@dataclass(frozen=True)
class AttendanceRule:
    streak_length: int = 3
    short_notice: timedelta = timedelta(hours=24)
    effects: Mapping[Situation, Effect] = field(default_factory=lambda: dict(DEFAULT_EFFECTS))
    ignored_kinds: frozenset[str] = frozenset()  # appointment kinds the rule skips entirely
    acknowledge_within_working_days: int = 1

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> AttendanceRule:
        """The rule from ``Organisation.settings["attendance"]``; missing keys keep their default.

        A wrong value raises ValueError naming the key, so a typo never silently weakens the rule.
        """
        raw = dict(settings or {})
        effects = dict(DEFAULT_EFFECTS)
        for name, value in dict(raw.pop("effects", {}) or {}).items():
            try:
                effects[Situation(name)] = Effect(value)
            except ValueError:
                raise ValueError(f"attendance.effects: {name!r} → {value!r} is not "
                                 f"one of {[s.value for s in Situation]} → counts/resets/neutral") from None
        def number(key: str, default: float, kind: type[int] | type[float] = int) -> Any:
            value = raw.pop(key, default)
            try:
                return kind(value)
            except (TypeError, ValueError):
                raise ValueError(f"attendance.{key} must be a number (got {value!r})") from None

        rule = cls(
            streak_length=number("streak_length", 3),
            short_notice=timedelta(hours=number("short_notice_hours", 24, float)),
            effects=effects,
            ignored_kinds=frozenset(raw.pop("ignored_kinds", ()) or ()),
            acknowledge_within_working_days=number("acknowledge_within_working_days", 1),
        )
        if raw:
            raise ValueError(f"attendance: unknown setting(s) {', '.join(sorted(raw))}")
        if rule.streak_length < 1 or rule.acknowledge_within_working_days < 0:
            raise ValueError("attendance: streak_length must be at least 1, acknowledge_within_working_days >= 0")
        return rule


def situation(facts: AppointmentFacts, rule: AttendanceRule) -> Situation:
    if facts.outcome is Outcome.TOOK_PLACE:
        return Situation.TOOK_PLACE
    if facts.outcome is Outcome.NO_SHOW:
        return Situation.NO_SHOW
    if facts.outcome is Outcome.CANCELLED_BY_PROVIDER:
        return Situation.PROVIDER_CANCELLATION
    if facts.outcome is Outcome.CANCELLED_BY_FAMILY:
        # The recorded moment as billing reads it: elapsed time in UTC, whatever zone the caller used.
        late = cancelled_at_short_notice(facts, rule.short_notice)
        if late is None:
            return Situation.FAMILY_CANCELLATION_TIME_UNKNOWN
        return Situation.LATE_FAMILY_CANCELLATION if late else Situation.EARLY_FAMILY_CANCELLATION
    return Situation.PLANNED


def effect(facts: AppointmentFacts, rule: AttendanceRule) -> Effect:
    if facts.kind in rule.ignored_kinds:
        return Effect.NEUTRAL
    return rule.effects.get(situation(facts, rule), Effect.NEUTRAL)


def current_streak(history: Sequence[AppointmentFacts], rule: AttendanceRule) -> list[int]:
    """Positions (in ``history``, ordered by start) of the appointments in the streak that is still running."""
    streak: list[int] = []
    for position, facts in enumerate(history):
        match effect(facts, rule):
            case Effect.COUNTS:
                streak.append(position)
            case Effect.RESETS:
                streak = []
            case Effect.NEUTRAL:
                pass
    return streak


def streaks(history: Sequence[AppointmentFacts], rule: AttendanceRule) -> list[list[int]]:
    """Every run of appointments without participation, each ended by one that resets (or still running)."""
    runs: list[list[int]] = [[]]
    for position, facts in enumerate(history):
        match effect(facts, rule):
            case Effect.COUNTS:
                runs[-1].append(position)
            case Effect.RESETS if runs[-1]:
                runs.append([])
            case _:
                pass
    return [run for run in runs if run]


def escalation_due(history: Sequence[AppointmentFacts], rule: AttendanceRule,
                   changed: int | None = None) -> list[int] | None:
    """The streak that reached the rule's length, else None (the caller escalates once per streak).

    ``changed``: the position of the appointment whose outcome was just recorded. Outcomes are not always
    recorded in order (the visit of the 30th may be entered before the no-show of the 23rd): then the
    streak is the one this appointment belongs to or lies within, not only the one still running.
    """
    if changed is None:
        streak = current_streak(history, rule)
    else:
        streak = next((run for run in streaks(history, rule) if run[0] <= changed <= run[-1]), [])
    return streak if len(streak) >= rule.streak_length else None

