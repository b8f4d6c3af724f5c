"""A staff member leaves the Träger (`staff deactivate`): access ends at once, the work goes on.

In one transaction the person is marked inactive (every rule in :mod:`conversations.authz` asks for an
active person, the console checks it on every request and their console sessions end,
:func:`conversations.outbox.notify` sends them nothing any more), each of their chats gets the neutral line and is unlinked, messages still waiting for
them are withdrawn, and their open work is handed on: to the named successor where the successor may
take it, else to the Leitung. History keeps their name (records, audit, "handled by …").

What is handed on: each case assignment (with the family told and the successor's handover summary,
:mod:`.handover`), the complaints they handle, the actions agreed in a Meilensteingespräch they were
to be reminded of, and every open escalation or alert they were told of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conversations import authz, escalations
from conversations.access import chats, handover
from conversations.admin import AdminError
from conversations.complaints import procedure, rules
from conversations.complaints.rules import Status
from conversations.context import Services, audit
from conversations.i18n import Translator
from conversations.messages import Reply
from storage.chats import withdraw_pending
from storage.models import Case, Escalation, EscalationNotice, MilestoneAction, Role, StaffMember
from storage.models.complaints import Complaint
from storage.models.console import ConsoleSession


@dataclass
class Departure:
    """What happened to the person's work, for the CLI's answer."""

    staff: str
    chats_unlinked: int = 0
    cases: list[dict[str, object]] = field(default_factory=list)
    complaints: list[dict[str, object]] = field(default_factory=list)
    escalations: list[int] = field(default_factory=list)
    actions: int = 0


def deactivate(session: Session, services: Services, actor: str, staff: StaffMember,
               successor: StaffMember | None = None) -> Departure:
    if not staff.active:
        raise AdminError("{name} is already deactivated", name=staff.name)
    if successor is not None:
        if successor.id == staff.id or not successor.active:
            raise AdminError("the successor must be another active staff member")
        if successor.organisation_id != staff.organisation_id:
            raise AdminError("{name} works for another organisation", name=successor.name)
    now = services.clock.now()
    staff.active, staff.deactivated_at = False, now  # from here on every rule refuses them
    audit(session, at=now, actor=actor, action="staff.deactivated", object_type="staff_member", object_id=staff.id,
          successor=successor.id if successor else None)
    result = Departure(staff.name)
    result.chats_unlinked = chats.unlink_all(session, staff, now=now, actor=actor, reason="left")
    # The console refuses an inactive person on every request anyway; ending the sessions here records when.
    session.execute(update(ConsoleSession).where(ConsoleSession.staff_id == staff.id,
                                                 ConsoleSession.ended_at.is_(None)).values(ended_at=now))
    if staff.email:
        withdraw_pending(session, "email", staff.email)
    for assignment in [a for a in staff.assignments if a.until is None]:
        case, role = assignment.case, assignment.role
        if not authz.is_open(case):
            assignment.until = now
            continue
        taker = successor if successor is not None and _may_take(successor, case, role) else None
        already = taker is not None and handover.current_assignment(case, taker, role) is not None
        handover.hand_over(session, services, actor, case, role, leaving=staff, joining=None if already else taker)
        result.cases.append({"case": case.reference, "role": role, "to": taker.name if taker else "Leitung"})
    result.complaints = _hand_on_complaints(session, services, staff, successor)
    result.actions = _hand_on_actions(session, staff, successor)
    result.escalations = _hand_on_escalations(session, services, staff, successor)
    return result


def _may_take(successor: StaffMember, case: Case, role: str) -> bool:
    """The successor holds the role, and a Gesprächsführer*in is not on the family's team."""
    if not successor.has_role(role):
        return False
    return role != Role.GESPRAECHSFUEHRUNG or not authz.works_on(successor, case)


def _hand_on_complaints(session: Session, services: Services, staff: StaffMember,
                        successor: StaffMember | None) -> list[dict[str, object]]:
    """Complaints they handled: to the successor if they may handle it, else back to the officers or Leitung."""
    now = services.clock.now()
    moved: list[dict[str, object]] = []
    for complaint in session.scalars(select(Complaint).where(
            Complaint.officer_id == staff.id, Complaint.status.not_in((Status.CLOSED, Status.DRAFT)))):
        taker = successor if successor is not None and authz.may_handle_complaint(authz.as_staff(successor),
                                                                                    complaint) else None
        complaint.officer = taker
        procedure.log(session, now, "system", "complaint.handed_on", complaint, to=taker.id if taker else None)
        people = [taker] if taker else rules.handlers(session, complaint)

        def render(tr: Translator, complaint: Complaint = complaint) -> Reply:
            lines = [tr.gettext("Complaint {reference} was handled by {name}, who has left. Please take it over.")
                     .format(reference=complaint.reference, name=staff.name), "",
                     *procedure.summary(tr, session, complaint)]
            return Reply("\n".join(lines), procedure.officer_choices(tr, complaint))

        procedure.tell_staff(session, services, people, render, now, kind="complaint.handed_on",
                             dedupe_key=f"complaint:{complaint.id}:handed-on:{staff.id}")
        moved.append({"complaint": complaint.reference, "to": taker.name if taker else "officers"})
    return moved


def _hand_on_actions(session: Session, staff: StaffMember, successor: StaffMember | None) -> int:
    """Actions agreed in a Meilensteingespräch they were still to be reminded of."""
    actions = session.scalars(select(MilestoneAction).where(
        MilestoneAction.assignee_id == staff.id, MilestoneAction.reminded_at.is_(None))).all()
    fallback = successor or next(iter(escalations.leitung(session, staff.organisation)), None)
    for action in actions:
        action.assignee_id = fallback.id if fallback else None
    return len(actions)


def _hand_on_escalations(session: Session, services: Services, staff: StaffMember,
                         successor: StaffMember | None) -> list[int]:
    """Every open escalation or alert they were told of reaches someone who may close it."""
    now = services.clock.now()
    told_to_them = select(EscalationNotice.escalation_id).where(EscalationNotice.staff_id == staff.id)
    passed: list[int] = []
    for escalation in session.scalars(select(Escalation).where(
            Escalation.acknowledged_at.is_(None), Escalation.id.in_(told_to_them)).order_by(Escalation.id)):
        if successor is not None and authz.may_close_escalation(authz.as_staff(successor), escalation):
            people = [successor]
        else:
            people = escalations.leitung(session, escalation.case.organisation)
        already = {n.staff_id for n in escalation.notices if n.purpose == "handover"}  # e.g. with a case handed over
        escalations.tell(session, escalation, [p for p in people if p.id not in already], "handover",
                         escalations.open_message(escalation), now=now,
                         urgent=escalation.kind == escalations.CHILD_PROTECTION)
        passed.append(escalation.id)
    return passed
