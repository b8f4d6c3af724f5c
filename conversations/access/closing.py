"""The help ends (`case close CASE --reason …`): a kind goodbye, and nothing more after it.

In one transaction:

- the case is closed with its reason (``Case.closed_at`` starts the retention periods of the privacy
  rules; the reason is a code, kept for the Träger's figures);
- planned appointments are cancelled by the Träger (no reminder, no agenda, no "what happened?"); the
  Meilensteingespräch's questionnaires stop with them, the Nachweis scan skips closed cases, and every
  rule in :mod:`conversations.authz` refuses new actions on a closed case;
- codes not used yet stop working;
- each linked chat of the family gets the goodbye, in the member's language, with the Träger's contact,
  and is unlinked.

**Goodbye and unlinking happen in the same transaction, the goodbye queued as the chat's last message**
(not "unlink once delivered"): the chat stops being linked at the moment the help ends, so no reminder,
questionnaire or button of the case can act in it afterwards, and nothing depends on a phone being
reachable (a switched-off phone or a blocked bot would otherwise keep a closed case's chat linked for
days). The outbox delivers by address, oldest first per chat, and everything else waiting for the chat
is withdrawn first, so the goodbye arrives, and arrives last.

Open complaints stay open until answered: the complaint keeps its chat's address (encrypted), so the
officer's answer, a question and the closing still reach that chat, and the complainant may reply and
rate from it (:func:`conversations.authz.complains_from`); the address is cleared once they rated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import admin, authz, invites, nachweis
from conversations.access import chats
from conversations.admin import AdminError
from conversations.appointments import cancel, routine_time
from conversations.context import Services, audit
from conversations.i18n import N_, Translator, translator
from conversations.messages import Reply
from conversations.outbox import notify_all
from conversations.rules.outcomes import Outcome
from storage.models import Appointment, Case, ChatIdentity, FamilyMember, Role
from storage.models.complaints import Complaint

# Why a help ended. A code, never free text: it stays in the figures after names are deleted.
REASONS = {
    "goals-reached": N_("the goals of the help were reached"),
    "ended-by-family": N_("the family ended the help"),
    "ended-by-jugendamt": N_("the Jugendamt ended the help"),
    "other-help": N_("another kind of help follows"),
    "moved": N_("the family moved away, or another office is responsible"),
    "other": N_("another reason"),
}
OPEN_COMPLAINT = ("new", "in_progress", "waiting", "answered")  # conversations.complaints.rules.OPEN


@dataclass
class Closing:
    """What happened, for the CLI's answer."""

    case: str
    reason: str
    appointments_cancelled: int = 0
    chats_said_goodbye: int = 0
    complaints_kept_open: list[str] = field(default_factory=list)


def close_case(session: Session, services: Services, actor: str, case: Case, reason: str) -> Closing:
    if reason not in REASONS:
        raise AdminError("reason must be one of {reasons}", reasons=", ".join(REASONS))
    if not authz.is_open(case):
        raise AdminError("case {reference} is closed already", reference=case.reference)
    now = services.clock.now()
    result = Closing(case.reference, reason)
    for appointment in session.scalars(select(Appointment).where(
            Appointment.case_id == case.id, Appointment.outcome == Outcome.PLANNED, Appointment.starts_at > now)):
        cancel(session, services, actor, appointment, by_family=False, reason="case closed", tell=False)
        result.appointments_cancelled += 1
    case.closed_at, case.closed_reason = now, reason  # after the cancellations, which still needed an open case
    audit(session, at=now, actor=actor, action="case.closed", object_type="case", object_id=case.id,
          case_id=case.id, reason=reason)
    for member in case.members:
        invites.revoke_unused(session, member, now)
        for chat in chats.chats_of(session, member):
            kept = _keep_for_complaints(session, chat)
            result.complaints_kept_open += kept
            result.chats_said_goodbye += chat.blocked_at is None  # a blocked chat cannot be written to
            chats.unlink(session, chat, now=now, actor=actor, reason="case closed",
                         farewell=goodbye(case, member, kept))
    nachweis.case_closed(session, services, case)  # the month so far follows on the first working day
    _tell_team(session, services, case, reason, result)
    return result


def _keep_for_complaints(session: Session, chat: ChatIdentity) -> list[str]:
    """Open complaints from this chat keep its address, so their answer still reaches it."""
    found = session.scalars(select(Complaint).where(Complaint.relay_identity_id == chat.id,
                                                    Complaint.status.in_(OPEN_COMPLAINT))).all()
    for complaint in found:
        complaint.relay_channel, complaint.relay_address = chat.channel, chat.address
    return [c.reference for c in found if c.reference]


def goodbye(case: Case, member: FamilyMember, open_complaints: list[str]) -> Reply:
    """Thanks, the Träger's contact for later, what happens to an open complaint, and that the chat ends."""
    tr = translator(member.language)
    _ = tr.gettext
    org = case.organisation
    lines = [_("Your family help with {org} has ended. Thank you for your trust and for the time together. "
               "We wish you and your family all the best.").format(org=org.name)]
    if org.phone:
        lines.append(_("If you need help again or have a question, you can reach {org} by phone: {phone} "
                       "({hours}).").format(org=org.name, phone=org.phone, hours=org.phone_hours or "—"))
    for reference in open_complaints:
        lines.append(_("Your complaint {reference} is still being dealt with: the answer will come here, in "
                       "this chat.").format(reference=reference))
    lines.append(chats.neutral_line(tr.lang).text)
    return Reply("\n\n".join(lines))


def _tell_team(session: Session, services: Services, case: Case, reason: str, result: Closing) -> None:
    """The Fachkräfte and the fallführende Fachkraft hear that the help ended, and what stays open."""
    now = services.clock.now()
    people = [*admin.team(case), *admin.team(case, Role.FALLFUEHREND)]

    def render(tr: Translator) -> Reply:
        _ = tr.gettext
        lines = [_("{case} ({ref}) is closed: {reason}. The family has been told goodbye; their chats are "
                   "unlinked and their appointments cancelled.").format(
            case=case.title, ref=case.reference, reason=tr.gettext(REASONS[reason]))]
        if result.complaints_kept_open:
            lines.append(_("Open complaints stay open until answered: {references}").format(
                references=", ".join(result.complaints_kept_open)))
        return Reply("\n".join(lines))

    notify_all(session, people, render, now=now, kind="access.case_closed", not_before=routine_time(services, now))

