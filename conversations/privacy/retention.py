"""How long each kind of data is kept, as pure rules (no database here).

A period is counted in whole years from the moment the help ended (``Case.closed_at``); complaints
count from the day they were closed, because an anonymous complaint belongs to no case. The defaults
are settings (``RETENTION_*``, reasons in the README, "Data protection"); an organisation may set its
own in ``Organisation.settings["retention"]`` (``wegbegleiter privacy retention --set case_data=6``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from conversations.settings import Settings
from storage.errors import Explained


class Kind(StrEnum):
    CASE_DATA = "case_data"  # the family, appointments, answers, goals, budget, Nachweis, chats
    ESCALATIONS = "escalations"  # three appointments without participation
    CHILD_PROTECTION = "child_protection"  # alerts on a possible risk for a child (§ 8a documentation)
    COMPLAINTS = "complaints"  # counted from the complaint's closing
    AUDIT_LOG = "audit_log"  # who read and changed what


SETTING_OF_KIND = {
    Kind.CASE_DATA: "retention_case_years",
    Kind.ESCALATIONS: "retention_escalation_years",
    Kind.CHILD_PROTECTION: "retention_alert_years",
    Kind.COMPLAINTS: "retention_complaint_years",
    Kind.AUDIT_LOG: "retention_audit_years",
}
MAX_YEARS = 30


class RetentionError(Explained, ValueError):
    """A period that cannot be right; the message names it (in the operator's language on the CLI)."""


def add_years(moment: datetime, years: int) -> datetime:
    """The same moment ``years`` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def check_years(name: str, value: Any) -> int:
    try:
        years = int(value)
    except (TypeError, ValueError):
        raise RetentionError("{name} must be a whole number of years (got {value!r})", name=name, value=value) from None
    if not 1 <= years <= MAX_YEARS:
        raise RetentionError("{name} must be between 1 and {most} years (got {years})", name=name, most=MAX_YEARS,
                             years=years)
    return years


@dataclass(frozen=True)
class Policy:
    years: Mapping[Kind, int]

    def due(self, kind: Kind, since: datetime) -> datetime:
        """When data of this kind, whose period started at ``since``, is deleted."""
        return add_years(since, self.years[kind])


def defaults(settings: Settings) -> dict[Kind, int]:
    return {kind: getattr(settings, name) for kind, name in SETTING_OF_KIND.items()}


def policy(settings: Settings, organisation_settings: Mapping[str, Any] | None = None) -> Policy:
    """The periods in effect for one organisation: its own where it set them, else the settings."""
    own = (organisation_settings or {}).get("retention") or {}
    years = defaults(settings)
    for kind in Kind:
        if kind.value in own:
            years[kind] = check_years(kind.value, own[kind.value])
    return Policy(years)


def parse_overrides(assignments: list[str]) -> dict[str, int]:
    """``["case_data=6", "complaints=8"]`` → ``{"case_data": 6, "complaints": 8}``, checked."""
    result: dict[str, int] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in {k.value for k in Kind}:
            raise RetentionError("--set takes KIND=YEARS with KIND one of {kinds} (got {item!r})",
                                 kinds=", ".join(k.value for k in Kind), item=item)
        result[name] = check_years(name, value.strip())
    return result
