"""Deleting on schedule: what is due goes, anonymous counts stay (Art. 5 (1) e DSGVO, § 84 SGB X).

One run (the periodic task, or ``wegbegleiter privacy purge``) does, in one transaction:

1. **Outbox**: files of delivered (or finally failed) messages are deleted after ``OUTBOX_FILE_DAYS``,
   texts after ``OUTBOX_TEXT_DAYS``; a message to a chat that is no longer linked then goes entirely (a chat
   unlinked after that takes its blanked rows with it: :func:`storage.chats.forget_chat`).
2. **Complaints** closed longer ago than their period, with their exchange, files and audit events.
3. **Audit events** that belong to no case, after the audit period (unless about a complaint or an
   escalation that is still kept: those go with it).
4. **Closed cases**, kind by kind (:class:`~conversations.privacy.retention.Kind`): the case data (the
   family's chats, appointments, answers, goals, budget, Nachweis; the members' birth dates and email
   addresses), attendance escalations, child-protection alerts, the case's audit events. The family's
   names and the case reference stay while anything about them is kept (an alert without the name of
   who wrote it would document nothing); when every period has passed and no complaint of the case
   is left, the case goes entirely.

Before rows go, what the Träger's figures need is added to :class:`~storage.models.RetainedFigure`
(counts per year, never a name). A dry run is the same run, rolled back: it shows exactly what would go.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, delete, exists, func, not_, or_, select, update
from sqlalchemy.orm import Session

from conversations.clock import BERLIN
from conversations.context import Services, audit
from conversations.privacy.retention import Kind, Policy, add_years, policy
from conversations.registry import REGISTRY, PeriodicTask
from conversations.settings import Settings
from storage.erase import erase, referencing
from storage.errors import Explained
from storage.models import (
    Appointment,
    AuditEvent,
    Case,
    ChatIdentity,
    Complaint,
    ConversationState,
    Escalation,
    FamilyMember,
    InviteAttempt,
    LinkUse,
    MatrixChoiceMessage,
    Milestone,
    Organisation,
    OutboxAttachment,
    OutboxMessage,
    OutboxStatus,
    RetainedFigure,
    StaffMember,
    TelegramCallback,
    TelegramChatMenu,
)

log = logging.getLogger(__name__)

# Tables whose rows have periods of their own: purging the case data leaves them to their own kind.
OWN_PERIODS = frozenset({"case", "family_member", "escalation", "escalation_notice", "complaint",
                         "complaint_entry", "complaint_file", "audit_event", "retained_figure"})
CASE_KINDS = (Kind.CASE_DATA, Kind.ESCALATIONS, Kind.CHILD_PROTECTION, Kind.AUDIT_LOG)
ESCALATION_KIND = {Kind.ESCALATIONS: "attendance", Kind.CHILD_PROTECTION: "child_protection"}
FINISHED = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.BLOCKED)


@dataclass
class CasePurge:
    reference: str
    closed_at: datetime
    kinds: list[str]
    final: bool
    deleted: Counter[str]


@dataclass
class Report:
    at: datetime
    outbox: Counter[str] = field(default_factory=Counter)
    complaints: list[tuple[str, Counter[str]]] = field(default_factory=list)
    audit_events: int = 0
    cases: list[CasePurge] = field(default_factory=list)
    figures: Counter[tuple[int, int, str, str]] = field(default_factory=Counter)  # (org, year, metric, key)

    @property
    def nothing(self) -> bool:
        return not (sum(self.outbox.values()) or self.complaints or self.audit_events or self.cases)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "outbox": dict(self.outbox),
            "complaints": [{"reference": ref, "deleted": dict(rows)} for ref, rows in self.complaints],
            "audit_events_without_case": self.audit_events,
            "cases": [{"reference": c.reference, "closed_at": c.closed_at.isoformat(), "kinds": c.kinds,
                       "case_deleted": c.final, "deleted": dict(c.deleted)} for c in self.cases],
            "figures_kept": [{"organisation": org, "year": year, "metric": metric, "key": key, "count": n}
                             for (org, year, metric, key), n in sorted(self.figures.items())],
        }


def year_of(moment: datetime) -> int:
    return moment.astimezone(BERLIN).year


# --- the outbox --------------------------------------------------------------------------------------
def tidy_outbox(session: Session, settings: Settings, now: datetime, counts: Counter[str]) -> None:
    """Delivered files after a few days, delivered texts after a month (reasons in the README).

    Only rows whose text is still there are read (``blanked_at IS NULL``, their own index): the history
    already blanked is never read again, so an hourly run costs what became due since the last one."""
    finished = OutboxMessage.status.in_(FINISHED)

    def done_before(days: int) -> Any:
        cutoff = now - timedelta(days=days)
        # A message is created before it is sent: the bound on created_at lets ix_outbox_to_blank find them.
        return and_(OutboxMessage.blanked_at.is_(None), OutboxMessage.created_at < cutoff, finished,
                    func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < cutoff)

    # From the files kept (a few days' worth), each looking up its message.
    old_files = exists().where(OutboxMessage.id == OutboxAttachment.outbox_id, done_before(settings.outbox_file_days))
    counts["files"] += session.execute(delete(OutboxAttachment).where(old_files)).rowcount or 0
    text_due = done_before(settings.outbox_text_days)
    linked = exists().where(ChatIdentity.channel == OutboxMessage.channel, ChatIdentity.address == OutboxMessage.address)
    staff_email = exists().where(OutboxMessage.channel == "email", StaffMember.email == OutboxMessage.address)
    # A chat unlinked later loses its blanked rows then (storage.chats.forget_chat).
    gone = select(OutboxMessage.id).where(text_due, not_(linked), not_(staff_email))
    counts["messages"] += erase(session, OutboxMessage.__table__, OutboxMessage.id.in_(gone), Counter())
    blank = update(OutboxMessage).where(text_due)
    counts["texts"] += session.execute(
        blank.where(or_(OutboxMessage.text != "", OutboxMessage.subject.is_not(None)))
        .values(text="", subject=None, choices=[], last_error=None, blanked_at=now)).rowcount or 0
    # the rest had no text to delete (or lost it before blanked_at was kept): marked, not read again
    session.execute(blank.values(choices=[], last_error=None, blanked_at=now))
    # Used signed links are remembered only while they could still be opened (bot.web.links).
    session.execute(delete(LinkUse).where(LinkUse.used_at < now - timedelta(days=settings.link_ttl_days)))


# --- complaints and audit events without a case ------------------------------------------------------
def about(object_type: str, ids: Any) -> Any:
    return and_(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(ids))


def purge_complaints(session: Session, services: Services, now: datetime, report: Report) -> None:
    for complaint in session.scalars(select(Complaint).where(Complaint.closed_at.is_not(None))
                                     .order_by(Complaint.id)):
        rules = organisation_policy(session, services.settings, complaint.organisation_id)
        if rules.due(Kind.COMPLAINTS, complaint.closed_at) > now:  # type: ignore[arg-type]
            continue
        year = year_of(complaint.submitted_at or complaint.created_at)
        report.figures[(complaint.organisation_id, year, "complaints", complaint.category)] += 1
        report.figures[(complaint.organisation_id, year, "complaint_outcomes", complaint.outcome or "")] += 1
        deleted: Counter[str] = Counter()
        erase(session, AuditEvent.__table__, about("complaint", [str(complaint.id)]), deleted)
        erase(session, Complaint.__table__, Complaint.id == complaint.id, deleted, keep=OWN_PERIODS - {
            "complaint", "complaint_entry", "complaint_file"})
        report.complaints.append((complaint.reference or f"#{complaint.id}", deleted))


def kept_objects() -> Any:
    """Audit events about a complaint or escalation that still exists are kept with it."""
    return or_(about("complaint", select(cast(Complaint.id, String))),
               about("escalation", select(cast(Escalation.id, String))))


def purge_audit_without_case(session: Session, settings: Settings, now: datetime, report: Report) -> None:
    cutoff = add_years(now, -settings.retention_audit_years)
    report.audit_events += session.execute(delete(AuditEvent).where(
        AuditEvent.case_id.is_(None), AuditEvent.at < cutoff, not_(kept_objects())),
    ).rowcount or 0


# --- cases -------------------------------------------------------------------------------------------
def organisation_policy(session: Session, settings: Settings, organisation_id: int) -> Policy:
    org = session.get(Organisation, organisation_id)
    return policy(settings, org.settings if org else None)


def member_chats(session: Session, case: Case) -> list[tuple[str, str]]:
    return [(c.channel, c.address) for c in session.scalars(
        select(ChatIdentity).join(FamilyMember, ChatIdentity.member_id == FamilyMember.id)
        .where(FamilyMember.case_id == case.id))]


def chat_rows(channel: str, address: str) -> Iterator[tuple[Any, Any]]:
    """Rows kept by chat address (no foreign key to the person): the outbox and the networks' bookkeeping."""
    yield OutboxMessage, and_(OutboxMessage.channel == channel, OutboxMessage.address == address)
    yield ConversationState, and_(ConversationState.channel == channel, ConversationState.address == address)
    yield InviteAttempt, and_(InviteAttempt.channel == channel, InviteAttempt.address == address)
    if channel == "telegram":
        yield TelegramCallback, TelegramCallback.address == address
        yield TelegramChatMenu, TelegramChatMenu.address == address
    if channel == "matrix":
        yield MatrixChoiceMessage, MatrixChoiceMessage.address == address


def tables_pointing_at(model: Any) -> list[Any]:
    return [(child, fk) for child, fk in referencing(model.__table__) if child.name not in OWN_PERIODS]


def purge_case_data(session: Session, case: Case, deleted: Counter[str], report: Report) -> None:
    org = case.organisation_id
    for appointment in session.scalars(select(Appointment).where(Appointment.case_id == case.id)):
        year = year_of(appointment.starts_at)
        report.figures[(org, year, "appointments", appointment.outcome)] += 1
        if appointment.outcome == "took_place":
            minutes = appointment.actual_minutes if appointment.actual_minutes is not None else appointment.duration_minutes
            report.figures[(org, year, "minutes_delivered", appointment.kind)] += minutes
    for milestone in session.scalars(select(Milestone).where(Milestone.case_id == case.id)):
        report.figures[(org, year_of(milestone.appointment.starts_at), "milestones", "")] += 1
    members = list(case.members)
    chats = member_chats(session, case)
    emails = [m.email for m in members if m.email]
    for channel, address in chats + [("email", e) for e in emails]:
        for model, where in chat_rows(channel, address):
            erase(session, model.__table__, where, deleted)
    member_ids = [m.id for m in members]
    for child, fk in tables_pointing_at(Case):
        erase(session, child, fk.parent == case.id, deleted, keep=OWN_PERIODS)
    for child, fk in tables_pointing_at(FamilyMember):
        erase(session, child, fk.parent.in_(member_ids), deleted, keep=OWN_PERIODS)
    for member in members:  # the names stay while an alert or complaint needs them; nothing else does
        if member.birth_date or member.email or member.consent_at:
            member.birth_date = member.email = member.consent_at = None
            deleted["family_member (birth date, email)"] += 1


def purge_escalations(session: Session, case: Case, kind: Kind, deleted: Counter[str], report: Report) -> None:
    which = and_(Escalation.case_id == case.id, Escalation.kind == ESCALATION_KIND[kind])
    for escalation in session.scalars(select(Escalation).where(which)):
        report.figures[(case.organisation_id, year_of(escalation.created_at), kind.value, "")] += 1
    ids = [str(i) for i in session.scalars(select(Escalation.id).where(which))]
    erase(session, AuditEvent.__table__, about("escalation", ids), deleted)
    erase(session, Escalation.__table__, which, deleted, keep=OWN_PERIODS - {"escalation", "escalation_notice"})


def purge_case_audit(session: Session, case: Case, deleted: Counter[str]) -> None:
    erase(session, AuditEvent.__table__, and_(AuditEvent.case_id == case.id, not_(kept_objects())), deleted)


def purge_case_entirely(session: Session, case: Case, deleted: Counter[str], report: Report) -> None:
    org = case.organisation_id
    help_type = case.help_type or ""
    started = case.started_on.year if case.started_on else year_of(case.created_at)
    report.figures[(org, started, "cases_started", help_type)] += 1
    report.figures[(org, year_of(case.closed_at), "cases_closed", help_type)] += 1  # type: ignore[arg-type]
    for member in case.members:
        report.figures[(org, year_of(case.closed_at), "family_members", member.kind)] += 1  # type: ignore[arg-type]
    for loaded in (*case.members, case):  # deleted below by SQL: the session must not write them back
        session.expunge(loaded)
    erase(session, FamilyMember.__table__, FamilyMember.case_id == case.id, deleted)
    erase(session, Case.__table__, Case.id == case.id, deleted)


def purge_case(session: Session, services: Services, case: Case, now: datetime, report: Report,
               *, early: frozenset[Kind] = frozenset(), actor: str = "system") -> None:
    """What is due of a closed case; ``early`` kinds go now whatever their period (an erasure request)."""
    rules = organisation_policy(session, services.settings, case.organisation_id)
    case_id, closed = case.id, case.closed_at
    assert closed is not None
    done = dict(case.purged or {})
    deleted: Counter[str] = Counter()
    kinds = []
    for kind in CASE_KINDS:
        if kind.value in done or (kind not in early and rules.due(kind, closed) > now):
            continue
        if kind == Kind.CASE_DATA:
            purge_case_data(session, case, deleted, report)
        elif kind == Kind.AUDIT_LOG:
            purge_case_audit(session, case, deleted)
        else:
            purge_escalations(session, case, kind, deleted, report)
        done[kind.value] = now.isoformat()
        kinds.append(kind.value)
    # (asked only when every kind is done: the hourly run walks every closed case still kept)
    final = all(k.value in done for k in CASE_KINDS) and not session.scalar(
        select(func.count()).select_from(Complaint).where(Complaint.case_id == case.id))
    if not kinds and not final:
        return
    record = CasePurge(case.reference, closed, kinds, final, deleted)
    case.purged = done
    session.flush()
    if final:
        purge_case_entirely(session, case, deleted, report)
    report.cases.append(record)
    audit(session, at=now, actor=actor, action="privacy.purged", object_type="case", object_id=case_id,
          kinds=kinds, case_deleted=final, rows=sum(deleted.values()), early=sorted(k.value for k in early))


# --- a whole run -------------------------------------------------------------------------------------
def keep_figures(session: Session, figures: Counter[tuple[int, int, str, str]]) -> None:
    for (org, year, metric, key), count in figures.items():
        row = session.scalar(select(RetainedFigure).where(
            RetainedFigure.organisation_id == org, RetainedFigure.year == year, RetainedFigure.metric == metric,
            RetainedFigure.key == key))
        if row is None:
            session.add(RetainedFigure(organisation_id=org, year=year, metric=metric, key=key, count=count))
        else:
            row.count += count


def purge(session: Session, services: Services) -> Report:
    """Delete (or blank) everything that is due now; the caller commits, or rolls back for a dry run."""
    now = services.clock.now()
    report = Report(at=now)
    tidy_outbox(session, services.settings, now, report.outbox)
    purge_complaints(session, services, now, report)
    purge_audit_without_case(session, services.settings, now, report)
    for case in list(session.scalars(select(Case).where(Case.closed_at.is_not(None)).order_by(Case.id))):
        purge_case(session, services, case, now, report)
    keep_figures(session, report.figures)
    return report


class EarlyErasure(Explained):
    """An erasure before the period ends was refused; the message says why."""


def erase_now(services: Services, reference: str, kinds: list[Kind], *, actor: str, dry_run: bool = False) -> Report:
    """Delete these kinds of one closed case now, before their period ends: for an erasure request (Art. 17
    DSGVO) where no duty to keep applies. The Träger decides that; Wegbegleiter only refuses an open case."""
    with services.sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        if case is None:
            raise EarlyErasure("no case {ref!r} (give its reference, e.g. F-2027-0001)", ref=reference)
        if case.closed_at is None:
            raise EarlyErasure("case {ref} is still open: close it first (case close)", ref=reference)
        wrong = [k for k in kinds if k not in CASE_KINDS]
        if wrong:
            raise EarlyErasure("give what to delete: {kinds}", kinds=", ".join(k.value for k in CASE_KINDS))
        report = Report(at=services.clock.now())
        purge_case(session, services, case, report.at, report, early=frozenset(kinds), actor=actor)
        keep_figures(session, report.figures)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


def run(services: Services, *, dry_run: bool = False) -> Report:
    with services.sessions() as session:
        report = purge(session, services)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


def scheduled(services: Services) -> None:
    report = run(services)
    if not report.nothing:
        log.info("privacy purge: %s", report.as_dict())


REGISTRY.tasks["privacy-purge"] = PeriodicTask("privacy-purge", 3600, scheduled)
