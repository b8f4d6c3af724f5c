"""What became of an appointment: the shared vocabulary of billing, the hour budget and escalations.

Seed 004 ("Abrechnung", "Auslastung/Erreichbarkeit") and DOMAIN.md §§ 3, 5 decide what each outcome
means; the rules live in their own modules (``billing``, ``attendance``) as pure functions of these facts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Outcome(enum.StrEnum):
    PLANNED = "planned"  # not yet happened, or not yet recorded
    TOOK_PLACE = "took_place"
    NO_SHOW = "no_show"  # the family was not there
    CANCELLED_BY_FAMILY = "cancelled_by_family"
    CANCELLED_BY_PROVIDER = "cancelled_by_provider"  # by the Träger


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
