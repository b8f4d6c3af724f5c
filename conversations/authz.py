"""Who may do what: one function per action, the only place a permission is decided.

Every surface asks here: the chat flows and actions (on every network), the CLI, the signed links in
emails and the staff console. A rule is written once, so no surface can forget it or copy it wrongly.

A function takes the acting :class:`Principal` and the object and answers ``True`` or ``False``. It never
says why, so a refusal reveals nothing about objects the person may not see. :func:`require` turns a no
into :class:`NotAllowed`, which each surface answers in its own way: a kind line in the chat, one line
and a non-zero exit on the CLI, 404 in the console.

Adding an action:

- name it ``may_<verb>_<object>`` (``may_record_outcome``, ``may_confirm_nachweis``) and give it the
  principal first, then the object;
- decide from roles, *current* case assignments (``until`` empty), the person being active, and the
  object's own state where the rule says so (an evaluation only after the talk took place);
- add its row to the role × action table in ``tests/conversations/test_authz.py``.

What the rules say, in short (DOMAIN.md "Who is who", "Data protection": each role only what it needs):

- A family member acts on their own case while it is open; a child does not sign the monthly proof
  (it goes to the parents); answers to a complaint come from the chat that complained.
- A Fachkraft acts on the cases she is *currently* assigned to: the moment an assignment ends, or the
  person is deactivated, every right on that case ends with it.
- The fallführende Fachkraft (Jugendamt) steers and confirms: she acknowledges escalations, confirms
  extra hours and reads the hours, but does not record what happened at a visit or move it.
- The Gesprächsführer*in reads the family's answers for her Meilensteingespräch and records its
  evaluation, after the talk has begun.
- Complaint officers and the Leitung of the complaint's Träger handle complaints, never the person a
  complaint is about; only the Leitung handles one about an officer.
- The Leitung of the case's own Träger may see the case and close alerts and escalations; a Leitung of
  another Träger is a stranger.
- The operator at the command line is trusted for administration and records, not for the decisions that
  belong to a person (confirming extra hours, answering a complaint, signing the proof).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from conversations.registry import Action, Audience, Command
from conversations.rules.outcomes import Outcome
from storage.models import (
    Appointment,
    Case,
    ChatIdentity,
    Escalation,
    ExtraHoursRequest,
    FamilyMember,
    MemberKind,
    Milestone,
    MilestoneResponse,
    NachweisConfirmation,
    Role,
    StaffMember,
)
from storage.models.complaints import Complaint
from storage.models.hilfeplan import HilfeplanItem, HilfeplanTalk

# Complaint statuses as stored (conversations.complaints.rules.Status; not imported: that package
# registers chat flows that ask here).
_COMPLAINT_DRAFT = "draft"
_CANCELLED = (Outcome.CANCELLED_BY_FAMILY, Outcome.CANCELLED_BY_PROVIDER)
# The escalation kind of an alert (conversations.escalations; not imported for the same reason).
_CHILD_PROTECTION = "child_protection"


class NotAllowed(Exception):
    """The principal may not do this (or may not know that the object exists)."""


@dataclass(frozen=True)
class Principal:
    """Who acts: a family member, a staff member (in a chat, the console, or through a signed link sent
    to them), or the operator at the command line (trusted: the Träger's administrator on the server).

    ``chat`` is the (channel, address) the principal writes from, for rights bound to a chat rather than
    to a person (an anonymous complaint's answers go back to the chat it came from).
    """

    member: FamilyMember | None = None
    staff: StaffMember | None = None
    operator: bool = False
    chat: tuple[str, str] | None = None

    @property
    def label(self) -> str:
        """The actor as the audit log names it."""
        if self.member is not None:
            return f"member:{self.member.id}"
        if self.staff is not None:
            return f"staff:{self.staff.id}"
        return "cli" if self.operator else "anonymous"

    @property
    def active_staff(self) -> StaffMember | None:
        """The staff member, if there is one who still works for the Träger."""
        return self.staff if self.staff is not None and self.staff.active else None


OPERATOR = Principal(operator=True)


def as_staff(staff: StaffMember | None) -> Principal:
    """The principal for a staff member named on the CLI (``--by``, ``--as``) or reached by a signed link."""
    return Principal(staff=staff)


def require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed


# --- the building blocks every action rule uses --------------------------------------------------------
def works_on(staff: StaffMember | None, case: Case, roles: Iterable[str] = (Role.FACHKRAFT,)) -> bool:
    """An active staff member with a current assignment to the case in one of ``roles``."""
    if staff is None or not staff.active:
        return False
    wanted = {str(r) for r in roles}
    return any(a.staff_id == staff.id and a.role in wanted and a.until is None for a in case.assignments)


def leads(staff: StaffMember | None, case: Case) -> bool:
    """The Leitung of the Träger that runs the case."""
    return leads_organisation(staff, case.organisation_id)


def leads_organisation(staff: StaffMember | None, organisation_id: int) -> bool:
    return (staff is not None and staff.active and staff.organisation_id == organisation_id
            and staff.has_role(Role.LEITUNG))


def in_family(member: FamilyMember | None, case: Case) -> bool:
    return member is not None and member.case_id == case.id


def is_open(case: Case) -> bool:
    """The help is still running: nothing new happens on a closed case (its records stay readable)."""
    return case.closed_at is None


def on_team(principal: Principal, case: Case) -> bool:
    """A Fachkraft of the case's team, now, on an open case."""
    return is_open(case) and works_on(principal.staff, case)


def writes_from(principal: Principal, chat: ChatIdentity | None) -> bool:
    return chat is not None and principal.chat == (chat.channel, chat.address)


def in_audience(principal: Principal, audience: Audience, roles: Sequence[str] = ()) -> bool:
    """The first gate of a command or button: who it is for at all (anyone, any linked person, the family,
    staff holding one of ``roles``). The object's own rule decides afterwards."""
    if audience is Audience.ANYONE:
        return True
    if audience is Audience.LINKED:
        return principal.member is not None or principal.active_staff is not None
    if audience is Audience.FAMILY:
        return principal.member is not None
    staff = principal.active_staff
    return staff is not None and (not roles or staff.has_role(*roles))


# --- commands and buttons -------------------------------------------------------------------------------
def may_use_command(principal: Principal, command: Command) -> bool:
    """A command (/termin, /beschwerden, …): in the menus, /hilfe and when typed, on every network."""
    return in_audience(principal, command.audience, command.roles)


def may_press_action(principal: Principal, action: Action) -> bool:
    """A button that outlives its question (``act:…``); its handler then asks the object's own rule."""
    return in_audience(principal, action.audience)


# --- cases and appointments ----------------------------------------------------------------------------
def may_see_case(principal: Principal, case: Case) -> bool:
    """The case's own family, the staff assigned to it (team, Jugendamt, Gesprächsführung), its Leitung."""
    if principal.operator or in_family(principal.member, case):
        return True
    staff = principal.active_staff
    return works_on(staff, case, (Role.FACHKRAFT, Role.FALLFUEHREND, Role.GESPRAECHSFUEHRUNG)) or leads(staff, case)


def may_plan_appointment(principal: Principal, case: Case) -> bool:
    """Enter a new appointment for the case (``/termin``): its Fachkräfte, or the operator."""
    return (principal.operator and is_open(case)) or on_team(principal, case)


def may_record_outcome(principal: Principal, appointment: Appointment) -> bool:
    """Record what happened (took place, no-show, cancelled): the Fachkräfte who were there to see it.
    Not the Jugendamt: the fallführende Fachkraft receives the record, she does not write it."""
    return may_plan_appointment(principal, appointment.case)


def may_record_cancellation_time(principal: Principal, appointment: Appointment) -> bool:
    """Say when the family cancelled (it decides what is billed): whoever records the outcome."""
    return may_record_outcome(principal, appointment)


def may_cancel_appointment(principal: Principal, appointment: Appointment) -> bool:
    """Cancel a coming appointment, ours or one the family phoned in to cancel (the family is told at
    once): whoever plans the case's appointments."""
    return may_plan_appointment(principal, appointment.case)


def may_move_appointment(principal: Principal, appointment: Appointment) -> bool:
    """Give an appointment a new date (the family's wish for another date reaches the Fachkräfte)."""
    return may_plan_appointment(principal, appointment.case)


def may_answer_appointment(principal: Principal, appointment: Appointment) -> bool:
    """Confirm, cancel, or ask for another date: a family member expected at it (its reminders went to
    them), while the help runs."""
    member = principal.member
    if not in_family(member, appointment.case) or not is_open(appointment.case):
        return False
    expected = {m.member_id for m in appointment.members}
    return not expected or member.id in expected  # type: ignore[union-attr]


def may_see_hours(principal: Principal, case: Case) -> bool:
    """The month's hours and budget: the team, the fallführende Fachkraft, the Leitung, the operator."""
    if principal.operator:
        return True
    staff = principal.active_staff
    return works_on(staff, case, (Role.FACHKRAFT, Role.FALLFUEHREND)) or leads(staff, case)


def may_approve_extra_hours(principal: Principal, request: ExtraHoursRequest) -> bool:
    """Hours beyond the budget need the Jugendamt: the case's current fallführende Fachkraft, nobody else."""
    return is_open(request.case) and works_on(principal.staff, request.case, (Role.FALLFUEHREND,))


def may_confirm_nachweis(principal: Principal, confirmation: NachweisConfirmation) -> bool:
    """The monthly proof is signed by the parents and other adults it was sent to, never by a child."""
    member = principal.member
    return (in_family(member, confirmation.case) and is_open(confirmation.case)
            and member.kind != MemberKind.CHILD)  # type: ignore[union-attr]


# --- escalations and child-protection alerts ------------------------------------------------------------
def may_acknowledge_escalation(principal: Principal, escalation: Escalation) -> bool:
    """Three appointments without participation: the fallführende Fachkraft it was sent to confirms
    receipt; the Leitung of the case's Träger may do so for her (it is told when she does not)."""
    staff = principal.active_staff
    return works_on(staff, escalation.case, (Role.FALLFUEHREND,)) or leads(staff, escalation.case)


def may_handle_alert(principal: Principal, alert: Escalation) -> bool:
    """A possible risk for a child: the case's Fachkräfte and the Leitung read the family's words and mark
    it handled. Also after the case closed: an alert is never left without someone who may close it."""
    staff = principal.active_staff
    return works_on(staff, alert.case) or leads(staff, alert.case)


def may_close_escalation(principal: Principal, escalation: Escalation) -> bool:
    """The shared button (and signed link) of both kinds: acknowledge an escalation, or handle an alert."""
    if escalation.kind == _CHILD_PROTECTION:
        return may_handle_alert(principal, escalation)
    return may_acknowledge_escalation(principal, escalation)


def may_raise_alert(principal: Principal, case: Case) -> bool:
    """"Tell my Fachkräfte now" in the emergency help: any member of the family (a child above all)."""
    return in_family(principal.member, case)


# --- complaints --------------------------------------------------------------------------------------
def may_complain(principal: Principal, case: Case) -> bool:
    """Any family member may complain at any time, about anything, while linked to their help."""
    return in_family(principal.member, case)


def may_see_complaint(principal: Principal, complaint: Complaint) -> bool:
    """Officers of the organisation and its Leitung (and the operator), never the staff member the
    complaint is about; one about an officer only the Leitung. A draft nobody sees."""
    if complaint.status == _COMPLAINT_DRAFT:
        return False
    if principal.operator:
        return True
    staff = principal.active_staff
    if staff is None or staff.organisation_id != complaint.organisation_id or complaint.about_staff_id == staff.id:
        return False
    if staff.has_role(Role.LEITUNG):
        return True
    return staff.has_role(Role.BESCHWERDE) and not complaint.leitung_only


def may_handle_complaint(principal: Principal, complaint: Complaint) -> bool:
    """Take over, ask, answer, close: a person who may see it (the answer has a name; not the operator)."""
    return not principal.operator and may_see_complaint(principal, complaint)


def may_write_complaint(principal: Principal, complaint: Complaint) -> bool:
    """Go on writing a complaint not sent yet: the family member, in the chat where it is being written."""
    return (principal.member is not None and complaint.status == _COMPLAINT_DRAFT
            and writes_from(principal, complaint.relay))


def complains_from(principal: Principal, complaint: Complaint) -> bool:
    """The complainant: the chat the complaint came from (linked, or its address kept when the help ended),
    or, for a named complaint, the person who made it (on a new phone too)."""
    if writes_from(principal, complaint.relay):
        return True
    if complaint.relay_address is not None and principal.chat == (complaint.relay_channel, complaint.relay_address):
        return True
    member = principal.member
    return not complaint.anonymous and member is not None and member.id == complaint.member_id


def may_reply_to_complaint(principal: Principal, complaint: Complaint) -> bool:
    """Answer the officer's question: the complainant (see :func:`complains_from`)."""
    return complaint.status != _COMPLAINT_DRAFT and complains_from(principal, complaint)


def may_rate_complaint(principal: Principal, complaint: Complaint) -> bool:
    """Say whether it was dealt with to one's satisfaction: the complainant."""
    return may_reply_to_complaint(principal, complaint)


def may_forward_complaint(principal: Principal, complaint: Complaint) -> bool:
    """Pass a complaint about the Jugendamt on to the Jugendamt's complaint office: a person who may handle
    it, once, and only as the complainant agreed (with or without their name; not at all if they said no)."""
    return (may_handle_complaint(principal, complaint) and complaint.category == "jugendamt"
            and complaint.forward_consent in ("named", "anonymous") and complaint.forwarded_at is None)


def may_see_figures(principal: Principal) -> bool:
    """The Träger's figures (only totals, small numbers hidden: conversations.report): its Leitung in the
    console, the operator on the command line (`wegbegleiter report`)."""
    if principal.operator:
        return True
    staff = principal.active_staff
    return staff is not None and staff.has_role(Role.LEITUNG)


# --- the Meilensteingespräch -------------------------------------------------------------------------
def leads_talk(staff: StaffMember | None, milestone: Milestone) -> bool:
    """The Gesprächsführer*in of this talk, still assigned to the case in that role."""
    return (staff is not None and staff.id == milestone.leader_id
            and works_on(staff, milestone.case, (Role.GESPRAECHSFUEHRUNG,)))


def may_read_milestone_answers(principal: Principal, milestone: Milestone) -> bool:
    """The family was told: their answers are read by the Gesprächsführer*in and their Fachkräfte."""
    if principal.operator:
        return True
    staff = principal.active_staff
    return leads_talk(staff, milestone) or works_on(staff, milestone.case)


def may_record_evaluation(principal: Principal, milestone: Milestone, now: datetime) -> bool:
    """The evaluation after the talk: by the Gesprächsführer*in, once the talk has begun (not before,
    not for a cancelled one)."""
    appointment = milestone.appointment
    return (leads_talk(principal.active_staff, milestone) and appointment.starts_at <= now
            and appointment.outcome not in _CANCELLED)


def may_answer_questionnaire(principal: Principal, response: MilestoneResponse) -> bool:
    """One's own questionnaire only; a Fachkraft's only while she is on the team."""
    case = response.milestone.case
    if response.member_id is not None:
        member = principal.member
        return member is not None and member.id == response.member_id and is_open(case)
    staff = principal.staff
    return staff is not None and staff.id == response.staff_id and on_team(principal, case)


# --- the staff console (issue 17) ------------------------------------------------------------------------
def may_use_console(principal: Principal) -> bool:
    """Sign in to the staff console: active staff only (a deactivated person's sessions end at once)."""
    staff = principal.active_staff
    return staff is not None and bool(staff.roles)


def may_work_complaints(principal: Principal) -> bool:
    """Open the complaint queue (each complaint in it still passes :func:`may_see_complaint`): the
    Beschwerdestelle and the Leitung, as in the chat's /beschwerden."""
    staff = principal.active_staff
    return staff is not None and staff.has_role(Role.BESCHWERDE, Role.LEITUNG)


def may_see_overview(principal: Principal) -> bool:
    """The Träger at a glance (open alerts, late complaints, budgets, undelivered messages): its Leitung."""
    staff = principal.active_staff
    return staff is not None and staff.has_role(Role.LEITUNG)


# --- the Hilfeplan calendar (issue 18) -------------------------------------------------------------------
def may_see_deadlines(principal: Principal, case: Case) -> bool:
    """The Hilfeplan's dates and deadlines: the team, the fallführende Fachkraft, the Leitung, the operator."""
    return may_see_hours(principal, case)


def may_mark_deadline_done(principal: Principal, item: HilfeplanItem) -> bool:
    """Mark a deadline done (the Entwicklungsbericht sent, the Kostenzusage received): the Fachkräfte of the
    team and the Leitung of the Träger, or the operator, while the help runs."""
    case = item.case
    if not is_open(case):
        return False
    return principal.operator or on_team(principal, case) or leads(principal.active_staff, case)


def may_give_hilfeplan_view(principal: Principal, talk: HilfeplanTalk, now: datetime) -> bool:
    """A family member's view before a planned Hilfeplangespräch: the case's own family, while the help runs,
    until the talk begins."""
    appointment = talk.appointment
    return (in_family(principal.member, talk.case) and is_open(talk.case) and appointment is not None
            and appointment.outcome == Outcome.PLANNED and now < appointment.starts_at)
