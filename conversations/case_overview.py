"""A case at a glance for `wegbegleiter case show`: this month's hours, what is open, what comes next.

The operator asks "how is this family's help going?" once; the answer should not take four commands
(`budget show`, `alerts list`, `escalations list`, `appointments list`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import appointments, budget
from conversations.clock import iso
from conversations.escalations import ATTENDANCE, CHILD_PROTECTION
from conversations.rules.billing import Month, Statement
from storage.models import Appointment, Case
from storage.models.escalations import Escalation

NEXT_APPOINTMENTS = 5


@dataclass
class Overview:
    month: Month
    statement: Statement | None  # None: no budget set for the case
    alerts: list[Escalation]  # open child-protection alerts
    escalations: list[Escalation]  # open attendance escalations (three missed appointments)
    upcoming: list[Appointment]  # the next few planned appointments
    more_upcoming: int  # planned appointments after those

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "budget": self.statement.as_dict() if self.statement else None,
            "open_alerts": [{"id": e.id, "created_at": iso(e.created_at), "due_at": iso(e.due_at),
                             "member": e.member.display_name if e.member else None} for e in self.alerts],
            "open_escalations": [{"id": e.id, "created_at": iso(e.created_at), "due_at": iso(e.due_at),
                                  "appointments": [a["id"] for a in (e.facts or {}).get("appointments", [])]}
                                 for e in self.escalations],
            "next_appointments": [{"id": a.id, "starts_at": iso(a.starts_at), "kind": a.kind,
                                   "minutes": a.duration_minutes, "place": a.place} for a in self.upcoming],
            "more_appointments": self.more_upcoming,
        }


def _open(session: Session, case: Case, kind: str) -> list[Escalation]:
    return list(session.scalars(select(Escalation).where(
        Escalation.case_id == case.id, Escalation.kind == kind, Escalation.acknowledged_at.is_(None))
        .order_by(Escalation.created_at, Escalation.id)))


def overview(session: Session, case: Case, now: datetime) -> Overview:
    month = Month.of(now)
    statement = budget.case_statement(session, case, month) if budget.periods(session, case) else None
    upcoming = appointments.upcoming(session, case, now)
    return Overview(month, statement, _open(session, case, CHILD_PROTECTION), _open(session, case, ATTENDANCE),
                    upcoming[:NEXT_APPOINTMENTS], max(0, len(upcoming) - NEXT_APPOINTMENTS))
