"""The monthly proof (Nachweisblatt): the family confirms last month's appointments, the Jugendamt gets it.

On the first working day of a month (Monday to Friday without the public holidays of the organisation's
Bundesland, :mod:`conversations.rules.working_days`) from the end of quiet hours, each family with appointments that took place last month is asked: all right ·
something is wrong (+ what). The first answer of a family member counts; then a PDF and a CSV (appointments,
hours, billable hours, cancellations under 24 h, the confirmation with time and channel) go to the
fallführende Fachkraft. Crisis interventions are exempt from the confirmation unless the organisation's
setting ``nachweis_crisis_exempt`` is false (seed 004: "ggf. ausgenommen").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import admin, authz
from conversations.appointments import default_members, describe, hours_text, routine_time
from conversations.budget import fallfuehrend, month_appointments
from conversations.clock import BERLIN
from conversations.context import Context, Services, audit
from conversations.flows.base import WORDS, Flow, Frame
from conversations.i18n import N_, Translator, translator
from conversations.messages import Attachment, Choice, Reply
from conversations.outbox import notify, notify_all
from conversations.registry import REGISTRY, Action, Audience, PeriodicTask
from conversations.rules.billing import Month
from conversations.rules.outcomes import AppointmentKind, Outcome
from conversations.rules.quiet_hours import QuietHours
from conversations.rules.working_days import calendar_of
from storage.db import transaction
from storage.models import Appointment, Case, NachweisConfirmation


def crisis_exempt(case: Case) -> bool:
    return bool((case.organisation.settings or {}).get("nachweis_crisis_exempt", True))


def to_confirm(session: Session, case: Case, month: Month) -> list[Appointment]:
    """The appointments the family signs for: those that took place (crisis interventions maybe not)."""
    exempt = crisis_exempt(case)
    return [a for a in month_appointments(session, case, month) if a.outcome == Outcome.TOOK_PLACE
            and not (exempt and a.kind == AppointmentKind.KRISENINTERVENTION)]


def confirmation(session: Session, case: Case, month: Month) -> NachweisConfirmation | None:
    return session.scalar(select(NachweisConfirmation).where(
        NachweisConfirmation.case_id == case.id, NachweisConfirmation.month == str(month)))


# --- the documents ---------------------------------------------------------------------------------------------
def _status_line(tr: Translator, conf: NachweisConfirmation | None) -> str:
    _ = tr.gettext
    if conf is not None and conf.status == "pending" and conf.case.closed_at is not None:
        return _("Not confirmed by the family: the help ended on {date}.").format(
            date=tr.date(conf.case.closed_at.astimezone(BERLIN).date()))
    if conf is None or conf.status == "pending":
        return _("Not confirmed by the family yet.")
    who = conf.answered_by_member.display_name if conf.answered_by_member else "?"
    when = tr.when(conf.answered_at) if conf.answered_at else "?"
    if conf.status == "confirmed":
        return _("Confirmed by {name} on {when} via {channel}.").format(name=who, when=when, channel=conf.channel)
    return _("{name} reported on {when} via {channel} that something is wrong: {remark}").format(
        name=who, when=when, channel=conf.channel, remark=conf.remark or "")


def documents(tr: Translator, session: Session, case: Case, month: Month, now: datetime) -> list[Attachment]:
    """The Nachweisblatt as PDF and CSV (conversations.nachweis_sheet), for the reader ``tr``."""
    from conversations import nachweis_sheet

    sheet = nachweis_sheet.build(session, case, month, now)
    name = f"nachweis-{case.reference}-{month}"
    return [Attachment(f"{name}.pdf", "application/pdf", nachweis_sheet.pdf_bytes(tr, sheet)),
            Attachment(f"{name}.csv", "text/csv", nachweis_sheet.csv_bytes(tr, sheet))]


def pdf_bytes(tr: Translator, session: Session, case: Case, month: Month, now: datetime) -> bytes:
    """The Nachweisblatt's PDF alone (the console shows it)."""
    from conversations import nachweis_sheet

    return nachweis_sheet.pdf_bytes(tr, nachweis_sheet.build(session, case, month, now))


def send_to_fallfuehrend(session: Session, services: Services, conf: NachweisConfirmation) -> None:
    now, case, month = services.clock.now(), conf.case, Month.parse(conf.month)
    for person in fallfuehrend(case):
        def render(tr: Translator) -> Reply:
            return Reply(tr.gettext("Nachweisblatt of {case} for {month}. {status}").format(
                case=case.title, month=tr.month(month.first_day), status=_status_line(tr, conf)),
                attachments=documents(tr, session, case, month, now))

        notify(session, person, render, now=now, kind="nachweis", email=True,
               dedupe_key=f"nachweis:{conf.id}:{conf.status}", not_before=routine_time(services, now),
               subject=lambda tr: tr.gettext("Nachweisblatt {case} {month}").format(
                   case=case.reference, month=tr.month(Month.parse(conf.month).first_day)))
    conf.sent_at = now


# --- asking the family -------------------------------------------------------------------------------------------
def ask_families(session: Session, services: Services) -> int:
    now = services.clock.now()
    quiet = QuietHours.parse(services.settings.quiet_hours)
    this_month = Month.of(now)
    month = this_month.previous()
    asked = 0
    start, end = month.bounds()
    # One query finds the open cases still to ask (not one per open case and scan), from last month's
    # appointments and last month's confirmations, each one range of its own index (ix_appointment_outcome_start,
    # ix_nachweis_confirmation_month): the years of history before are never read. (Asked per case, "asked
    # already?" probed a confirmation per case among the years of months kept.)
    took_place = select(Appointment.case_id).where(Appointment.starts_at >= start, Appointment.starts_at < end,
                                                   Appointment.outcome == Outcome.TOOK_PLACE)
    asked_already = select(NachweisConfirmation.case_id).where(NachweisConfirmation.month == str(month))
    for case in session.scalars(select(Case).where(Case.closed_at.is_(None), Case.id.in_(took_place),
                                                   Case.id.not_in(asked_already)).order_by(Case.id)):
        first = calendar_of(case.organisation).first_working_day(this_month.year, this_month.month)
        if now < datetime.combine(first, quiet.end, tzinfo=BERLIN):
            continue
        items = to_confirm(session, case, month)
        if not items or confirmation(session, case, month) is not None:
            continue
        conf = NachweisConfirmation(case_id=case.id, month=str(month), status="pending", asked_at=now)
        session.add(conf)
        session.flush()
        audit(session, at=now, actor="system", action="nachweis.asked", object_type="nachweis_confirmation",
              object_id=conf.id, case_id=case.id, month=str(month))

        def render(tr: Translator, items: list[Appointment] = items, conf: NachweisConfirmation = conf) -> Reply:
            _ = tr.gettext
            lines = [_("Your appointments in {month} that took place:").format(
                month=tr.month(month.first_day))]
            lines += [f"• {describe(tr, a)}" + (f" – {hours_text(tr, a.actual_minutes)}" if a.actual_minutes else "")
                      for a in items]
            lines.append(_("Is this right? Your answer is sent to the Jugendamt as the monthly proof."))
            return Reply("\n".join(lines), [Choice(_("All right"), f"act:nachweis_ok:{conf.id}"),
                                            Choice(_("Something is wrong"), f"act:nachweis_wrong:{conf.id}")])

        for member in default_members(case):
            asked += len(notify(session, member, render, now=now, kind="nachweis.question",
                                dedupe_key=f"nachweis-ask:{conf.id}:m{member.id}",
                                not_before=routine_time(services, now)))
    return asked


def _open_confirmation(ctx: Context, arg: str) -> NachweisConfirmation | None:
    conf = ctx.session.get(NachweisConfirmation, int(arg)) if arg.isdigit() else None
    if conf is None or not authz.may_confirm_nachweis(ctx.principal, conf):
        ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
        return None
    if conf.status != "pending":
        ctx.say(ctx._("Thank you, this month has already been answered: {status}").format(
            status=_status_line(ctx.tr, conf)))
        return None
    return conf


def _answer(ctx: Context, conf: NachweisConfirmation, status: str, remark: str | None) -> None:
    assert ctx.member is not None
    conf.status, conf.answered_at, conf.answered_by = status, ctx.now, ctx.member.id
    conf.channel, conf.remark = ctx.incoming.channel, remark
    ctx.session.flush()
    ctx.session.refresh(conf)
    ctx.audit(f"nachweis.{status}", "nachweis_confirmation", conf.id, case_id=conf.case_id)
    send_to_fallfuehrend(ctx.session, ctx.services, conf)


def on_ok(ctx: Context, arg: str) -> None:
    conf = _open_confirmation(ctx, arg)
    if conf is not None:
        _answer(ctx, conf, "confirmed", None)
        ctx.say(ctx._("Thank you! I have passed on your confirmation."))
    if ctx.frame is not None:
        ctx.resume()


def on_wrong(ctx: Context, arg: str) -> None:
    conf = _open_confirmation(ctx, arg)
    if conf is None:
        if ctx.frame is not None:
            ctx.resume()
        return
    ctx.start("nachweis_wrong", confirmation_id=conf.id)


class SomethingWrong(Flow):
    name = "nachweis_wrong"
    first_step = "what"
    typed_steps = {"what": WORDS}
    cancelled_text = N_("All right, nothing was passed on.")

    def ask_what(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("What is not right? Please write it in a few words, for example which day."),
                [self.cancel_choice(ctx)])

    def on_what(self, ctx: Context, frame: Frame) -> None:
        if not ctx.text:
            return self.ask(ctx, frame)
        conf = ctx.session.get(NachweisConfirmation, frame.data["confirmation_id"])
        if conf is None or ctx.member is None or not authz.may_confirm_nachweis(ctx.principal, conf):
            ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
            return ctx.finish()
        if conf.status == "pending":
            _answer(ctx, conf, "disputed", ctx.text[:1000])
            case, name, remark = conf.case, ctx.member.first_name, ctx.text[:1000]
            notify_all(ctx.session, admin.team(case), lambda tr: Reply(tr.gettext(
                "{name} ({case}) says the appointments of {month} are not right: {remark}").format(
                    name=name, case=case.title, month=tr.month(Month.parse(conf.month).first_day), remark=remark)),
                now=ctx.now, kind="nachweis.disputed", not_before=routine_time(ctx.services, ctx.now))
        ctx.say(ctx._("Thank you. I have passed it on; your Fachkraft will talk it through with you."))
        ctx.finish()


def proofs_of_ended_helps(session: Session, services: Services) -> int:
    """A help that ended during last month still owes its proof for the days it ran. Its family is no longer
    linked, so nobody is asked: the fallführende Fachkraft gets it on the first working day, unconfirmed."""
    now = services.clock.now()
    quiet = QuietHours.parse(services.settings.quiet_hours)
    this_month = Month.of(now)
    month = this_month.previous()
    ended_since = datetime.combine(month.first_day, datetime.min.time(), tzinfo=BERLIN)
    sent = 0
    for case in session.scalars(select(Case).where(Case.closed_at >= ended_since).order_by(Case.id)):
        first = calendar_of(case.organisation).first_working_day(this_month.year, this_month.month)
        if now < datetime.combine(first, quiet.end, tzinfo=BERLIN):
            continue
        if not to_confirm(session, case, month) or confirmation(session, case, month) is not None:
            continue
        conf = NachweisConfirmation(case_id=case.id, month=str(month), status="pending", asked_at=now)
        session.add(conf)
        session.flush()
        audit(session, at=now, actor="system", action="nachweis.case_ended", object_type="nachweis_confirmation",
              object_id=conf.id, case_id=case.id, month=str(month))
        send_to_fallfuehrend(session, services, conf)
        sent += 1
    return sent


def case_closed(session: Session, services: Services, case: Case) -> int:
    """The help ended: proofs the family was asked for and never answered go to the fallführende Fachkraft
    now, marked as unconfirmed (the family's chats are unlinked, nobody can answer any more)."""
    pending = session.scalars(select(NachweisConfirmation).where(
        NachweisConfirmation.case_id == case.id, NachweisConfirmation.status == "pending")).all()
    for conf in pending:
        send_to_fallfuehrend(session, services, conf)
    return len(pending)


def scan(services: Services) -> None:
    with transaction(services.sessions) as session:
        ask_families(session, services)
        proofs_of_ended_helps(session, services)


def for_cli(session: Session, case: Case, month: Month, now: datetime, language: str = "de") -> list[Attachment]:
    return documents(translator(language), session, case, month, now)


REGISTRY.flow(SomethingWrong())
REGISTRY.action(Action("nachweis_ok", on_ok, Audience.FAMILY))
REGISTRY.action(Action("nachweis_wrong", on_wrong, Audience.FAMILY))
REGISTRY.tasks["nachweis"] = PeriodicTask("nachweis", 900, scan)
