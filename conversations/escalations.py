"""Escalations that are never lost: three appointments without participation (DOMAIN.md § 5), and the
shared machinery child-protection alerts use (:mod:`conversations.child_protection`).

An escalation is a row with a unique key, written in the same transaction as its cause (the recorded
outcome, the family's message) together with its outbox messages. So a restart between the cause and
the delivery still delivers, exactly once; a second scan or a second instance finds the key and stops.
It stays open until a person acknowledges it: by the button in the chat, a signed link in the email
(:mod:`bot.web.links`), or the CLI. An attendance escalation not acknowledged in time (default one working day)
is sent again, and the Träger's Leitung is told (working days without the Bundesland's public holidays).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conversations import admin, authz
from conversations.appointments import facts
from conversations.context import Context, Services, audit
from conversations.i18n import N_, Translator, translator
from conversations.messages import Choice, Reply
from conversations.outbox import notify
from conversations.registry import REGISTRY, Action, Audience, Command, PeriodicTask
from conversations.rules.attendance import (
    AttendanceRule,
    Situation,
    escalation_due,
    situation,
)
from conversations.rules.quiet_hours import QuietHours
from conversations.rules.working_days import calendar_of
from storage.models import (
    Appointment,
    Case,
    Escalation,
    EscalationNotice,
    Organisation,
    OutboxMessage,
    Role,
    StaffMember,
    StaffRole,
)

log = logging.getLogger(__name__)

ATTENDANCE = "attendance"
CHILD_PROTECTION = "child_protection"
ACK_ACTION = "esc_ack"  # act:esc_ack:<escalation id>; bot.web turns it into a signed link in emails

SITUATION_TEXT = {
    Situation.NO_SHOW: N_("the appointment did not take place, nobody was there"),
    Situation.LATE_FAMILY_CANCELLATION: N_("cancelled by the family at short notice"),
    Situation.FAMILY_CANCELLATION_TIME_UNKNOWN: N_("cancelled by the family, time of cancellation not recorded"),
    Situation.EARLY_FAMILY_CANCELLATION: N_("cancelled by the family well ahead"),
    Situation.PROVIDER_CANCELLATION: N_("cancelled by the provider"),
    Situation.TOOK_PLACE: N_("took place"),
    Situation.PLANNED: N_("not recorded yet"),
}


# --- who is responsible -----------------------------------------------------------------------
def leitung(session: Session, org: Organisation) -> list[StaffMember]:
    """The Träger's Leitung: active staff of the organisation holding the role."""
    return list(session.scalars(
        select(StaffMember).join(StaffRole)
        .where(StaffMember.organisation_id == org.id, StaffMember.active.is_(True), StaffRole.role == Role.LEITUNG)
        .order_by(StaffMember.id)
    ))


def contact_lines(tr: Translator, staff: Iterable[StaffMember]) -> list[str]:
    lines = []
    for person in staff:
        ways = [w for w in (person.phone, person.email) if w]
        lines.append(f"• {person.name}" + (f", {', '.join(ways)}" if ways else ""))
    return lines or ["• " + tr.gettext("(no Fachkraft assigned yet)")]


# --- writing notifications with their history ---------------------------------------------------
def tell(
    session: Session,
    escalation: Escalation,
    people: Iterable[StaffMember],
    purpose: str,
    render: Callable[[Translator], Reply],
    *,
    now: datetime,
    subject: Callable[[Translator], str] | None = None,
    email: bool | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
    must_reach: bool = False,
) -> list[OutboxMessage]:
    """Notify each person once for this purpose and record who was told, when, and by which way.

    ``must_reach``: the escalation itself (not a note about it). If it reaches nobody (no chat, no email
    among all of ``people``), that is an ERROR line for the operator: someone must act on it by hand.
    """
    written: list[OutboxMessage] = []
    people = list(people)
    # One message per person, even if they hold two roles; nobody who has left the Träger.
    for person in dict.fromkeys(p for p in people if p.active):
        messages = notify(session, person, render, now=now, kind=f"escalation.{purpose}",
                          dedupe_key=f"escalation:{escalation.id}:{purpose}:{person.id}", urgent=urgent,
                          not_before=not_before, email=email, subject=subject)
        for message in messages:
            escalation.notices.append(EscalationNotice(staff=person, purpose=purpose,
                                                       channel=message.channel, outbox=message, at=now))
        if not messages:
            log.warning("escalation %s: %s (staff %s) has no chat and no email", escalation.id, person.name,
                        person.id)
        written += messages
    if must_reach and not written:
        log.error("escalation %s (%s, case %s) reached nobody: none of %s has a chat or an email address",
                  escalation.id, escalation.kind, escalation.case.reference if escalation.case else "?",
                  ", ".join(f"{p.name} (staff {p.id})" for p in people) or "nobody responsible",
                  extra={"fields": {"escalation": escalation.id, "kind": escalation.kind, "purpose": purpose}})
    return written


def create(session: Session, escalation: Escalation) -> Escalation | None:
    """Insert a new escalation; None if its key exists (another scan or instance was first)."""
    if session.scalar(select(Escalation.id).where(Escalation.key == escalation.key)):
        return None
    try:
        with session.begin_nested():
            session.add(escalation)
            session.flush()
    except IntegrityError:
        return None
    return escalation


def ack_choice(tr: Translator, escalation: Escalation) -> Choice:
    label = N_("Confirm receipt") if escalation.kind == ATTENDANCE else N_("Mark as handled")
    return Choice(tr.gettext(label), f"act:{ACK_ACTION}:{escalation.id}")


# --- three appointments without participation --------------------------------------------------
def rule_for(org: Organisation) -> AttendanceRule:
    try:
        return AttendanceRule.from_settings((org.settings or {}).get("attendance"))
    except (ValueError, TypeError):
        # A broken setting must not silence the escalation: use the documented default and say so.
        log.exception("organisation %s: invalid attendance settings; using the default rule", org.id)
        return AttendanceRule()


def on_outcome(session: Session, services: Services, appointment: Appointment) -> None:
    """Outcome listener: on the streak's third appointment, escalate (once per streak)."""
    case = session.get(Case, appointment.case_id)
    assert case is not None
    rule = rule_for(case.organisation)
    appointments = list(session.scalars(
        select(Appointment).where(Appointment.case_id == case.id).order_by(Appointment.starts_at, Appointment.id)))
    history = [facts(a) for a in appointments]
    changed = next(i for i, a in enumerate(appointments) if a.id == appointment.id)
    streak = escalation_due(history, rule, changed)
    if streak is None:
        return
    # The streak is named after its first appointment: a fourth miss continues the same streak (no
    # second escalation); after an appointment that took place, a new streak has a new first one.
    first = appointments[streak[0]]
    now = services.clock.now()
    shown = streak[:rule.streak_length]
    escalation = create(session, Escalation(
        kind=ATTENDANCE, key=f"attendance:{case.id}:{first.id}", case_id=case.id, created_at=now,
        facts={"appointments": [
            {"id": appointments[i].id, "starts_at": appointments[i].starts_at.isoformat(),
             "outcome": appointments[i].outcome, "situation": situation(history[i], rule).value}
            for i in shown]},
    ))
    if escalation is None:
        return
    audit(session, at=now, actor="system", action="escalation.created", object_type="escalation",
          object_id=escalation.id, case_id=case.id, kind=ATTENDANCE)
    send_at = QuietHours.parse(services.settings.quiet_hours).next_allowed(now)
    escalation.due_at = calendar_of(case.organisation).add_working_days(send_at, rule.acknowledge_within_working_days)
    notify_attendance(session, escalation, now=now, send_at=send_at)


def _streak_lines(tr: Translator, escalation: Escalation) -> list[str]:
    lines = []
    for item in escalation.facts.get("appointments", []):
        when = tr.when(datetime.fromisoformat(item["starts_at"]))
        lines.append(f"• {when} – {tr.gettext(SITUATION_TEXT[Situation(item['situation'])])}")
    return lines


def attendance_subject(escalation: Escalation) -> Callable[[Translator], str]:
    return lambda tr: tr.gettext("Appointments without participation – case {ref}").format(
        ref=escalation.case.reference)


def attendance_message(escalation: Escalation, *, reminder: bool = False) -> Callable[[Translator], Reply]:
    """For the fallführende Fachkraft: only what she needs (reference, dates, what happened, contacts)."""
    case = escalation.case

    def render(tr: Translator) -> Reply:
        _ = tr.gettext
        count = len(escalation.facts.get("appointments", []))
        lines = []
        if reminder:
            lines += [_("Reminder: this message has not been confirmed yet."), ""]
        lines += [
            _("Case {ref} ({org}): the family did not take part in the last {count} agreed appointments.").format(
                ref=case.reference, org=case.organisation.name, count=count),
            *_streak_lines(tr, escalation),
            "",
            _("As the service agreement asks, we let you know without delay. "
              "For questions, please contact the Fachkräfte of the case:"),
            *contact_lines(tr, admin.team(case)),
            *([f"• {case.organisation.name}: {case.organisation.phone}"] if case.organisation.phone else []),
            "",
            _("Please confirm that you received this message."),
        ]
        return Reply("\n".join(lines), [ack_choice(tr, escalation)])

    return render


def notify_attendance(session: Session, escalation: Escalation, *, now: datetime, send_at: datetime) -> None:
    case = escalation.case
    recipients = admin.team(case, Role.FALLFUEHREND)
    sent = tell(session, escalation, recipients, "notify", attendance_message(escalation), now=now,
                subject=attendance_subject(escalation), email=True, not_before=send_at)
    if not sent:
        log.error("escalation %s (attendance, case %s): no fallführende Fachkraft can be reached; telling "
                  "the Leitung", escalation.id, case.reference)
    team = admin.team(case)
    names = ", ".join(p.name for p in recipients)

    def team_info(tr: Translator) -> Reply:
        _ = tr.gettext
        if sent:
            # "did not take part", never "took place without the family": the streak holds cancellations too.
            head = _("Case {ref} ({title}): the family did not take part in the last {count} agreed appointments. "
                     "{names} (fallführende Fachkraft) has been informed, as the service agreement requires.")
        else:
            head = _("Case {ref} ({title}): the family did not take part in the last {count} agreed appointments. "
                     "Wegbegleiter could not inform the fallführende Fachkraft (none assigned, or no way to "
                     "reach her or him). Please inform the Jugendamt yourselves.")
        text = head.format(ref=case.reference, title=case.title, names=names,
                           count=len(escalation.facts.get("appointments", [])))
        return Reply("\n".join([text, *_streak_lines(tr, escalation), "",
                                _("Nothing changes for the family: their reminders stay as kind as always.")]))

    tell(session, escalation, team, "team", team_info, now=now, not_before=send_at)
    if not sent:
        tell(session, escalation, leitung(session, case.organisation), "leitung", team_info, now=now,
             not_before=send_at, subject=attendance_subject(escalation), must_reach=True)


def remind_attendance(session: Session, escalation: Escalation, now: datetime) -> None:
    """Sent again to the fallführende Fachkraft; the Leitung is told."""
    case = escalation.case
    recipients = admin.team(case, Role.FALLFUEHREND)
    tell(session, escalation, recipients, "reminder", attendance_message(escalation, reminder=True),
         now=now, subject=attendance_subject(escalation), email=True)
    first_sent = min((n.at for n in escalation.notices if n.purpose == "notify"), default=escalation.created_at)

    def to_leitung(tr: Translator) -> Reply:
        _ = tr.gettext
        text = _("Case {ref} ({title}): the message to the fallführende Fachkraft ({names}) about "
                 "{count} appointments without participation, sent on {when}, has not been confirmed "
                 "yet. Please make sure it has reached the Jugendamt.").format(
            ref=case.reference, title=case.title, names=", ".join(p.name for p in recipients) or "—",
            count=len(escalation.facts.get("appointments", [])), when=tr.when(first_sent))
        return Reply("\n".join([text, *_streak_lines(tr, escalation)]), [ack_choice(tr, escalation)])

    tell(session, escalation, leitung(session, case.organisation), "leitung", to_leitung, now=now,
         subject=attendance_subject(escalation), must_reach=True)


# What happens when an escalation of a kind is still open at its ``due_at`` (once per escalation).
REMINDERS: dict[str, Callable[[Session, Escalation, datetime], None]] = {ATTENDANCE: remind_attendance}


def remind_unacknowledged(services: Services) -> None:
    """Periodic task: an escalation still open when it is due is sent again, and the Leitung told (once)."""
    now = services.clock.now()
    with services.sessions.begin() as session:
        overdue = session.scalars(
            select(Escalation).where(Escalation.kind.in_(list(REMINDERS)), Escalation.acknowledged_at.is_(None),
                                     Escalation.reminded_at.is_(None), Escalation.due_at <= now)
            .order_by(Escalation.id).limit(200)
        ).all()
        for escalation in overdue:
            escalation.reminded_at = now
            REMINDERS[escalation.kind](session, escalation, now)
            audit(session, at=now, actor="system", action="escalation.reminded", object_type="escalation",
                  object_id=escalation.id, case_id=escalation.case_id)


# --- acknowledging -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Acknowledged:
    escalation: Escalation
    already: bool  # someone acknowledged it before


def acknowledge(session: Session, escalation: Escalation, staff: StaffMember, *, via: str, now: datetime,
                note: str | None = None) -> Acknowledged:
    """Close an escalation in the name of ``staff`` and tell the others who were told about it."""
    if escalation.acknowledged_at is not None:
        return Acknowledged(escalation, already=True)
    escalation.acknowledged_at = now
    escalation.acknowledged_by = staff.id
    escalation.acknowledger = staff
    escalation.acknowledged_via = via
    escalation.note = note
    audit(session, at=now, actor=f"staff:{staff.id}", action="escalation.acknowledged", object_type="escalation",
          object_id=escalation.id, case_id=escalation.case_id, via=via)
    others = [n.staff for n in escalation.notices if n.staff_id != staff.id and n.purpose != "closed"]
    when = now

    def closed(tr: Translator) -> Reply:
        _ = tr.gettext
        if escalation.kind == ATTENDANCE:
            text = _("Case {ref}: {name} confirmed receipt of the message about appointments without "
                     "participation ({when}).")
        else:
            text = _("Case {ref}: {name} marked the alert as handled ({when}).")
        return Reply(text.format(ref=escalation.case.reference, name=staff.name, when=tr.when(when)))

    tell(session, escalation, others, "closed", closed, now=now)
    return Acknowledged(escalation, already=False)


def on_ack_button(ctx: Context, arg: str) -> None:
    _ = ctx._
    staff = ctx.staff
    escalation = ctx.session.get(Escalation, int(arg)) if arg.isdigit() else None
    if staff is None or escalation is None or not authz.may_close_escalation(ctx.principal, escalation):
        ctx.say(_("That button is no longer valid. Nothing was changed."))
    else:
        result = acknowledge(ctx.session, escalation, staff, via="chat", now=ctx.now)
        ctx.say(already_text(ctx.tr, escalation) if result.already
                else _("Thank you. Recorded on {when}.").format(when=ctx.tr.when(ctx.now)))
    ctx.resume()


def already_text(tr: Translator, escalation: Escalation) -> str:
    who = escalation.acknowledger.name if escalation.acknowledger else "—"
    assert escalation.acknowledged_at is not None
    return tr.gettext("This was already confirmed by {name} on {when}.").format(
        name=who, when=tr.when(escalation.acknowledged_at))


@dataclass(frozen=True)
class LinkPage:
    lang: str
    text: str
    button: str | None  # the label of the confirming button, or None when there is nothing to confirm


def acknowledge_by_link(session: Session, services: Services, escalation_id: int, outbox_id: int,
                        *, confirm: bool) -> LinkPage | None:
    """For the web endpoint: what the page says, and whether it asks for the confirming click.

    The signed link names the email (outbox message) it was sent in; its recipient is who confirms.
    None if the link does not belong to this escalation.
    """
    notice = session.scalar(select(EscalationNotice).where(
        EscalationNotice.escalation_id == escalation_id, EscalationNotice.outbox_id == outbox_id))
    if notice is None:
        return None
    escalation, staff = notice.escalation, notice.staff
    if not authz.may_close_escalation(authz.as_staff(staff), escalation):
        return None  # sent to someone who has left the case (or the Träger) since
    tr = translator(staff.language)
    _ = tr.gettext
    if escalation.acknowledged_at is not None:
        return LinkPage(tr.lang, already_text(tr, escalation), None)
    if not confirm:
        question = (_("Case {ref}: please confirm that you received the message.") if escalation.kind == ATTENDANCE
                    else _("Case {ref}: has someone taken on this alert?"))
        return LinkPage(tr.lang, question.format(ref=escalation.case.reference), ack_choice(tr, escalation).label)
    now = services.clock.now()
    acknowledge(session, escalation, staff, via="email-link", now=now)
    return LinkPage(tr.lang, _("Thank you, {name}. Recorded on {when}.").format(name=staff.name, when=tr.when(now)),
                    None)


# --- history (CLI) ----------------------------------------------------------------------------------
def history(session: Session, *, kind: str | None = None, case: Case | None = None,
            open_only: bool = False) -> list[dict[str, object]]:
    query = select(Escalation).order_by(Escalation.id)
    if kind:
        query = query.where(Escalation.kind == kind)
    if case is not None:
        query = query.where(Escalation.case_id == case.id)
    if open_only:
        query = query.where(Escalation.acknowledged_at.is_(None))
    return [describe(e) for e in session.scalars(query)]


def describe(escalation: Escalation) -> dict[str, object]:
    return {
        "id": escalation.id,
        "kind": escalation.kind,
        "case": escalation.case.reference,
        "created_at": escalation.created_at.isoformat(),
        "due_at": escalation.due_at.isoformat() if escalation.due_at else None,
        "reminded_at": escalation.reminded_at.isoformat() if escalation.reminded_at else None,
        "facts": escalation.facts,
        "acknowledged": None if escalation.acknowledged_at is None else {
            "at": escalation.acknowledged_at.isoformat(),
            "by": escalation.acknowledger.name if escalation.acknowledger else None,
            "via": escalation.acknowledged_via,
        },
        "told": [
            {"to": n.staff.name, "purpose": n.purpose, "channel": n.channel, "queued_at": n.at.isoformat(),
             "status": n.outbox.status if n.outbox else None,
             "sent_at": n.outbox.sent_at.isoformat() if n.outbox and n.outbox.sent_at else None}
            for n in escalation.notices
        ],
    }


OPEN_SHOWN = 10  # /offen shows the oldest ten; `alerts list --open` shows all


def show_open(ctx: Context, _arg: str) -> None:
    """/offen for staff: what is still open for them, each with its button (a missed message is not lost)."""
    _ = ctx._
    staff = ctx.staff
    assert staff is not None
    query = select(Escalation).where(Escalation.acknowledged_at.is_(None)).order_by(Escalation.id)
    if not staff.has_role(Role.LEITUNG):  # only narrows the search; the rule decides below
        query = query.where(Escalation.case_id.in_({a.case_id for a in staff.assignments if a.until is None}))
    mine = [e for e in ctx.session.scalars(query) if authz.may_close_escalation(ctx.principal, e)][:OPEN_SHOWN]
    if not mine:
        ctx.say(_("Nothing is open for you."))
    replies = [open_message(e)(ctx.tr) for e in mine]
    if len(mine) == 1:
        ctx.say(replies[0].text, replies[0].choices)
    elif mine:
        # One list at the end, each option naming its case and time: a button under every message would
        # give each its own "1" on Matrix and in the console.
        for reply in replies:
            ctx.say(reply.text)
        ctx.say(_("Which of these has been taken care of?"),
                [Choice(f"{e.case.reference}, {ctx.tr.when(e.created_at)}: {ack_choice(ctx.tr, e).label}",
                        ack_choice(ctx.tr, e).payload) for e in mine])
    ctx.audit("escalation.listed", "escalation", None, count=len(mine))
    ctx.resume()


def open_message(escalation: Escalation) -> Callable[[Translator], Reply]:
    """An open escalation or alert as it shows itself again (/offen, a handover), with its button."""
    return attendance_message(escalation) if escalation.kind == ATTENDANCE else REMINDER_TEXTS[escalation.kind](escalation)


# How an open escalation of another kind shows itself again (child protection registers its alert text).
REMINDER_TEXTS: dict[str, Callable[[Escalation], Callable[[Translator], Reply]]] = {}

REGISTRY.command(Command("open_escalations", {"de": "offen", "en": "open"}, N_("Open alerts and escalations"),
                         show_open, Audience.STAFF))
REGISTRY.outcome_listeners.append(on_outcome)
REGISTRY.action(Action(ACK_ACTION, on_ack_button, Audience.STAFF))
REGISTRY.tasks["escalation_reminders"] = PeriodicTask("escalation_reminders", 300, remind_unacknowledged)
