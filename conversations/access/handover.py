"""A case changes hands (`case assign … --instead-of`, `case unassign … --successor`, a person who leaves).

In one transaction: the leaving person's assignment ends (so :mod:`conversations.authz` refuses them
everything on the case from that moment), the newcomer's begins, the planned appointments, the
Meilensteingespräch and its agreed actions move with the role, and people are told:

- the family, kindly and in each member's language, who accompanies them now and how to reach them
  (seeds 001–003, "Kontinuität"; only for the Fachkraft, the person the family knows);
- the newcomer, a handover summary: family, team, coming appointments, this month's hours, the
  Meilensteingespräch, and every open alert, escalation and extra-hours request as its own message with
  its button;
- the rest of the team, one line; the one who leaves, one line (nothing if they left the Träger);
- the Träger's Leitung, when nobody takes the role on: what now waits for a new person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import admin, authz, budget, escalations
from conversations.admin import AdminError
from conversations.appointments import describe, routine_time, upcoming
from conversations.context import Services, audit
from conversations.escalations import leitung
from conversations.i18n import N_, Translator
from conversations.messages import Reply
from conversations.outbox import notify, notify_all
from conversations.rules.billing import Month
from conversations.rules.outcomes import Outcome
from storage.models import (
    Appointment,
    AppointmentStaff,
    Case,
    CaseAssignment,
    Escalation,
    Milestone,
    MilestoneAction,
    MilestoneEvaluation,
    Role,
    StaffMember,
)

ROLE_LABELS = {
    Role.FACHKRAFT: N_("Fachkraft"),
    Role.FALLFUEHREND: N_("fallführende Fachkraft (Jugendamt)"),
    Role.GESPRAECHSFUEHRUNG: N_("Gesprächsführer*in of the Meilensteingespräch"),
}
SHOWN_APPOINTMENTS = 5
OPEN_REVIEW = timedelta(days=14)  # a review this recent may still wait for its evaluation


def role_label(tr: Translator, role: str) -> str:
    return tr.gettext(ROLE_LABELS[Role(role)])


@dataclass
class Handover:
    """What happened, for the CLI's answer and for the audit."""

    case: str
    role: str
    leaving: str | None
    joining: str | None
    appointments_moved: int = 0
    milestones_moved: int = 0
    told: list[str] = field(default_factory=list)


def current_assignment(case: Case, staff: StaffMember, role: str) -> CaseAssignment | None:
    return next((a for a in case.assignments if a.staff_id == staff.id and a.role == role and a.until is None), None)


def hand_over(session: Session, services: Services, actor: str, case: Case, role: str, *,
              leaving: StaffMember | None = None, joining: StaffMember | None = None) -> Handover:
    """Move ``role`` on ``case`` from ``leaving`` to ``joining`` (either may be None)."""
    if leaving is None and joining is None:
        raise AdminError("name who leaves the case, who joins it, or both")
    if role not in {r.value for r in admin.CASE_ROLES}:
        raise AdminError("case role must be one of {roles}", roles=", ".join(r.value for r in admin.CASE_ROLES))
    if not authz.is_open(case):
        raise AdminError("case {reference} is closed", reference=case.reference)
    ending = current_assignment(case, leaving, role) if leaving is not None else None
    if leaving is not None and ending is None:
        raise AdminError("{name} does not work on {reference} as {role}", name=leaving.name,
                         reference=case.reference, role=role)
    if joining is not None:
        if not joining.active:
            raise AdminError("{name} is no longer active", name=joining.name)
        if current_assignment(case, joining, role) is not None:
            raise AdminError("{name} already works on {reference} as {role}", name=joining.name,
                             reference=case.reference, role=role)
    now = services.clock.now()
    if ending is not None:
        ending.until = now
        audit(session, at=now, actor=actor, action="case.unassigned", object_type="case", object_id=case.id,
              case_id=case.id, staff_id=leaving.id, role=role)  # type: ignore[union-attr]
    if joining is not None:
        admin.assign(session, admin.Actor(actor), now, case, joining, role)
    session.flush()
    result = Handover(case.reference, role, leaving.name if leaving else None, joining.name if joining else None)
    if leaving is not None:
        result.appointments_moved = _move_appointments(session, case, leaving, joining if role == Role.FACHKRAFT
                                                       else None)
        _move_actions(session, case, leaving, joining)
    if role == Role.GESPRAECHSFUEHRUNG and joining is not None:
        result.milestones_moved = _move_milestones(session, case, joining, now)
    _tell(session, services, case, role, leaving, joining, result)
    return result


# --- what moves with the role ---------------------------------------------------------------------------
def _move_appointments(session: Session, case: Case, leaving: StaffMember, joining: StaffMember | None) -> int:
    """Planned appointments that named the leaving person name the newcomer (or the team) instead."""
    rows = session.scalars(select(AppointmentStaff).join(Appointment).where(
        Appointment.case_id == case.id, Appointment.outcome == Outcome.PLANNED,
        AppointmentStaff.staff_id == leaving.id)).all()
    for row in rows:
        appointment = session.get(Appointment, row.appointment_id)
        assert appointment is not None
        if joining is not None and all(s.staff_id != joining.id for s in appointment.staff):
            row.staff_id, row.staff_member = joining.id, joining
        else:
            appointment.staff.remove(row)
    return len(rows)


def _move_actions(session: Session, case: Case, leaving: StaffMember, joining: StaffMember | None) -> None:
    """Actions agreed in the case's Meilensteingespräch that the leaving person was to be reminded of."""
    if joining is None:
        return
    actions = session.scalars(select(MilestoneAction).join(MilestoneEvaluation).join(Milestone).where(
        Milestone.case_id == case.id, MilestoneAction.assignee_id == leaving.id,
        MilestoneAction.reminded_at.is_(None))).all()
    for action in actions:
        action.assignee_id = joining.id


def reviews(session: Session, case: Case, now: datetime) -> list[Milestone]:
    """The case's Meilensteingespräche not long past or still to come, nearest first."""
    return list(session.scalars(select(Milestone).join(Appointment).where(
        Milestone.case_id == case.id, Appointment.starts_at > now - OPEN_REVIEW,
        Appointment.outcome.not_in((Outcome.CANCELLED_BY_FAMILY, Outcome.CANCELLED_BY_PROVIDER)))
        .order_by(Appointment.starts_at)))


def _move_milestones(session: Session, case: Case, joining: StaffMember, now: datetime) -> int:
    """A new Gesprächsführer*in leads the case's coming reviews whose leader no longer leads them."""
    moved = 0
    for ms in reviews(session, case, now):
        if not authz.leads_talk(ms.leader, ms):
            ms.leader, ms.leader_id = joining, joining.id
            moved += 1
    return moved


# --- who is told what ------------------------------------------------------------------------------------
def reach_lines(tr: Translator, person: StaffMember) -> str:
    ways = [w for w in (person.phone, person.email) if w]
    return f"{person.name}: {', '.join(ways)}" if ways else person.name


def org_line(tr: Translator, case: Case) -> str:
    org = case.organisation
    return tr.gettext("You can always reach {org} by phone: {phone} ({hours}).").format(
        org=org.name, phone=org.phone, hours=org.phone_hours or "—")


def family_message(case: Case, leaving: StaffMember | None, joining: StaffMember | None,
                   team: list[StaffMember]) -> Callable[[Translator], Reply]:
    """For the family: who accompanies them now and how to reach them. Warm, short, no reasons given."""

    def render(tr: Translator) -> Reply:
        _ = tr.gettext
        if joining is not None and leaving is not None:
            lines = [_("A change in your family help: from now on {new} accompanies you as your Fachkraft, "
                       "instead of {old}.").format(new=joining.name, old=leaving.name)]
        elif joining is not None:
            lines = [_("Good news for your family help: {new} now also accompanies you as your Fachkraft.")
                     .format(new=joining.name)]
        else:
            lines = [_("A change in your family help: {old} no longer accompanies you as your Fachkraft.").format(
                old=leaving.name)]  # type: ignore[union-attr]
        if team:
            lines += ["", _("Your Fachkräfte now, and how to reach them:"), *[f"• {reach_lines(tr, p)}" for p in team]]
        else:
            lines += ["", _("{org} will tell you soon who accompanies you from now on.").format(
                org=case.organisation.name)]
        lines += ["", *([org_line(tr, case)] if case.organisation.phone else []),
                  _("Your appointments stay as they are unless you hear otherwise.")]
        return Reply("\n".join(lines))

    return render


def summary_message(session: Session, case: Case, role: str, leaving: StaffMember | None,
                    now: datetime, open_items: int) -> Callable[[Translator], Reply]:
    """For the newcomer: what they need on the first day."""
    appointments = upcoming(session, case, now)
    statement = budget.case_statement(session, case, Month.of(now)) if budget.periods(session, case) else None
    found = reviews(session, case, now)

    def render(tr: Translator) -> Reply:
        _ = tr.gettext
        lines = [_("You now work on {case} ({ref}) as {role}.").format(case=case.title, ref=case.reference,
                                                                        role=role_label(tr, role))]
        if leaving is not None:
            lines.append(_("You take over from {name}.").format(name=leaving.name))
        lines += ["", _("Family: {names}").format(names=", ".join(m.display_name for m in case.members) or "—")]
        for other_role in admin.CASE_ROLES:
            people = admin.team(case, other_role)
            if people:
                lines.append(f"{role_label(tr, other_role)}: {', '.join(p.name for p in people)}")
        lines += ["", _("Coming appointments:")]
        lines += [f"• {describe(tr, a)}" for a in appointments[:SHOWN_APPOINTMENTS]] or ["• —"]
        if len(appointments) > SHOWN_APPOINTMENTS:
            lines.append(_("… and {count} more.").format(count=len(appointments) - SHOWN_APPOINTMENTS))
        lines.append("")
        lines.append(budget.statement_text(tr, case, statement) if statement else _("No hour budget is set."))
        lines.append("")
        if found:
            for ms in found:
                sent = sum(1 for r in ms.responses if r.submitted_at is not None)
                lines.append(_("Meilensteingespräch on {date} with {leader}: {sent} of {invited} questionnaires "
                               "sent.").format(date=tr.when(ms.appointment.starts_at), leader=ms.leader.name,
                                               sent=sent, invited=len(ms.responses)))
        else:
            lines.append(_("No Meilensteingespräch is planned."))
        if open_items:
            lines += ["", _("Open alerts, escalations and requests follow as their own messages, each with its "
                            "button.")]
        return Reply("\n".join(lines))

    return render


def open_work(session: Session, case: Case, person: StaffMember) -> tuple[list[Escalation], list]:  # type: ignore[type-arg]
    """What waits on the case for someone in the person's place: escalations and alerts they may close,
    extra hours they may confirm."""
    principal = authz.as_staff(person)
    open_escalations = [e for e in session.scalars(select(Escalation).where(
        Escalation.case_id == case.id, Escalation.acknowledged_at.is_(None)).order_by(Escalation.id))
        if authz.may_close_escalation(principal, e)]
    requests = [r for r in budget.pending_requests(session, case) if authz.may_approve_extra_hours(principal, r)]
    return open_escalations, requests


def pass_on_open_work(session: Session, services: Services, case: Case, person: StaffMember) -> int:
    """Each open escalation, alert and extra-hours request the person may now close, with its button."""
    now = services.clock.now()
    open_escalations, requests = open_work(session, case, person)
    for escalation in open_escalations:
        escalations.tell(session, escalation, [person], "handover", escalations.open_message(escalation), now=now,
                         urgent=escalation.kind == escalations.CHILD_PROTECTION)
    for request in requests:
        budget.ask_approval(session, services, request, person,
                            dedupe_key=f"budget-approval:{request.id}:handover-{person.id}")
    return len(open_escalations) + len(requests)


def waiting_for_someone(session: Session, case: Case, role: str, now: datetime) -> list[Callable[[Translator], str]]:
    """What the role's absence leaves undone on the case (for the Leitung)."""
    lines: list[Callable[[Translator], str]] = []
    if role == Role.FALLFUEHREND:
        count = len(budget.pending_requests(session, case))
        if count:
            lines.append(lambda tr: tr.gettext("Extra hours waiting for confirmation: {count}").format(count=count))
        escalation_count = sum(1 for _e in session.scalars(select(Escalation.id).where(
            Escalation.case_id == case.id, Escalation.kind == escalations.ATTENDANCE,
            Escalation.acknowledged_at.is_(None))))
        if escalation_count:
            lines.append(lambda tr: tr.gettext("Escalations not yet acknowledged: {count}").format(
                count=escalation_count))
    if role == Role.GESPRAECHSFUEHRUNG:
        for ms in reviews(session, case, now):
            if not authz.leads_talk(ms.leader, ms):
                when = ms.appointment.starts_at
                lines.append(lambda tr, when=when: tr.gettext(
                    "The Meilensteingespräch on {date} has no Gesprächsführer*in.").format(date=tr.when(when)))
    return lines


def case_subject(case: Case) -> Callable[[Translator], str]:
    """An email's subject names the case by its reference, never the family (subjects travel in clear)."""
    return lambda tr: tr.gettext("Wegbegleiter: case {ref}").format(ref=case.reference)


def _tell(session: Session, services: Services, case: Case, role: str, leaving: StaffMember | None,
          joining: StaffMember | None, result: Handover) -> None:
    now = services.clock.now()
    later = routine_time(services, now)
    team = admin.team(case)
    if role == Role.FACHKRAFT:
        for member in case.members:
            if notify(session, member, family_message(case, leaving, joining, team), now=now, kind="access.handover",
                      not_before=later):
                result.told.append(member.display_name)
        others = [p for p in team if p not in (leaving, joining)]
        notify_all(session, others, lambda tr: Reply(tr.gettext("Team change at {case}: {change}").format(
            case=case.title, change=change_text(tr, leaving, joining))), now=now, kind="access.team_change",
            not_before=later)
    if joining is not None:
        open_items = sum(map(len, open_work(session, case, joining)))
        notify(session, joining, summary_message(session, case, role, leaving, now, open_items), now=now,
               kind="access.handover", not_before=later, email=True, subject=case_subject(case))
        pass_on_open_work(session, services, case, joining)
        result.told.append(joining.name)
    if leaving is not None:
        notify(session, leaving, lambda tr: Reply(tr.gettext(
            "You no longer work on {case} as {role}. Thank you for your work with the family.").format(
                case=case.title, role=role_label(tr, role))), now=now, kind="access.handover", not_before=later)
    if not admin.team(case, role):
        waiting = waiting_for_someone(session, case, role, now)
        people = leitung(session, case.organisation)

        def to_leitung(tr: Translator) -> Reply:
            _ = tr.gettext
            lines = [_("{case} ({ref}) has no {role} now ({name} left the case). Please name someone: "
                       "wegbegleiter case assign {ref} STAFF_ID {role_key}").format(
                case=case.title, ref=case.reference, role=role_label(tr, role), name=leaving.name if leaving else "—",
                role_key=role)]
            lines += [f"• {line(tr)}" for line in waiting]
            return Reply("\n".join(lines))

        notify_all(session, people, to_leitung, now=now, kind="access.role_vacant", not_before=later, email=True,
                   subject=case_subject(case))
        result.told += [p.name for p in people]
        for escalation in _escalations_left(session, case, role):
            escalations.tell(session, escalation, people, "handover", escalations.open_message(escalation), now=now,
                             urgent=escalation.kind == escalations.CHILD_PROTECTION)


def _escalations_left(session: Session, case: Case, role: str) -> list[Escalation]:
    """Open escalations nobody in the role can close now: the Leitung takes them (it may close both kinds)."""
    kind = {Role.FALLFUEHREND: escalations.ATTENDANCE, Role.FACHKRAFT: escalations.CHILD_PROTECTION}.get(Role(role))
    if kind is None:
        return []
    return list(session.scalars(select(Escalation).where(
        Escalation.case_id == case.id, Escalation.kind == kind, Escalation.acknowledged_at.is_(None))))


def change_text(tr: Translator, leaving: StaffMember | None, joining: StaffMember | None) -> str:
    if leaving is not None and joining is not None:
        return tr.gettext("{new} takes over from {old}.").format(new=joining.name, old=leaving.name)
    if joining is not None:
        return tr.gettext("{new} joins the team.").format(new=joining.name)
    return tr.gettext("{old} has left the team.").format(old=leaving.name)  # type: ignore[union-attr]
