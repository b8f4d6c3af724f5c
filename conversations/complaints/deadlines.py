"""Deadlines: an overdue complaint reminds its officer and tells the Leitung, once per deadline.

Each notice carries a unique dedupe key (complaint, deadline, person), so the scan may run as often, as
late or on as many instances as it likes. Unfinished drafts are deleted after ``DRAFT_LIFETIME``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from conversations.complaints import procedure, rules
from conversations.complaints.rules import Status
from conversations.context import Services
from conversations.i18n import Translator
from conversations.messages import Choice, Reply
from conversations.registry import REGISTRY, PeriodicTask
from storage.models import OutboxAttachment, OutboxMessage, OutboxStatus
from storage.models.complaints import Complaint

DRAFT_LIFETIME = timedelta(days=2)


def _remind(session: Session, services: Services, complaint: Complaint, deadline: str, due: datetime,
            now: datetime) -> None:
    officers = procedure._assignee_or_handlers(session, complaint)

    def reminder(tr: Translator) -> Reply:
        text = (tr.gettext("Reminder: complaint {reference} has not been taken up yet. It was due on {when}.")
                if deadline == "take_up" else
                tr.gettext("Reminder: complaint {reference} has not been answered yet. The answer was due on {when}."))
        return Reply(text.format(reference=complaint.reference, when=tr.when(due)),
                     procedure.officer_choices(tr, complaint))

    def notice(tr: Translator) -> Reply:
        text = (tr.gettext("For the Leitung: complaint {reference} was not taken up in time (due {when}).")
                if deadline == "take_up" else
                tr.gettext("For the Leitung: complaint {reference} was not answered in time (due {when})."))
        handled = (tr.gettext("Handled by: {name}").format(name=complaint.officer.name) if complaint.officer
                   else tr.gettext("Nobody has taken it over yet."))
        return Reply(text.format(reference=complaint.reference, when=tr.when(due)) + "\n" + handled,
                     [Choice(tr.gettext("Show"), f"act:complaint_show:{complaint.id}")])

    key = f"complaint:{complaint.id}:overdue:{deadline}"
    procedure.tell_staff(session, services, officers, reminder, now, kind="complaint.overdue", dedupe_key=key)
    reminded = {o.id for o in officers}
    bosses = [p for p in rules.leitung(session, complaint) if p.id not in reminded]
    procedure.tell_staff(session, services, bosses, notice, now, kind="complaint.overdue",
                         dedupe_key=f"{key}:leitung")
    procedure.log(session, now, "system", "complaint.overdue", complaint, deadline=deadline)


def scan(services: Services) -> None:
    now = services.clock.now()
    with services.sessions.begin() as session:
        late = session.scalars(select(Complaint).where(
            Complaint.status.in_([s.value for s in rules.UNANSWERED]),
            Complaint.answer_due.is_not(None)).order_by(Complaint.id)).all()
        for complaint in late:
            for deadline, due, open_ in (
                ("take_up", complaint.take_up_due, complaint.taken_at is None),
                ("answer", complaint.answer_due, complaint.status in rules.UNANSWERED),
            ):
                if open_ and due is not None and due <= now and not _reported(session, complaint, deadline):
                    _remind(session, services, complaint, deadline, due, now)
        for draft in session.scalars(select(Complaint).where(Complaint.status == Status.DRAFT,
                                                             Complaint.created_at < now - DRAFT_LIFETIME)).all():
            session.delete(draft)
        forget_delivered_files(session)


def forget_delivered_files(session: Session) -> None:
    """Complaint files are encrypted at rest; their copies in delivered outbox messages are not: drop them."""
    done = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.BLOCKED)
    # Driven by the (few) attachments still stored, each message looked up by its key: the outbox's
    # history is never scanned.
    delivered = exists().where(OutboxMessage.id == OutboxAttachment.outbox_id,
                               OutboxMessage.kind.in_(procedure.FILE_KINDS),
                               OutboxMessage.status.in_([s.value for s in done]))
    session.execute(delete(OutboxAttachment).where(delivered))


def _reported(session: Session, complaint: Complaint, deadline: str) -> bool:
    """Reported once already (the audit event is the record; the dedupe keys guard the messages too)."""
    from storage.models import AuditEvent

    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.object_type == "complaint", AuditEvent.object_id == str(complaint.id),
        AuditEvent.action == "complaint.overdue", AuditEvent.detail["deadline"].as_string() == deadline,
    ).limit(1)) is not None


REGISTRY.tasks["complaint_deadlines"] = PeriodicTask("complaint_deadlines", 600, scan)
