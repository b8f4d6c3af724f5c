"""What became of an appointment: the shared vocabulary of billing, the hour budget and escalations.

Seed 004 ("Abrechnung", "Auslastung/Erreichbarkeit") and DOMAIN.md §§ 3, 5 decide what each outcome
means; the rules live in their own modules (``billing``, ``attendance``) as pure functions of these facts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


class Outcome(enum.StrEnum):
    PLANNED = "planned"  # not yet happened, or not yet recorded
    TOOK_PLACE = "took_place"
    NO_SHOW = "no_show"  # the family was not there
    CANCELLED_BY_FAMILY = "cancelled_by_family"
    CANCELLED_BY_PROVIDER = "cancelled_by_provider"  # by the Träger


class Notice(enum.StrEnum):
    """How long before the start the family cancelled, when the moment itself is not known (the Fachkraft
    remembers "the week before" but not the hour)."""

    IN_TIME = "in_time"  # 24 hours or more before the start
    SHORT = "short"  # less than 24 hours before (or after the start)


class AppointmentKind(enum.StrEnum):
    HAUSBESUCH = "hausbesuch"
    HILFEPLANGESPRAECH = "hilfeplangespraech"
    MEILENSTEINGESPRAECH = "meilensteingespraech"
    GRUPPENANGEBOT = "gruppenangebot"
    KRISENINTERVENTION = "krisenintervention"
    OTHER = "other"


@dataclass(frozen=True)
class AppointmentFacts:
    """What the rules need to know about one appointment, free of the database."""

    starts_at: datetime  # aware
    planned_minutes: int
    outcome: Outcome
    kind: AppointmentKind = AppointmentKind.HAUSBESUCH
    cancelled_at: datetime | None = None  # when the cancellation reached the Träger
    actual_minutes: int | None = None  # recorded by the Fachkraft when it took place
    cancel_notice: Notice | None = None  # without ``cancelled_at``: the notice as the Fachkraft knows it


SHORT_NOTICE = timedelta(hours=24)


def cancelled_at_short_notice(facts: AppointmentFacts, threshold: timedelta = SHORT_NOTICE) -> bool | None:
    """Did the family cancel less than ``threshold`` before the start? None: the time is not known.

    The one reading of the recorded moment that billing and the three-in-a-row rule share. Measured in
    real elapsed time: both moments in UTC, whatever zone the caller's datetimes carry (two datetimes in
    the same ZoneInfo would subtract wall-clock times, one hour wrong across a DST change).
    """
    if facts.cancelled_at is not None:
        return facts.starts_at.astimezone(UTC) - facts.cancelled_at.astimezone(UTC) < threshold
    if facts.cancel_notice is not None:
        return facts.cancel_notice == Notice.SHORT
    return None
