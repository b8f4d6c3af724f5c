"""Appointments in reach at any time: "Meine Termine" for families, the agenda for Fachkräfte.

A family member sees the coming appointments they are expected at, each with confirm · cancel · ask for
another date (the same actions as the reminders' buttons, so they stay possible after confirming and
long after the reminder scrolled away). A Fachkraft sees today, tomorrow or the coming week of her cases,
and the appointments that are over but not yet recorded, each leading to "what happened?"; each coming one
leads to "what has changed?" (the family phoned to cancel, we cancel, a new date).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from conversations import appointments as appts
from conversations import authz
from conversations.appointment_chat import (
    continue_after,
    family_appointment,
    staff_appointment,
    staff_cases,
    still_coming,
)
from conversations.appointment_jobs import OUTCOME_LOOKBACK, outcome_choices
from conversations.clock import BERLIN
from conversations.context import Context
from conversations.i18n import N_, Translator
from conversations.messages import Choice
from conversations.registry import REGISTRY, Action, Audience, Command
from conversations.rules.outcomes import Outcome
from storage.models import Appointment, Role

COMING_SHOWN = 10  # "Meine Termine" lists the next ten; the reminders bring the later ones
TO_RECORD_SHOWN = 8  # the agenda offers this many unrecorded appointments, oldest first
CHANGE_SHOWN = 8  # and this many coming ones to cancel or move, soonest first
SPANS = ("today", "tomorrow", "week")
SPAN_WORDS = {  # "/agenda morgen": the span typed after the command, in the staff languages
    "tomorrow": {"morgen", "tomorrow", "yarın", "yarin", "غدا", "غدًا", "завтра"},
    "week": {"woche", "week", "hafta", "أسبوع", "الأسبوع", "тиждень", "неделя"},
}


def short_label(tr: Translator, appointment: Appointment) -> str:
    """"09.03.2027, 10:00 Hausbesuch": enough to tell two appointments apart on a button."""
    return f"{tr.date(appointment.starts_at, 'medium')}, {tr.time(appointment.starts_at)} " \
           f"{appts.kind_label(tr, appointment.kind)}"


# --- families: Meine Termine ----------------------------------------------------------------------------------
def coming(ctx: Context) -> list[Appointment]:
    """The planned appointments ahead that this family member may answer (they are expected at them)."""
    case = ctx.case
    if case is None:
        return []
    return [a for a in appts.upcoming(ctx.session, case, ctx.now)
            if a.starts_at > ctx.now and authz.may_answer_appointment(ctx.principal, a)][:COMING_SHOWN]


def show_my_appointments(ctx: Context, arg: str) -> None:
    """ "Meine Termine": a family member's coming appointments; for staff the same word opens the agenda."""
    if ctx.member is None:
        return show_agenda(ctx, arg)
    _ = ctx._
    items = coming(ctx)
    if not items:
        ctx.say(_("You have no appointments coming up. When there is a new one, I will tell you here."))
    elif len(items) == 1:
        return show_one(ctx, items[0])
    else:
        lines = [_("Your next appointments:")]
        lines += [f"• {appts.describe(ctx.tr, a)}" + (" – " + _("confirmed") if a.confirmed_at else "") for a in items]
        lines += ["", _("Which one would you like to answer?")]
        ctx.say("\n".join(lines), [Choice(short_label(ctx.tr, a), f"act:appt_show:{a.id}") for a in items])
    ctx.offer_way_back()


def show_one(ctx: Context, appointment: Appointment) -> None:
    """One appointment with what can be done about it; after confirming, cancelling and moving remain."""
    _ = ctx._
    text = _("Your appointment: {appointment}.").format(appointment=appts.describe(ctx.tr, appointment))
    choices = appts.family_choices(ctx.tr, appointment)
    if appointment.confirmed_at is not None:
        text += "\n" + _("You have confirmed it. You can still cancel it or ask for another date.")
        choices = [c for c in choices if not c.payload.startswith("act:appt_confirm:")]
    ctx.say(text, choices)
    ctx.offer_way_back()


def on_show(ctx: Context, arg: str) -> None:
    appointment = family_appointment(ctx, arg)
    if appointment is None:
        return continue_after(ctx)
    show_one(ctx, appointment)


# --- staff: the agenda ----------------------------------------------------------------------------------------
def span_bounds(span: str, now: datetime) -> tuple[datetime, datetime]:
    today = now.astimezone(BERLIN).date()
    first = today + timedelta(days=1) if span == "tomorrow" else today
    days = 7 if span == "week" else 1
    start = datetime.combine(first, time(0), tzinfo=BERLIN)
    return start, datetime.combine(first + timedelta(days=days), time(0), tzinfo=BERLIN)


def mine(ctx: Context, appointment: Appointment) -> bool:
    """Hers: she is named for it, or nobody is and she is on the team."""
    return ctx.staff is not None and ctx.staff in appts.staff_of(appointment)


def agenda_items(ctx: Context, start: datetime, end: datetime) -> list[Appointment]:
    cases = [c.id for c in staff_cases(ctx)]
    if not cases:
        return []
    rows = ctx.session.scalars(select(Appointment).where(
        Appointment.case_id.in_(cases), Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at, Appointment.id))
    return [a for a in rows if mine(ctx, a)]


def to_record(ctx: Context) -> list[Appointment]:
    """Hers that are over and still say nothing about what happened (oldest first)."""
    cases = [c.id for c in staff_cases(ctx, authz.may_plan_appointment)]
    if not cases:
        return []
    rows = ctx.session.scalars(select(Appointment).where(
        Appointment.case_id.in_(cases), Appointment.outcome == Outcome.PLANNED,
        Appointment.starts_at >= ctx.now - OUTCOME_LOOKBACK, Appointment.starts_at < ctx.now)
        .order_by(Appointment.starts_at, Appointment.id))
    return [a for a in rows if appts.ends_at(a) <= ctx.now and mine(ctx, a)
            and authz.may_record_outcome(ctx.principal, a)][:TO_RECORD_SHOWN]


def changeable(ctx: Context, items: list[Appointment]) -> list[Appointment]:
    """The coming appointments of ``items`` she may cancel or move (the first few of a long week)."""
    return [a for a in items if still_coming(ctx, a) and authz.may_cancel_appointment(ctx.principal, a)][:CHANGE_SHOWN]


def agenda_line(tr: Translator, appointment: Appointment, now: datetime, *, with_day: bool) -> str:
    _ = tr.gettext
    when = f"{tr.date(appointment.starts_at, 'medium')}, {tr.time(appointment.starts_at)}" if with_day \
        else tr.time(appointment.starts_at)
    line = f"• {when} {appointment.case.title}: {appts.kind_label(tr, appointment.kind)} " \
           f"({appts.hours_text(tr, appointment.duration_minutes)})"
    if appointment.outcome != Outcome.PLANNED:
        state = _(appts.OUTCOME_LABELS[appointment.outcome])
    elif appts.ends_at(appointment) <= now:
        state = _("not recorded yet")
    elif appointment.confirmed_at:
        state = _("confirmed by the family")
    else:
        return line
    return f"{line} – {state}"


def show_agenda(ctx: Context, arg: str) -> None:
    word = arg.strip().casefold()
    span = next((s for s, words in SPAN_WORDS.items() if word in words), "today")
    show_span(ctx, span)


def show_span(ctx: Context, span: str) -> None:
    _ = ctx._
    start, end = span_bounds(span, ctx.now)
    items = agenda_items(ctx, start, end)
    title = {
        "today": _("Today, {date}:").format(date=ctx.tr.date(start)),
        "tomorrow": _("Tomorrow, {date}:").format(date=ctx.tr.date(start)),
        "week": _("The coming seven days, {first} to {last}:").format(
            first=ctx.tr.date(start, "medium"), last=ctx.tr.date(end - timedelta(days=1), "medium")),
    }[span]
    lines = [title]
    lines += [agenda_line(ctx.tr, a, ctx.now, with_day=span == "week") for a in items] or [_("No appointments.")]
    pending = to_record(ctx)
    choices = [Choice(_("Record: {appointment}").format(appointment=f"{short_label(ctx.tr, a)}, {a.case.title}"),
                      f"act:appt_record:{a.id}") for a in pending]
    if pending:
        lines += ["", _("Over, but not recorded yet: what happened?")]
    # A family that phones to cancel, a visit we must call off: the coming ones can be changed from here.
    choices += [Choice(_("Change: {appointment}").format(appointment=f"{short_label(ctx.tr, a)}, {a.case.title}"),
                       f"act:appt_change:{a.id}") for a in changeable(ctx, items)]
    labels = {"today": _("Today"), "tomorrow": _("Tomorrow"), "week": _("The coming seven days")}
    choices += [Choice(labels[s], f"act:agenda:{s}") for s in SPANS if s != span]
    ctx.say("\n".join(lines), choices)
    ctx.offer_way_back()


def on_span(ctx: Context, arg: str) -> None:
    if arg not in SPANS:
        ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
        return continue_after(ctx)
    show_span(ctx, arg)


def on_record(ctx: Context, arg: str) -> None:
    """The outcome question for one appointment, as the scan asks it after the visit."""
    appointment = staff_appointment(ctx, arg, authz.may_record_outcome)
    if appointment is None:
        return continue_after(ctx)
    if appointment.outcome != Outcome.PLANNED:
        ctx.say(ctx._("This is already recorded: {appointment}: {outcome}.").format(
            appointment=appts.describe(ctx.tr, appointment), outcome=ctx._(appts.OUTCOME_LABELS[appointment.outcome])))
        return continue_after(ctx)
    ctx.say(ctx._("What happened at this appointment with {case}? {appointment}").format(
        case=appointment.case.title, appointment=appts.describe(ctx.tr, appointment)),
        outcome_choices(ctx.tr, appointment))
    ctx.offer_way_back()


REGISTRY.command(Command("my_appointments", {"de": "termine", "en": "appointments"}, N_("My appointments"),
                         show_my_appointments, Audience.LINKED, in_menu=True))
REGISTRY.command(Command("agenda", {"de": "agenda", "en": "agenda"}, N_("My agenda: today, tomorrow, the week"),
                         show_agenda, Audience.STAFF, roles=(Role.FACHKRAFT,)))
REGISTRY.action(Action("appt_show", on_show, Audience.FAMILY))
REGISTRY.action(Action("agenda", on_span, Audience.STAFF))
REGISTRY.action(Action("appt_record", on_record, Audience.STAFF))
