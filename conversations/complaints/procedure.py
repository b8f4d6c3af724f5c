"""The complaint procedure's steps: send, take over, ask, reply, answer, close, rate.

Each step changes the complaint in the caller's transaction, leaves an audit event and tells the people
concerned through the outbox (so a rolled-back step tells nobody). The complainant is reached only through
the relay chat the complaint came from; for an anonymous complaint the audit names "complainant", not the
family member, so nobody can link the complaint to a person through the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from conversations import address, authz
from conversations.complaints import rules
from conversations.complaints.rules import (
    ANSWER_LABELS,
    CATEGORY_LABELS,
    OUTCOME_LABELS,
    SATISFACTION_LABELS,
    STATUS_LABELS,
    AnswerWanted,
    Outcome,
    Satisfaction,
    Status,
)
from conversations.context import Context, Services, audit, audit_many
from conversations.i18n import N_, Translator, language_name
from conversations.messages import Attachment, Choice, Reply
from conversations.outbox import enqueue, notify
from conversations.rules.quiet_hours import QuietHours
from storage.models import FamilyMember, Organisation, StaffMember
from storage.models.complaints import Complaint, ComplaintEntry, ComplaintFile

Render = Callable[[Translator], Reply]


class ProcedureError(Exception):
    """A step that does not fit the complaint's state (e.g. answering a closed complaint)."""


# --- who did it, for the audit log --------------------------------------------------------------
def complainant_actor(complaint: Complaint, member: FamilyMember | None) -> str:
    return "complainant" if complaint.anonymous or member is None else f"member:{member.id}"


def log(session: Session, now: datetime, actor: str, action: str, complaint: Complaint, **detail: object) -> None:
    audit(session, at=now, actor=actor, action=action, object_type="complaint", object_id=complaint.id,
          case_id=None if complaint.anonymous else complaint.case_id, reference=complaint.reference, **detail)


def log_many(session: Session, now: datetime, actor: str, action: str, complaints: Sequence[Complaint]) -> None:
    """One event per complaint, written in one statement (a queue lists many)."""
    audit_many(session, [
        {"at": now, "actor": actor, "action": action, "object_type": "complaint", "object_id": c.id,
         "case_id": None if c.anonymous else c.case_id, "detail": {"reference": c.reference}} for c in complaints])


# --- what officers see ----------------------------------------------------------------------
def about_text(tr: Translator, complaint: Complaint) -> str:
    label = tr.gettext(CATEGORY_LABELS[rules.Category(complaint.category)])
    return f"{label} ({complaint.about_staff.name})" if complaint.about_staff else label


def from_text(tr: Translator, session: Session, complaint: Complaint) -> str:
    if complaint.anonymous or complaint.member_id is None:
        return tr.gettext("anonymous")
    member = session.get(FamilyMember, complaint.member_id)
    if member is None:
        return tr.gettext("anonymous")
    return f"{member.display_name} ({member.case.title}, {member.case.reference})"


def summary(tr: Translator, session: Session, complaint: Complaint) -> list[str]:
    _ = tr.gettext
    wanted = _(ANSWER_LABELS[AnswerWanted(complaint.answer_wanted)])
    if complaint.answer_wanted == AnswerWanted.PHONE and complaint.contact:
        wanted = f"{wanted}: {complaint.contact}"
    status = _(STATUS_LABELS[Status(complaint.status)])
    if complaint.officer:
        status = f"{status} ({complaint.officer.name})"
    lines = [
        _("Complaint {reference}").format(reference=complaint.reference),
        _("Status: {status}").format(status=status),
        _("About: {about}").format(about=about_text(tr, complaint)),
        _("From: {who}").format(who=from_text(tr, session, complaint)),
        _("Wished for: {answer}").format(answer=wanted),
        _("Language: {language}").format(language=language_name(complaint.language)),
    ]
    if complaint.submitted_at:
        lines.append(_("Received: {when}").format(when=tr.when(complaint.submitted_at)))
    if complaint.status != Status.CLOSED and complaint.take_up_due and complaint.taken_at is None:
        lines.append(_("Take up by: {when}").format(when=tr.when(complaint.take_up_due)))
    if complaint.status in rules.UNANSWERED and complaint.answer_due:
        lines.append(_("Answer by: {when}").format(when=tr.when(complaint.answer_due)))
    if complaint.outcome:
        lines.append(_("Outcome: {outcome}").format(outcome=_(OUTCOME_LABELS[Outcome(complaint.outcome)])))
    if complaint.satisfaction:
        lines.append(_("Satisfied: {answer}").format(
            answer=_(SATISFACTION_LABELS[Satisfaction(complaint.satisfaction)])))
    from conversations.complaints import forwarding  # the officers' side of a complaint about the Jugendamt

    if (line := forwarding.summary_line(tr, complaint)) is not None:
        lines.append(line)
    return lines


ENTRY_LABELS = {
    "account": N_("What happened"),
    "question": N_("Question from {name}"),
    "reply": N_("Reply of the complainant"),
    "answer": N_("Answer from {name}"),
    "resolution": N_("What was done ({name})"),
}


def history(tr: Translator, complaint: Complaint) -> list[str]:
    """The exchange in order. Reading it is a read of the complaint: callers audit it."""
    lines: list[str] = []
    for entry in complaint.entries:
        label = tr.gettext(ENTRY_LABELS.get(entry.kind, entry.kind)).format(
            name=entry.staff.name if entry.staff else "")
        lines += ["", f"{label} · {tr.when(entry.at)}", entry.text]
    if complaint.files:
        lines += ["", tr.ngettext("{count} file attached", "{count} files attached", len(complaint.files)).format(
            count=len(complaint.files))]
    return lines


def own_words(tr: Translator, complaint: Complaint) -> list[str]:
    """What the complainant wrote, as written, under its label (the officer reads the complaint, not only its
    topic); an empty line after it. Nothing when they wrote nothing."""
    lines: list[str] = []
    for entry in complaint.entries:
        if entry.kind == "account" and entry.text:
            lines += [tr.gettext(ENTRY_LABELS["account"]) + ":", entry.text, ""]
    return lines


def officer_choices(tr: Translator, complaint: Complaint, *, show: bool = True) -> list[Choice]:
    _ = tr.gettext
    ref = complaint.id
    choices = [Choice(_("Show"), f"act:complaint_show:{ref}")] if show else []
    if complaint.status == Status.CLOSED:
        return choices
    if complaint.status == Status.NEW or complaint.officer_id is None:  # new, or its officer has left
        choices.append(Choice(_("Take over"), f"act:complaint_take:{ref}"))
    choices += [Choice(_("Ask a question"), f"act:complaint_ask:{ref}"),
                Choice(_("Answer"), f"act:complaint_answer:{ref}"),
                Choice(_("Close"), f"act:complaint_close:{ref}")]
    from conversations.complaints import forwarding  # a complaint about the Jugendamt may be passed on

    return choices + forwarding.choices(tr, complaint)


def files_of(complaint: Complaint) -> list[Attachment]:
    return [Attachment(f.filename, f.mime_type, f.data) for f in complaint.files]


# Outbox messages that carry a complaint's files. The outbox keeps attachments unencrypted, so the
# deadline scan removes these copies once delivered (see deadlines.forget_delivered_files).
FILE_KINDS = ("complaint.show", "complaint.reply")


def say_with_files(ctx: Context, reply: Reply) -> None:
    """Like ``ctx.say``, but marked as carrying complaint files."""
    ctx.say(reply.text, reply.choices, reply.attachments, kind="complaint.show")


# --- telling people -----------------------------------------------------------------------------
def _not_before(services: Services, now: datetime) -> datetime:
    """Complaint notices are routine: none in quiet hours (the deadlines are days, not minutes)."""
    return QuietHours.parse(services.settings.quiet_hours).next_allowed(now)


def tell_staff(session: Session, services: Services, people: Sequence[StaffMember], render: Render, now: datetime,
               *, kind: str, dedupe_key: str | None = None) -> None:
    for person in people:
        notify(session, person, render, now=now, kind=kind,
               dedupe_key=f"{dedupe_key}:staff:{person.id}" if dedupe_key else None,
               not_before=_not_before(services, now), email=True if services.settings.smtp_host else None,
               subject=lambda tr: tr.gettext("Complaint"))


def tell_complainant(session: Session, services: Services, complaint: Complaint, render: Render, now: datetime,
                     *, kind: str) -> bool:
    """Through the chat the complaint came from; False when no way to the complainant is left.

    That chat may be unlinked: after the help ended its address was kept on the complaint (the answer
    still reaches it); after a lost phone a named complaint follows the person to their new chat, an
    anonymous one cannot (nothing links it to a person).
    """
    chat, later = complaint.relay, _not_before(services, now)
    if chat is not None and chat.member is not None:
        tr = address.translator_for(chat.member, now)  # du for a young person
        enqueue(session, channel=chat.channel, address=chat.address, reply=render(tr), now=now, language=tr.lang,
                identity_id=chat.id, kind=kind, not_before=later)
        return True
    if complaint.relay_channel and complaint.relay_address:
        complainant = session.get(FamilyMember, complaint.member_id) if complaint.member_id else None
        tr = address.translator_for(complainant, now, complaint.language)
        enqueue(session, channel=complaint.relay_channel, address=complaint.relay_address, reply=render(tr), now=now,
                language=tr.lang, kind=kind, not_before=later)
        return True
    member = session.get(FamilyMember, complaint.member_id) if complaint.member_id and not complaint.anonymous else None
    return member is not None and bool(notify(session, member, render, now=now, kind=kind, not_before=later,
                                              email=False))


def _assignee_or_handlers(session: Session, complaint: Complaint) -> list[StaffMember]:
    officer = complaint.officer
    if officer is not None and authz.may_handle_complaint(authz.as_staff(officer), complaint):
        return [officer]
    return rules.handlers(session, complaint)


# --- the steps ---------------------------------------------------------------------------------
def add_entry(complaint: Complaint, kind: str, text: str, now: datetime, staff: StaffMember | None = None) -> None:
    complaint.entries.append(ComplaintEntry(kind=kind, text=text, at=now, staff=staff))


def add_files(complaint: Complaint, files: Sequence[Attachment], now: datetime) -> None:
    for file in files:
        complaint.files.append(ComplaintFile(filename=file.filename[:200], mime_type=file.mime_type[:100],
                                             size=len(file.data), data=file.data, at=now))


def submit(session: Session, services: Services, complaint: Complaint, now: datetime,
           member: FamilyMember | None) -> None:
    org = session.get(Organisation, complaint.organisation_id)
    complaint.reference = rules.next_reference(session, now)
    complaint.status = Status.NEW
    complaint.submitted_at = now
    rules.set_deadlines(complaint, rules.policy(services.settings, org), now)
    session.flush()
    log(session, now, complainant_actor(complaint, member), "complaint.submitted", complaint,
        category=complaint.category, anonymous=complaint.anonymous, files=len(complaint.files))

    def render(tr: Translator) -> Reply:
        lines = [tr.gettext("A new complaint has arrived."), "", *summary(tr, session, complaint), "",
                 *own_words(tr, complaint),
                 tr.gettext("Please take it up by {when}.").format(when=tr.when(complaint.take_up_due))]
        return Reply("\n".join(lines), officer_choices(tr, complaint))

    tell_staff(session, services, rules.handlers(session, complaint), render, now, kind="complaint.new",
               dedupe_key=f"complaint:{complaint.id}:new")


def take_over(session: Session, services: Services, complaint: Complaint, staff: StaffMember, now: datetime) -> bool:
    """The officer becomes the named person handling it. False if it was theirs already."""
    if complaint.status == Status.CLOSED:
        raise ProcedureError("closed")
    if complaint.officer_id == staff.id:
        return False
    first = complaint.taken_at is None
    complaint.officer = staff
    if first:
        complaint.taken_at = now
    if complaint.status == Status.NEW:
        complaint.status = Status.IN_PROGRESS
    log(session, now, f"staff:{staff.id}", "complaint.taken_over", complaint)
    if first:
        tell_complainant(session, services, complaint, lambda tr: Reply(tr.gettext(
            "Your complaint {reference} has been taken up. {name} is handling it. "
            "You will get an answer by {when} at the latest.").format(
                reference=complaint.reference, name=staff.name, when=tr.date(complaint.answer_due))), now,
            kind="complaint.taken")
    others = [p for p in rules.handlers(session, complaint) if p.id != staff.id]
    tell_staff(session, services, others, lambda tr: Reply(tr.gettext(
        "{name} has taken over complaint {reference}.").format(name=staff.name, reference=complaint.reference)),
        now, kind="complaint.taken")
    return True


def _ensure_taken(session: Session, services: Services, complaint: Complaint, staff: StaffMember,
                  now: datetime) -> None:
    if complaint.status == Status.CLOSED:
        raise ProcedureError("closed")
    if complaint.officer_id is None:
        take_over(session, services, complaint, staff, now)


def ask(session: Session, services: Services, complaint: Complaint, staff: StaffMember, text: str,
        now: datetime) -> bool:
    _ensure_taken(session, services, complaint, staff, now)
    add_entry(complaint, "question", text, now, staff)
    complaint.status = Status.WAITING
    log(session, now, f"staff:{staff.id}", "complaint.question_asked", complaint)
    return tell_complainant(session, services, complaint, lambda tr: Reply(
        tr.gettext("A question about your complaint {reference}:").format(reference=complaint.reference)
        + f"\n\n{text}\n\n" + tr.gettext("You can answer here in the chat: press “Reply”."),
        [Choice(tr.gettext("Reply"), f"act:complaint_reply:{complaint.id}")]), now, kind="complaint.question")


def reply(session: Session, services: Services, complaint: Complaint, member: FamilyMember | None, text: str,
          files: Sequence[Attachment], now: datetime) -> None:
    if text:
        add_entry(complaint, "reply", text, now)
    add_files(complaint, files, now)
    if complaint.status == Status.WAITING:
        complaint.status = Status.IN_PROGRESS
    log(session, now, complainant_actor(complaint, member), "complaint.replied", complaint, files=len(files))

    def render(tr: Translator) -> Reply:
        lines = [tr.gettext("Reply from the complainant on {reference}:").format(reference=complaint.reference)]
        if text:
            lines += ["", text]
        if files:
            lines += ["", tr.ngettext("{count} file attached", "{count} files attached", len(files)).format(
                count=len(files))]
        return Reply("\n".join(lines), officer_choices(tr, complaint), list(files))

    tell_staff(session, services, _assignee_or_handlers(session, complaint), render, now, kind="complaint.reply")


def answer(session: Session, services: Services, complaint: Complaint, staff: StaffMember, text: str,
           now: datetime) -> bool:
    _ensure_taken(session, services, complaint, staff, now)
    add_entry(complaint, "answer", text, now, staff)
    complaint.status = Status.ANSWERED
    complaint.answered_at = complaint.answered_at or now
    log(session, now, f"staff:{staff.id}", "complaint.answered", complaint)
    return tell_complainant(session, services, complaint, lambda tr: Reply(
        tr.gettext("The answer to your complaint {reference}, from {name}:").format(
            reference=complaint.reference, name=staff.name) + f"\n\n{text}"), now, kind="complaint.answer")


def close(session: Session, services: Services, complaint: Complaint, staff: StaffMember, outcome: Outcome,
          resolution: str, now: datetime) -> bool:
    _ensure_taken(session, services, complaint, staff, now)
    add_entry(complaint, "resolution", resolution, now, staff)
    complaint.status = Status.CLOSED
    complaint.outcome = outcome
    complaint.resolution = resolution
    complaint.closed_at = now
    log(session, now, f"staff:{staff.id}", "complaint.closed", complaint, outcome=outcome.value)

    def render(tr: Translator) -> Reply:
        _ = tr.gettext
        text = "\n".join([
            _("Your complaint {reference} is now closed.").format(reference=complaint.reference),
            _("Result: {outcome}").format(outcome=_(OUTCOME_LABELS[outcome])),
            _("What was done: {resolution}").format(resolution=resolution),
            "",
            _("Was your complaint dealt with to your satisfaction?"),
        ])
        return Reply(text, [Choice(_(label), f"act:complaint_rating:{complaint.id}:{value.value}")
                            for value, label in SATISFACTION_LABELS.items()])

    return tell_complainant(session, services, complaint, render, now, kind="complaint.closed")


def rate(session: Session, services: Services, complaint: Complaint, member: FamilyMember | None,
         value: Satisfaction, now: datetime) -> None:
    complaint.satisfaction = value
    complaint.satisfaction_at = now
    complaint.relay_channel = complaint.relay_address = None  # the last word: a kept address is not needed now
    log(session, now, complainant_actor(complaint, member), "complaint.rated", complaint, satisfaction=value.value)
    tell_staff(session, services, _assignee_or_handlers(session, complaint), lambda tr: Reply(tr.gettext(
        "Complaint {reference}: asked whether it was dealt with to their satisfaction, "
        "the complainant answered “{answer}”.").format(
            reference=complaint.reference, answer=tr.gettext(SATISFACTION_LABELS[value]))),
        now, kind="complaint.rated")
