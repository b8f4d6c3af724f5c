"""The complaint procedure's vocabulary and rules: categories, statuses, outcomes, deadlines, who may see.

Rules (DOMAIN.md § 4):
- taken up within ``COMPLAINT_TAKE_UP_WORKING_DAYS`` working days (Mon–Fri without the public holidays
  of the organisation's Bundesland, :mod:`conversations.rules.working_days`), answered within ``COMPLAINT_ANSWER_DAYS`` calendar days, both from the moment it was
  sent, in Berlin wall-clock time. An organisation may override both, and the Ombudsstelle, in
  ``Organisation.settings["complaints"]``.
- A complaint about a member of staff is never shown to that person. If that person handles
  complaints themselves, only the Leitung handles it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.clock import BERLIN
from conversations.i18n import N_
from conversations.rules.working_days import DEFAULT as DEFAULT_CALENDAR
from conversations.rules.working_days import Calendar, calendar_of
from conversations.settings import Settings
from storage.models import Organisation, Role, StaffMember, StaffRole
from storage.models.complaints import Complaint


class Category(StrEnum):
    STAFF = "staff"  # the Fachkraft or another member of staff
    APPOINTMENTS = "appointments"
    JUGENDAMT = "jugendamt"
    BOT = "bot"
    OTHER = "other"


class Status(StrEnum):
    DRAFT = "draft"  # being written; no officer sees it
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # a question to the complainant is open
    ANSWERED = "answered"
    CLOSED = "closed"


class Outcome(StrEnum):
    UPHELD = "upheld"
    PARTLY = "partly"
    NOT_UPHELD = "not_upheld"
    WITHDRAWN = "withdrawn"


class Satisfaction(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class AnswerWanted(StrEnum):
    CHAT = "chat"
    PHONE = "phone"
    NONE = "none"


OPEN = (Status.NEW, Status.IN_PROGRESS, Status.WAITING, Status.ANSWERED)
UNANSWERED = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)

CATEGORY_LABELS = {
    Category.STAFF: N_("My Fachkraft or another staff member"),
    Category.APPOINTMENTS: N_("Appointments"),
    Category.JUGENDAMT: N_("The Jugendamt"),
    Category.BOT: N_("This chat program"),
    Category.OTHER: N_("Something else"),
}
STATUS_LABELS = {
    Status.DRAFT: N_("being written"),
    Status.NEW: N_("new"),
    Status.IN_PROGRESS: N_("in progress"),
    Status.WAITING: N_("waiting for the complainant"),
    Status.ANSWERED: N_("answered"),
    Status.CLOSED: N_("closed"),
}
OUTCOME_LABELS = {
    Outcome.UPHELD: N_("upheld"),
    Outcome.PARTLY: N_("partly upheld"),
    Outcome.NOT_UPHELD: N_("not upheld"),
    Outcome.WITHDRAWN: N_("withdrawn"),
}
SATISFACTION_LABELS = {
    Satisfaction.YES: N_("Yes"),
    Satisfaction.PARTLY: N_("Partly"),
    Satisfaction.NO: N_("No"),
}
ANSWER_LABELS = {
    AnswerWanted.CHAT: N_("an answer in the chat"),
    AnswerWanted.PHONE: N_("a phone call"),
    AnswerWanted.NONE: N_("no answer needed"),
}


# --- deadlines --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    take_up_working_days: int
    answer_days: int
    ombudsstelle: str
    calendar: Calendar = DEFAULT_CALENDAR  # the organisation's working days (Bundesland holidays)


def policy(settings: Settings, org: Organisation | None) -> Policy:
    own: dict[str, Any] = ((org.settings or {}).get("complaints") or {}) if org else {}
    return Policy(
        take_up_working_days=int(own.get("take_up_working_days", settings.complaint_take_up_working_days)),
        answer_days=int(own.get("answer_days", settings.complaint_answer_days)),
        ombudsstelle=with_phone(str(own.get("ombudsstelle", settings.ombudsstelle)),
                                str(own.get("ombudsstelle_phone", settings.ombudsstelle_phone))),
        calendar=calendar_of(org),
    )


PLACEHOLDER = "Platzhalter"  # in the shipped OMBUDSSTELLE_PHONE: we know no number to ship
_warned: list[bool] = []  # the log says it once per process
log = logging.getLogger(__name__)


def with_phone(ombudsstelle: str, phone: str) -> str:
    """The Ombudsstelle as named to families, with its phone number (☎ reads the same in every language),
    unless its text has a number already (an organisation's own text may carry it)."""
    if not phone.strip() or sum(ch.isdigit() for ch in ombudsstelle) >= 6:
        return ombudsstelle
    if PLACEHOLDER in phone and not _warned:
        _warned.append(True)
        log.warning("OMBUDSSTELLE_PHONE is still the placeholder %r: families who complain are given it as the "
                    "Ombudsstelle's number; set the real one", phone)
    return f"{ombudsstelle}, ☎ {phone.strip()}"


def add_days(start: datetime, days: int) -> datetime:
    """Calendar days in Berlin wall-clock time, so a DST change does not move the hour."""
    local = start.astimezone(BERLIN)
    day = local.date() + timedelta(days=days)
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=BERLIN).astimezone(start.tzinfo)


def set_deadlines(complaint: Complaint, rules: Policy, sent_at: datetime) -> None:
    complaint.take_up_due = rules.calendar.add_working_days(sent_at, rules.take_up_working_days)
    complaint.answer_due = add_days(sent_at, rules.answer_days)


SOON = timedelta(days=2)  # a deadline this close is shown as near (the console colours it)


class Deadline(StrEnum):
    LATE = "late"
    SOON = "soon"
    OK = "ok"
    NONE = "none"  # nothing is due any more (answered or closed)


def next_due(complaint: Complaint) -> datetime | None:
    """The deadline that applies now: taking it up, then answering it; none once answered or closed."""
    if complaint.status == Status.CLOSED:
        return None
    if complaint.taken_at is None and complaint.take_up_due:
        return complaint.take_up_due
    return complaint.answer_due if complaint.status in UNANSWERED else None


def deadline_state(complaint: Complaint, now: datetime) -> Deadline:
    """Late when a deadline still open has passed, near within :data:`SOON`."""
    late = (complaint.status != Status.CLOSED and complaint.taken_at is None and complaint.take_up_due
            and complaint.take_up_due < now) or (
        complaint.status in UNANSWERED and complaint.answer_due and complaint.answer_due < now)
    if late:
        return Deadline.LATE
    due = next_due(complaint)
    if due is None:
        return Deadline.NONE
    return Deadline.SOON if due - now <= SOON else Deadline.OK


def next_reference(session: Session, sent_at: datetime) -> str:
    """B-<year>-<number>, numbered per calendar year (Berlin) from 0001; the unique column guards races."""
    prefix = f"B-{sent_at.astimezone(BERLIN).year}-"
    refs = session.scalars(select(Complaint.reference).where(Complaint.reference.like(f"{prefix}%")))
    highest = max((int(r.rsplit("-", 1)[1]) for r in refs if r), default=0)
    return f"{prefix}{highest + 1:04d}"


# --- who hears of a complaint (who may see it: conversations.authz.may_see_complaint) ------------
def _with_role(session: Session, complaint: Complaint, role: Role) -> list[StaffMember]:
    people = session.scalars(
        select(StaffMember).join(StaffRole).where(
            StaffMember.organisation_id == complaint.organisation_id, StaffMember.active.is_(True),
            StaffRole.role == role.value,
        ).order_by(StaffMember.id)
    )
    return [p for p in people if p.id != complaint.about_staff_id]


def leitung(session: Session, complaint: Complaint) -> list[StaffMember]:
    return _with_role(session, complaint, Role.LEITUNG)


def handlers(session: Session, complaint: Complaint) -> list[StaffMember]:
    """Who gets a new complaint: the officers, or the Leitung if it is about an officer or there is none."""
    officers = [] if complaint.leitung_only else _with_role(session, complaint, Role.BESCHWERDE)
    return officers or leitung(session, complaint)
