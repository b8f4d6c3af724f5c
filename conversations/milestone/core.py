"""The Meilensteingespräch's records: Hilfeplan goals, the review, answers, and who may read them.

Who reads what (told to the family before they answer): a family member's answers go to the
Gesprächsführer*in and the case's Fachkräfte, never to another family member or other staff; the
evaluation after the meeting is for the Gesprächsführer*in and the Fachkräfte only.
"""

from __future__ import annotations

import base64
import enum
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from conversations import admin, authz
from conversations.admin import Actor, AdminError
from conversations.context import Services, audit
from conversations.i18n import N_, Translator
from conversations.messages import Attachment
from conversations.rules.milestone import Version
from conversations.rules.outcomes import AppointmentKind
from storage.models import (
    Appointment,
    AppointmentMember,
    AppointmentStaff,
    Case,
    CaseGoal,
    FamilyMember,
    MemberKind,
    Milestone,
    MilestoneMedia,
    MilestoneResponse,
    Role,
    StaffMember,
)


class GoalLevel(enum.StrEnum):
    RICHTUNGSZIEL = "richtungsziel"
    HANDLUNGSZIEL = "handlungsziel"
    HANDLUNGSSCHRITT = "handlungsschritt"
    VEREINBARUNG = "vereinbarung"


GOAL_LEVEL_LABELS = {
    GoalLevel.RICHTUNGSZIEL: N_("Long-term goal (Richtungsziel)"),
    GoalLevel.HANDLUNGSZIEL: N_("Goal (Handlungsziel)"),
    GoalLevel.HANDLUNGSSCHRITT: N_("Step (Handlungsschritt)"),
    GoalLevel.VEREINBARUNG: N_("Agreement (Vereinbarung)"),
}


def level_label(tr: Translator, level: str) -> str:
    return tr.gettext(GOAL_LEVEL_LABELS.get(level, level))  # type: ignore[call-overload]


# --- goals and children ------------------------------------------------------------------------
def add_goal(session: Session, actor: Actor, now: datetime, case: Case, text: str,
             level: str = GoalLevel.HANDLUNGSZIEL) -> CaseGoal:
    if level not in {lv.value for lv in GoalLevel}:
        raise AdminError(f"level must be one of {', '.join(lv.value for lv in GoalLevel)}")
    text = text.strip()
    if not text:
        raise AdminError("a goal needs a text")
    position = len(goals(session, case)) + 1
    goal = CaseGoal(case=case, level=level, text=text, position=position, created_at=now)
    session.add(goal)
    session.flush()
    audit(session, at=now, actor=actor.label, action="goal.created", object_type="case_goal", object_id=goal.id,
          case_id=case.id, level=level)
    return goal


def update_goal(session: Session, actor: Actor, now: datetime, goal_id: int, *, text: str | None = None,
                archive: bool = False) -> CaseGoal:
    goal = session.get(CaseGoal, goal_id)
    if goal is None:
        raise AdminError(f"no goal with id {goal_id}")
    if text:
        goal.text = text.strip()
    if archive:
        goal.archived_at = now
    audit(session, at=now, actor=actor.label, action="goal.updated", object_type="case_goal", object_id=goal.id,
          case_id=goal.case_id, archived=archive)
    return goal


def goals(session: Session, case: Case | int) -> list[CaseGoal]:
    """The case's current goals in Hilfeplan order (Richtungsziele first, then by position)."""
    case_id = case if isinstance(case, int) else case.id
    order = {lv.value: i for i, lv in enumerate(GoalLevel)}
    rows = session.scalars(select(CaseGoal).where(CaseGoal.case_id == case_id, CaseGoal.archived_at.is_(None)))
    return sorted(rows, key=lambda g: (order.get(g.level, 9), g.position, g.id))


def children(case: Case) -> list[FamilyMember]:
    return [m for m in case.members if m.kind == MemberKind.CHILD]


# --- the review --------------------------------------------------------------------------------
def _appointment(session: Session, services: Services | None, actor: Actor, case: Case, starts_at: datetime,
                 duration_minutes: int, place: str | None, staff: list[StaffMember], now: datetime) -> Appointment:
    """The appointment row, through the appointments job when it is there (the family gets the .ics)."""
    try:
        from conversations.appointments import create_appointment
    except ImportError:  # the appointments job is optional for this one
        create_appointment = None  # type: ignore[assignment]
    if create_appointment is not None and services is not None:
        return create_appointment(session, services, actor, case, AppointmentKind.MEILENSTEINGESPRAECH, starts_at,
                                  duration_minutes, staff, list(case.members), place)
    appointment = Appointment(case=case, kind=AppointmentKind.MEILENSTEINGESPRAECH, starts_at=starts_at,
                              duration_minutes=duration_minutes, place=place, ics_uid=f"{uuid.uuid4()}@wegbegleiter",
                              created_at=now, staff=[AppointmentStaff(staff_id=s.id) for s in staff],
                              members=[AppointmentMember(member_id=m.id) for m in case.members])
    session.add(appointment)
    session.flush()
    return appointment


def create_milestone(session: Session, actor: Actor, now: datetime, case: Case, starts_at: datetime,
                     leader: StaffMember, duration_minutes: int = 90, place: str | None = None,
                     services: Services | None = None) -> Milestone:
    """A Meilensteingespräch led by someone outside the family's team (seed 000: "Externe*r")."""
    if starts_at.tzinfo is None:
        raise AdminError("the date needs a time zone")
    if starts_at <= now:
        raise AdminError("a Meilensteingespräch must lie in the future")
    if not leader.has_role(Role.GESPRAECHSFUEHRUNG):
        raise AdminError(f"{leader.name} does not hold the role gespraechsfuehrung")
    if leader in admin.team(case):
        raise AdminError(f"{leader.name} works on this case and cannot lead its Meilensteingespräch")
    admin.assign(session, actor, now, case, leader, Role.GESPRAECHSFUEHRUNG)
    appointment = _appointment(session, services, actor, case, starts_at, duration_minutes, place,
                               [leader, *admin.team(case)], now)
    milestone = Milestone(appointment=appointment, case=case, leader=leader, created_at=now)
    session.add(milestone)
    session.flush()
    audit(session, at=now, actor=actor.label, action="milestone.created", object_type="milestone",
          object_id=milestone.id, case_id=case.id, leader_id=leader.id)
    return milestone


def milestone(session: Session, milestone_id: int) -> Milestone:
    found = session.get(Milestone, milestone_id)
    if found is None:
        raise AdminError(f"no Meilensteingespräch with id {milestone_id}")
    return found


# --- who may read what -------------------------------------------------------------------------
def readers(ms: Milestone) -> list[StaffMember]:
    """Everyone who may read the family's answers: the Gesprächsführer*in and the case's Fachkräfte."""
    team = admin.team(ms.case)
    return [ms.leader, *[s for s in team if s.id != ms.leader_id]]


def own_response(session: Session, response_id: int, principal: authz.Principal) -> MilestoneResponse | None:
    """The response, only if this person may answer it: nobody opens another's questionnaire."""
    response = session.get(MilestoneResponse, response_id)
    return response if response is not None and authz.may_answer_questionnaire(principal, response) else None


def open_responses(session: Session, person: FamilyMember | StaffMember, now: datetime) -> list[MilestoneResponse]:
    """This person's questionnaires not yet sent whose meeting has not begun, nearest meeting first."""
    column = MilestoneResponse.member_id if isinstance(person, FamilyMember) else MilestoneResponse.staff_id
    rows = session.scalars(
        select(MilestoneResponse).join(Milestone).join(Appointment)
        .where(column == person.id, MilestoneResponse.submitted_at.is_(None), Appointment.starts_at > now,
               Appointment.outcome.not_in(("cancelled_by_family", "cancelled_by_provider")))
        .order_by(Appointment.starts_at)
    )
    return list(rows)


def session_of(row: object) -> Session:
    """The session a loaded row belongs to (the summary and questions read goals beside it)."""
    session = object_session(row)
    assert session is not None, "a detached row"
    return session


# --- answers ----------------------------------------------------------------------------------
def answers(response: MilestoneResponse) -> dict[str, dict[str, Any]]:
    return dict(json.loads(response.answers_json or "{}"))


def set_answer(response: MilestoneResponse, key: str, *, choice: str | None = None, text: str | None = None,
               media_id: int | None = None, skipped: bool = False) -> None:
    """Record one answer. A choice, a text and voice notes add up; skipping clears the answer."""
    all_answers = answers(response)
    old = {} if skipped else all_answers.get(key, {})
    all_answers[key] = {
        "choice": choice if choice is not None else old.get("choice"),
        "text": text if text is not None else old.get("text"),
        "media": [*old.get("media", []), *([media_id] if media_id is not None else [])],
        "skipped": skipped,
    }
    response.answers_json = json.dumps(all_answers, ensure_ascii=False)  # re-encrypted as a whole; it is small


def keep_media(session: Session, response: MilestoneResponse, question: str, attachment: Attachment,
               now: datetime) -> MilestoneMedia:
    media = MilestoneMedia(response_id=response.id, question=question, filename=attachment.filename,
                           mime_type=attachment.mime_type, data_b64=base64.b64encode(attachment.data).decode(),
                           created_at=now)
    session.add(media)
    session.flush()
    return media


def media_attachments(session: Session, response: MilestoneResponse) -> list[Attachment]:
    rows = session.scalars(select(MilestoneMedia).where(MilestoneMedia.response_id == response.id)
                           .order_by(MilestoneMedia.id))
    who = respondent_name(response).split()[0]
    return [Attachment(f"{who}-{m.question.replace(':', '-')}-{m.filename}", m.mime_type,
                       base64.b64decode(m.data_b64)) for m in rows]


def respondent_name(response: MilestoneResponse) -> str:
    person = response.member or response.staff
    assert person is not None
    return person.display_name


def is_family(response: MilestoneResponse) -> bool:
    return response.version != Version.STAFF
