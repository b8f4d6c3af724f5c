"""Appointments in the chat: the family's buttons (confirm · cancel · another date), the Fachkraft's
guided flow for new appointments, "what happened?", moving an appointment, and the hours statement.

Every ``act:`` handler checks that the appointment belongs to the case of the person who pressed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import appointments as appts
from conversations import authz, budget
from conversations.admin import AdminError
from conversations.clock import BERLIN
from conversations.context import Context
from conversations.flows.base import VALUE, WORDS, Flow, Frame
from conversations.i18n import N_, Translator
from conversations.messages import Choice, Reply
from conversations.outbox import chats_of, notify_all
from conversations.registry import REGISTRY, Action, Audience, Command
from conversations.rules import billing
from conversations.rules.billing import Month
from conversations.rules.outcomes import AppointmentKind, Notice, Outcome
from conversations.timeparse import TypedDateError, chat_moment
from storage.models import (
    Appointment,
    AppointmentMember,
    Case,
    CaseAssignment,
    FamilyMember,
    Role,
    StaffMember,
)


# --- parsing what staff type ------------------------------------------------------------------------------
def parse_minutes(text: str) -> int | None:
    """"2", "2,5", "2:30", "90 min" → minutes."""
    text = text.strip().casefold().replace(" ", "")
    if match := re.fullmatch(r"(\d{1,3})min", text):
        return int(match[1])
    if match := re.fullmatch(r"(\d{1,2}):(\d{2})h?", text):
        return int(match[1]) * 60 + int(match[2])
    if match := re.fullmatch(r"(\d{1,2}(?:[.,]\d{1,2})?)(?:h|std|stunden?)?", text):
        return round(float(match[1].replace(",", ".")) * 60)
    return None


def hour_choices(tr: Translator) -> list[Choice]:
    """1 h … 4 h as options 1 … 4: a typed "2" is two hours whichever way it is meant, and other
    durations are typed ("2,5", "1:30", "5")."""
    return [Choice(appts.hours_text(tr, hours * 60), f"min:{hours * 60}") for hours in range(1, 5)]


# --- who may touch what (the rules are in conversations.authz) ------------------------------------------------
def no_longer_valid(ctx: Context) -> None:
    ctx.say(ctx._("That button is no longer valid. Nothing was changed."))


def still_coming(ctx: Context, appointment: Appointment) -> bool:
    """Still planned and not begun: cancelling it is news for the family, not a record of the past."""
    return appointment.outcome == Outcome.PLANNED and appointment.starts_at > ctx.now


def no_longer_open(ctx: Context, appointment: Appointment) -> None:
    ctx.say(ctx._("This appointment is no longer open: {appointment}.").format(
        appointment=appts.describe(ctx.tr, appointment)))


def family_appointment(ctx: Context, arg: str) -> Appointment | None:
    """The appointment, if the pressing family member may answer it and it is still open."""
    appointment = ctx.session.get(Appointment, int(arg)) if arg.isdigit() else None
    if appointment is None or not authz.may_answer_appointment(ctx.principal, appointment):
        no_longer_valid(ctx)
        return None
    if not still_coming(ctx, appointment):
        no_longer_open(ctx, appointment)
        return None
    return appointment


CaseRule = Callable[[authz.Principal, Case], bool]
AppointmentRule = Callable[[authz.Principal, Appointment], bool]


def staff_cases(ctx: Context, rule: CaseRule = authz.may_plan_appointment) -> list[Case]:
    """The cases the staff member is assigned to now and may act on by ``rule``, by family name."""
    staff = ctx.staff
    if staff is None:
        return []
    rows = ctx.session.scalars(select(CaseAssignment).where(
        CaseAssignment.staff_id == staff.id, CaseAssignment.until.is_(None)))
    principal = ctx.principal
    return sorted({a.case for a in rows if rule(principal, a.case)}, key=lambda c: c.title)


def staff_appointment(ctx: Context, arg: str, rule: AppointmentRule) -> Appointment | None:
    """The appointment, if the pressing staff member may act on it by ``rule``."""
    appointment = ctx.session.get(Appointment, int(arg)) if arg.isdigit() else None
    if appointment is None or not rule(ctx.principal, appointment):
        no_longer_valid(ctx)
        return None
    return appointment


def continue_after(ctx: Context) -> None:
    if ctx.frame is not None:
        ctx.resume()


def tell_staff(ctx: Context, appointment: Appointment, render) -> None:  # type: ignore[no-untyped-def]
    """A notice to the appointment's Fachkräfte, after quiet hours (Jana hears of 22:40 next morning)."""
    notify_all(ctx.session, appts.staff_of(appointment), render, now=ctx.now, kind="appointment.family_answer",
               not_before=appts.routine_time(ctx.services, ctx.now))


# --- the family's buttons ----------------------------------------------------------------------------------------
def on_confirm(ctx: Context, arg: str) -> None:
    appointment = family_appointment(ctx, arg)
    if appointment is None or ctx.member is None:
        return continue_after(ctx)
    first = appointment.confirmed_at is None
    appts.confirm_by_family(ctx.session, ctx.services, ctx.member, appointment)
    # Cancelling or asking for another date stay possible after confirming.
    ctx.say(ctx._("Thank you! See you then: {appointment}.").format(appointment=appts.describe(ctx.tr, appointment)),
            [c for c in appts.family_choices(ctx.tr, appointment) if not c.payload.startswith("act:appt_confirm:")])
    if first:
        name = ctx.member.first_name
        tell_staff(ctx, appointment, lambda tr: Reply(tr.gettext("{name} confirmed: {appointment} ({case}).").format(
            name=name, appointment=appts.describe(tr, appointment), case=appointment.case.title)))
    continue_after(ctx)


def on_cancel(ctx: Context, arg: str) -> None:
    appointment = family_appointment(ctx, arg)
    if appointment is None:
        return continue_after(ctx)
    ctx.start("appointment_cancel", appointment_id=appointment.id)


def on_move(ctx: Context, arg: str) -> None:
    appointment = family_appointment(ctx, arg)
    if appointment is None:
        return continue_after(ctx)
    ctx.start("appointment_move", appointment_id=appointment.id)


class CancelByFamily(Flow):
    name = "appointment_cancel"
    first_step = "reason"
    typed_steps = {"reason": WORDS}

    def cancel(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("All right. Your Fachkraft will be in touch about the next appointment.") if frame.step == "another"
                else ctx._("Good, the appointment stays as it is."))
        ctx.finish()

    def _appointment(self, ctx: Context, frame: Frame) -> Appointment:
        return ctx.session.get(Appointment, frame.data["appointment_id"])  # type: ignore[return-value]

    def ask_reason(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        appointment = self._appointment(ctx, frame)
        if billing.short_notice(appointment.starts_at, ctx.now):
            ctx.say(_("The appointment is in less than 24 hours. If you cancel now, the {hours} planned for it "
                      "count towards your family's monthly hours, as agreed with the Jugendamt. That is not a "
                      "reproach: we want you to know what it means. Maybe another date helps instead.").format(
                          hours=appts.hours_text(ctx.tr, appointment.duration_minutes)))
        ctx.say(_("You want to cancel: {appointment}. If you like, write in a few words why. You don't have to.")
                .format(appointment=appts.describe(ctx.tr, appointment)),
                [Choice(_("Cancel without a reason"), "none"), Choice(_("Keep the appointment"), "keep")])

    def on_reason(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        appointment = self._appointment(ctx, frame)
        if ctx.choice == "keep":
            ctx.say(_("Good, the appointment stays as it is."))
            return ctx.finish()
        if not still_coming(ctx, appointment):
            no_longer_open(ctx, appointment)
            return ctx.finish()
        reason = None if ctx.choice == "none" else ctx.text[:1000] or None
        late = billing.short_notice(appointment.starts_at, ctx.now)
        assert ctx.member is not None
        appts.cancel(ctx.session, ctx.services, ctx.actor, appointment, by_family=True, reason=reason)
        if late:
            ctx.say(_("The appointment is cancelled. The planned {hours} count towards this month's hours. "
                      "Thank you for letting us know.").format(
                          hours=appts.hours_text(ctx.tr, appointment.duration_minutes)))
        else:
            ctx.say(_("The appointment is cancelled. Thank you for letting us know in good time: "
                      "it does not count towards your hours."))
        name = ctx.member.first_name
        tell_staff(ctx, appointment, lambda tr: Reply(
            (tr.gettext("{name} cancelled at short notice: {appointment} ({case}).") if late
             else tr.gettext("{name} cancelled: {appointment} ({case}).")).format(
                name=name, appointment=appts.describe(tr, appointment), case=appointment.case.title)
            + (("\n" + tr.gettext("Reason: {reason}").format(reason=reason)) if reason else "")))
        self.goto(ctx, frame, "another")

    def ask_another(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        ctx.say(_("Would you like another date?"),
                [Choice(_("Yes, please"), "yes"), Choice(_("No, thank you"), "no")])

    def on_another(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        if ctx.choice == "yes":
            appointment = self._appointment(ctx, frame)
            request_another_date(ctx, appointment, None)
        elif ctx.choice != "no":
            ctx.say(_("Please choose one of the buttons."))
            return self.ask(ctx, frame)
        else:
            ctx.say(_("All right. Your Fachkraft will be in touch about the next appointment."))
        ctx.finish()


def request_another_date(ctx: Context, appointment: Appointment, wish: str | None) -> None:
    assert ctx.member is not None
    name = ctx.member.first_name
    people = appts.staff_of(appointment)

    def render(tr: Translator) -> Reply:
        text = tr.gettext("{name} asks for another date instead of: {appointment} ({case}).").format(
            name=name, appointment=appts.describe(tr, appointment), case=appointment.case.title)
        if wish:
            text += "\n" + tr.gettext("Their wish: {wish}").format(wish=wish)
        choices = [Choice(tr.gettext("Move the appointment"), f"act:appt_reschedule:{appointment.id}")] \
            if appointment.outcome == Outcome.PLANNED else []
        return Reply(text, choices)

    notify_all(ctx.session, people, render, now=ctx.now, kind="appointment.move_request",
               not_before=appts.routine_time(ctx.services, ctx.now))
    ctx.audit("appointment.move_requested", "appointment", appointment.id, case_id=appointment.case_id)
    ctx.say(ctx._("I have passed your wish on to {names}. They will get back to you.").format(
        names=", ".join(p.name for p in people) or ctx._("your Fachkraft")))


class MoveRequest(Flow):
    name = "appointment_move"
    first_step = "wish"
    typed_steps = {"wish": WORDS}
    cancelled_text = N_("Good, the appointment stays as it is.")

    def ask_wish(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        ctx.say(_("When would suit you better? Write it in a few words, for example “Thursday afternoon”."),
                [Choice(_("Any other time is fine"), "any"), Choice(_("Keep the appointment"), "keep")])

    def on_wish(self, ctx: Context, frame: Frame) -> None:
        appointment = ctx.session.get(Appointment, frame.data["appointment_id"])
        assert appointment is not None
        if ctx.choice == "keep":
            ctx.say(ctx._("Good, the appointment stays as it is."))
        else:
            request_another_date(ctx, appointment, None if ctx.choice == "any" else ctx.text[:500] or None)
        ctx.finish()


# --- staff: what happened? ----------------------------------------------------------------------------------------
def on_outcome(ctx: Context, arg: str) -> None:
    ident, _sep, value = arg.partition(":")
    appointment = staff_appointment(ctx, ident, authz.may_record_outcome)
    if appointment is None or value not in {o.value for o in Outcome} - {Outcome.PLANNED}:
        return continue_after(ctx)
    if value in (Outcome.TOOK_PLACE, Outcome.NO_SHOW) and ctx.now < appointment.starts_at:
        not_started_yet(ctx, appointment)
        return continue_after(ctx)
    if value == Outcome.TOOK_PLACE:
        return ctx.start("appointment_duration", appointment_id=appointment.id)
    if value == Outcome.CANCELLED_BY_FAMILY:
        return ctx.start("appointment_cancellation_time", appointment_id=appointment.id)
    if still_coming(ctx, appointment):
        return ctx.start("appointment_cancel_by_us", appointment_id=appointment.id)
    appts.record_outcome(ctx.session, ctx.services, ctx.actor, appointment, value)
    say_recorded(ctx, appointment)
    continue_after(ctx)


def on_change(ctx: Context, arg: str) -> None:
    """A coming appointment from the agenda: the family phoned to cancel it, we cancel it, or it moves."""
    appointment = staff_appointment(ctx, arg, authz.may_cancel_appointment)
    if appointment is None:
        return continue_after(ctx)
    if not still_coming(ctx, appointment):
        no_longer_open(ctx, appointment)
        return continue_after(ctx)
    _ = ctx._
    ident = appointment.id
    ctx.say(_("What has changed? {appointment} ({case})").format(
        appointment=appts.describe(ctx.tr, appointment), case=appointment.case.title),
        [Choice(_("Cancelled by the family"), f"act:appt_outcome:{ident}:{Outcome.CANCELLED_BY_FAMILY}"),
         Choice(_("Cancelled by us"), f"act:appt_outcome:{ident}:{Outcome.CANCELLED_BY_PROVIDER}"),
         Choice(_("Move the appointment"), f"act:appt_reschedule:{ident}")])
    ctx.offer_way_back()


def say_family_told(ctx: Context, appointment: Appointment) -> None:
    """After cancelling a coming appointment: who hears of it (after quiet hours), or that nobody can."""
    reached = [m.first_name for m in appts.members_of(appointment) if chats_of(ctx.session, m)]
    if reached:
        ctx.say(ctx._("A message about it goes to: {names}.").format(names=", ".join(reached)))
    else:
        ctx.say(ctx._("Nobody in the family can be reached by chat. Please tell them yourself."))


class CancelByUs(Flow):
    """"Cancelled by us" for a coming appointment: the family gets a message at once, so ask once more."""

    name = "appointment_cancel_by_us"
    first_step = "sure"

    def ask_sure(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        appointment = ctx.session.get(Appointment, frame.data["appointment_id"])
        if appointment is None:
            no_longer_valid(ctx)
            return ctx.finish()
        ctx.say(_("Cancel {appointment} ({case})? The family will get a message about it.").format(
            appointment=appts.describe(ctx.tr, appointment), case=appointment.case.title),
            [Choice(_("Yes, cancel it"), "yes"), Choice(_("Keep the appointment"), "keep")])

    def on_sure(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice == "keep":
            ctx.say(ctx._("Nothing was changed."))
            return ctx.finish()
        if ctx.choice != "yes":
            ctx.say(ctx._("Please choose one of the buttons."))
            return self.ask(ctx, frame)
        appointment = ctx.session.get(Appointment, frame.data["appointment_id"])
        if appointment is None or not authz.may_cancel_appointment(ctx.principal, appointment):
            no_longer_valid(ctx)
            return ctx.finish()
        if not still_coming(ctx, appointment):
            no_longer_open(ctx, appointment)
            return ctx.finish()
        appts.cancel(ctx.session, ctx.services, ctx.actor, appointment, by_family=False)
        say_recorded(ctx, appointment)
        say_family_told(ctx, appointment)
        ctx.finish()


def not_started_yet(ctx: Context, appointment: Appointment) -> None:
    ctx.say(ctx._("This appointment has not started yet: {appointment}. You can record what happened from "
                  "its start on.").format(appointment=appts.describe(ctx.tr, appointment)))


class CancellationTime(Flow):
    """"Cancelled by the family": when did the cancellation reach us? The answer decides the 24-hour rule
    (and the three-in-a-row rule): 24 h or more before · less than 24 h before · a date and time · not known."""

    name = "appointment_cancellation_time"
    first_step = "when"
    typed_steps = {"when": VALUE, "moment": VALUE}  # "when" also takes a typed moment straight away

    def ask_when(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        appointment = ctx.session.get(Appointment, frame.data["appointment_id"])
        assert appointment is not None
        if still_coming(ctx, appointment):  # phoned in before it: now, or since then (the call was yesterday)
            options = [Choice(_("Just now"), "now"), Choice(_("Enter date and time"), "enter")]
        else:
            options = [Choice(_("24 hours or more before"), f"notice:{Notice.IN_TIME}"),
                       Choice(_("Less than 24 hours before"), f"notice:{Notice.SHORT}"),
                       Choice(_("Enter date and time"), "enter"),
                       Choice(_("Not known"), "unknown")]
        ctx.say(_("When did the family cancel {appointment}?").format(
            appointment=appts.describe(ctx.tr, appointment)), options)

    def on_when(self, ctx: Context, frame: Frame) -> None:
        choice = ctx.choice or ""
        if choice.startswith("notice:"):
            return self.record(ctx, frame, Notice(choice[7:]))
        if choice == "unknown":
            return self.record(ctx, frame, None)
        if choice == "now":
            return self.record(ctx, frame, appts.NOW)
        if choice == "enter":
            return self.goto(ctx, frame, "moment")
        if ctx.text:  # typed straight away: "yesterday 18:00"
            return self.on_moment(ctx, frame)
        self.ask(ctx, frame)

    def ask_moment(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("When did the cancellation reach you? For example “yesterday 18:00” or 14.03.2027 18:30."))

    def on_moment(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        try:
            typed = chat_moment(ctx.text, ctx.tr.lang, ctx.now, prefer="past")
        except TypedDateError as problem:
            ctx.say(problem.message(ctx.tr))
            return self.goto(ctx, frame, "moment")
        moment = typed.at(default_day=ctx.now.astimezone(BERLIN).date())
        if moment is None:
            ctx.say(_("Please give the time as well, for example 18:30."))
            return self.goto(ctx, frame, "moment")
        if moment > ctx.now:
            ctx.say(_("{when} has not come yet. Please give when the family cancelled.").format(
                when=ctx.tr.when(moment)))
            return self.goto(ctx, frame, "moment")
        self.record(ctx, frame, moment)

    def record(self, ctx: Context, frame: Frame, when: appts.When) -> None:
        appointment = ctx.session.get(Appointment, frame.data["appointment_id"])
        coming = appointment is not None and still_coming(ctx, appointment)
        rule = authz.may_cancel_appointment if coming else authz.may_record_cancellation_time
        if appointment is None or not rule(ctx.principal, appointment):
            no_longer_valid(ctx)
            return ctx.finish()
        # Before the visit this cancels it (appointments.record_outcome): the family is told, its reminders go.
        appts.record_outcome(ctx.session, ctx.services, ctx.actor, appointment, Outcome.CANCELLED_BY_FAMILY,
                             cancelled=when)
        say_recorded(ctx, appointment)
        if coming:
            say_family_told(ctx, appointment)
        ctx.finish()


def say_recorded(ctx: Context, appointment: Appointment) -> None:
    _ = ctx._
    item = billing.charge(appts.facts(appointment))
    text = _("Recorded: {appointment}: {outcome}. Off the budget: {used}; billable: {billable}.").format(
        appointment=appts.describe(ctx.tr, appointment), outcome=_(appts.OUTCOME_LABELS[appointment.outcome]),
        used=appts.hours_text(ctx.tr, item.used_minutes),
        billable=appts.hours_text(ctx.tr, float(item.billable_minutes)))
    if item.time_unknown:
        text += "\n" + _("The time of the cancellation is not known, so nothing is billed. The monthly "
                         "statement lists it until you give the time (press “cancelled by the family” again).")
    ctx.say(text)


class ActualDuration(Flow):
    name = "appointment_duration"
    first_step = "minutes"
    typed_steps = {"minutes": VALUE}
    cancelled_text = N_("All right, nothing was recorded.")

    def ask_minutes(self, ctx: Context, frame: Frame) -> None:
        appointment = ctx.session.get(Appointment, frame.data["appointment_id"])
        assert appointment is not None
        ctx.say(ctx._("How long did it take? Press a button or write it, e.g. 2,5 or 2:30."),
                [*hour_choices(ctx.tr), self.cancel_choice(ctx)])

    def on_minutes(self, ctx: Context, frame: Frame) -> None:
        minutes = int(ctx.choice[4:]) if ctx.choice and ctx.choice.startswith("min:") else parse_minutes(ctx.text)
        if minutes is None or not 1 <= minutes <= 24 * 60:
            ctx.say(ctx._("I did not understand the duration. Please write hours, e.g. 2,5 or 2:30."))
            return self.ask(ctx, frame)
        appointment = ctx.session.get(Appointment, frame.data["appointment_id"])
        if appointment is None or not authz.may_record_outcome(ctx.principal, appointment):
            no_longer_valid(ctx)  # the case was handed over (or closed) while the question was open
            return ctx.finish()
        appts.record_outcome(ctx.session, ctx.services, ctx.actor, appointment, Outcome.TOOK_PLACE, minutes)
        say_recorded(ctx, appointment)
        ctx.finish()


def on_approve(ctx: Context, arg: str) -> None:
    try:
        request = budget.approve_extra_hours(ctx.session, ctx.services, int(arg) if arg.isdigit() else -1,
                                             ctx.staff.id if ctx.staff else -1)
    except (AdminError, authz.NotAllowed):
        no_longer_valid(ctx)
    else:
        ctx.say(ctx._("Thank you. The extra {hours} for {case} are confirmed.").format(
            hours=appts.hours_text(ctx.tr, request.minutes), case=request.case.title))
    continue_after(ctx)


def on_reschedule(ctx: Context, arg: str) -> None:
    appointment = staff_appointment(ctx, arg, authz.may_move_appointment)
    if appointment is None:
        return continue_after(ctx)
    if appointment.outcome != Outcome.PLANNED:
        no_longer_open(ctx, appointment)
        return continue_after(ctx)
    ctx.start("appointment_new", appointment_id=appointment.id)


# --- staff: a new appointment (or a new date for one) --------------------------------------------------------------
KIND_ORDER = [AppointmentKind.HAUSBESUCH, AppointmentKind.HILFEPLANGESPRAECH, AppointmentKind.MEILENSTEINGESPRAECH,
              AppointmentKind.GRUPPENANGEBOT, AppointmentKind.KRISENINTERVENTION, AppointmentKind.OTHER]


class NewAppointment(Flow):
    """case → kind → day → time → duration → single or weekly → confirm. With ``appointment_id``: day → time."""

    name = "appointment_new"
    first_step = "case"
    typed_steps = {"day": VALUE, "clock": VALUE, "duration": VALUE}
    cancelled_text = N_("Discarded. Nothing was entered.")

    def begin(self, ctx: Context, frame: Frame) -> None:
        if frame.data.get("appointment_id"):
            return self.goto(ctx, frame, "day")
        cases = staff_cases(ctx)
        if not cases:
            ctx.say(ctx._("You are not assigned to a case yet."))
            return ctx.finish()
        if len(cases) == 1:
            frame.data["case_id"] = cases[0].id
            return self.goto(ctx, frame, "kind")
        self.goto(ctx, frame, "case")

    def ask_case(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("For which family?"),
                [*(Choice(c.title, f"case:{c.id}") for c in staff_cases(ctx)), self.cancel_choice(ctx)])

    def on_case(self, ctx: Context, frame: Frame) -> None:
        if not (ctx.choice or "").startswith("case:"):
            return self.ask(ctx, frame)
        frame.data["case_id"] = int(ctx.choice[5:])  # type: ignore[index]
        self.goto(ctx, frame, "kind")

    def ask_kind(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("What kind of appointment?"),
                [*(Choice(appts.kind_label(ctx.tr, k), f"kind:{k}") for k in KIND_ORDER), self.cancel_choice(ctx)])

    def on_kind(self, ctx: Context, frame: Frame) -> None:
        if not (ctx.choice or "").startswith("kind:"):
            return self.ask(ctx, frame)
        frame.data["kind"] = ctx.choice[5:]  # type: ignore[index]
        self.goto(ctx, frame, "day")

    def ask_day(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("On which day? For example 16.03.2027, “tomorrow” or “Thursday 10:00”."))

    def on_day(self, ctx: Context, frame: Frame) -> None:
        today = ctx.now.astimezone(BERLIN).date()
        try:
            typed = chat_moment(ctx.text, ctx.tr.lang, ctx.now)
        except TypedDateError as problem:
            ctx.say(problem.message(ctx.tr))
            return self.ask(ctx, frame)
        if typed.day is None or typed.day < today:
            ctx.say(ctx._("Please give a day from today on, for example 16.03.2027."))
            return self.ask(ctx, frame)
        frame.data["day"] = typed.day.isoformat()
        if typed.clock is None:
            return self.goto(ctx, frame, "clock")
        self.take_start(ctx, frame, typed.at())

    def ask_clock(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("At what time? For example 10:00."), [self.cancel_choice(ctx)])

    def on_clock(self, ctx: Context, frame: Frame) -> None:
        try:
            typed = chat_moment(ctx.text, ctx.tr.lang, ctx.now)
        except TypedDateError as problem:
            ctx.say(problem.message(ctx.tr))
            return self.ask(ctx, frame)
        if typed.clock is None:
            ctx.say(ctx._("Please give a time in the future, for example 10:00."))
            return self.ask(ctx, frame)
        self.take_start(ctx, frame, typed.at(default_day=date.fromisoformat(frame.data["day"])))

    def take_start(self, ctx: Context, frame: Frame, start: datetime | None) -> None:
        if start is None or start <= ctx.now:
            ctx.say(ctx._("Please give a time in the future, for example 10:00."))
            return self.goto(ctx, frame, "clock")
        frame.data["start"] = start.isoformat()
        if frame.data.get("appointment_id"):
            return self.move(ctx, frame, start)
        self.goto(ctx, frame, "duration")

    def move(self, ctx: Context, frame: Frame, start: datetime) -> None:
        appointment = ctx.session.get(Appointment, frame.data["appointment_id"])
        if appointment is None or not authz.may_move_appointment(ctx.principal, appointment):
            no_longer_valid(ctx)
            return ctx.finish()
        try:
            appts.reschedule(ctx.session, ctx.services, ctx.actor, appointment, start)
        except AdminError:
            no_longer_open(ctx, appointment)
        else:
            ctx.say(ctx._("Moved to {appointment}. The family has been told.").format(
                appointment=appts.describe(ctx.tr, appointment)))
        ctx.finish()

    def ask_duration(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("How long? Press a button or write it, e.g. 2,5 or 2:30."),
                [*hour_choices(ctx.tr), self.cancel_choice(ctx)])

    def on_duration(self, ctx: Context, frame: Frame) -> None:
        minutes = int(ctx.choice[4:]) if ctx.choice and ctx.choice.startswith("min:") else parse_minutes(ctx.text)
        if minutes is None or not 5 <= minutes <= 24 * 60:
            ctx.say(ctx._("I did not understand the duration. Please write hours, e.g. 2,5 or 2:30."))
            return self.ask(ctx, frame)
        frame.data["minutes"] = minutes
        self.goto(ctx, frame, "repeat")

    def ask_repeat(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        ctx.say(_("Once, or every week?"),
                [Choice(_("Once"), "weeks:1"), Choice(_("Weekly, 4 weeks"), "weeks:4"),
                 Choice(_("Weekly, 8 weeks"), "weeks:8"), Choice(_("Weekly, 12 weeks"), "weeks:12"),
                 self.cancel_choice(ctx)])

    def on_repeat(self, ctx: Context, frame: Frame) -> None:
        if not (ctx.choice or "").startswith("weeks:"):
            return self.ask(ctx, frame)
        frame.data["weeks"] = int(ctx.choice[6:])  # type: ignore[index]
        self.goto(ctx, frame, "confirm")

    def ask_confirm(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        case = ctx.session.get(Case, frame.data["case_id"])
        assert case is not None
        start = datetime.fromisoformat(frame.data["start"])
        weeks = frame.data["weeks"]
        text = _("{kind} with {case}: {when} ({hours}).").format(
            kind=appts.kind_label(ctx.tr, frame.data["kind"]), case=case.title, when=ctx.tr.when(start),
            hours=appts.hours_text(ctx.tr, frame.data["minutes"]))
        if weeks > 1:
            text += " " + _("Every week, {weeks} times.").format(weeks=weeks)
        stmt = budget.case_statement(ctx.session, case, Month.of(start))
        if budget.periods(ctx.session, case) and frame.data["kind"] != AppointmentKind.KRISENINTERVENTION \
                and billing.exceeds_budget(stmt, frame.data["minutes"]):
            text += " " + _("This goes beyond the budget for that month ({remaining} left); the fallführende "
                            "Fachkraft will be asked to confirm the extra hours.").format(
                                remaining=appts.hours_text(ctx.tr, stmt.allowed_minutes - stmt.used_minutes
                                                           - stmt.planned_minutes))
        clashes = [a for s in appts.weekly_starts(start, weeks)
                   for a in appts.overlapping(ctx.session, case, s, frame.data["minutes"])]
        if frame.data["kind"] == AppointmentKind.MEILENSTEINGESPRAECH \
                and any(a.kind == AppointmentKind.MEILENSTEINGESPRAECH for a in clashes):
            ctx.say(_("There is already a Meilensteingespräch with {case} at that time: {appointment}. "
                      "Please choose another day.").format(case=case.title, appointment=appts.describe(
                          ctx.tr, next(a for a in clashes if a.kind == AppointmentKind.MEILENSTEINGESPRAECH))))
            return self.goto(ctx, frame, "day")
        if clashes:
            warning = _("Careful: it overlaps with {appointment}.") if len(clashes) == 1 else \
                _("Careful: it overlaps with {appointment} and {count} more appointments.")
            text += " " + warning.format(appointment=appts.describe(ctx.tr, clashes[0]), count=len(clashes) - 1)
        ctx.say(text + " " + _("Shall I enter it and tell the family?"),
                [Choice(_("Yes, enter it"), "yes"), Choice(_("No, discard"), "no")])

    def on_confirm(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        if ctx.choice == "no":
            ctx.say(_("Discarded. Nothing was entered."))
            return ctx.finish()
        if ctx.choice != "yes":
            return self.ask(ctx, frame)
        case = ctx.session.get(Case, frame.data["case_id"])
        if case is None or ctx.staff is None or not authz.may_plan_appointment(ctx.principal, case):
            no_longer_valid(ctx)
            return ctx.finish()
        start = datetime.fromisoformat(frame.data["start"])
        args = (ctx.session, ctx.services, ctx.staff, case, frame.data["kind"], start, frame.data["minutes"],
                [ctx.staff], appts.default_members(case))
        try:
            with ctx.session.begin_nested():  # a series is entered whole or not at all
                created = appts.create_weekly(*args, weeks=frame.data["weeks"]) if frame.data["weeks"] > 1 \
                    else [appts.create_appointment(*args)]
        except AdminError:  # another Meilensteingespräch was entered at that time meanwhile
            ctx.say(_("Nothing was entered: another Meilensteingespräch of this family is planned at that time."))
            return ctx.finish()
        ctx.say(ctx.tr.ngettext("Entered {count} appointment. The family has been told.",
                                "Entered {count} appointments. The family has been told.",
                                len(created)).format(count=len(created)))
        ctx.finish()


# --- staff: the hours statement -------------------------------------------------------------------------------------
def show_hours(ctx: Context, arg: str) -> None:
    # a closed help has no hours to plan any more: its figures stay in the console and `budget show`
    cases = [c for c in staff_cases(ctx, authz.may_see_hours) if authz.is_open(c)]
    if not cases:
        ctx.say(ctx._("You are not assigned to a case yet."))
        return
    if len(cases) > 1 and not arg:
        ctx.say(ctx._("For which family?"), [Choice(c.title, f"act:hours_case:{c.id}") for c in cases])
        return
    show_statement(ctx, cases[0])


def on_hours_case(ctx: Context, arg: str) -> None:
    case = ctx.session.get(Case, int(arg)) if arg.isdigit() else None
    if case is None or not authz.may_see_hours(ctx.principal, case):
        no_longer_valid(ctx)
    else:
        show_statement(ctx, case)
    continue_after(ctx)


def show_statement(ctx: Context, case: Case) -> None:
    stmt = budget.case_statement(ctx.session, case, Month.of(ctx.now))
    reply = budget.statement_reply(ctx.tr, case, stmt, budget.to_review(ctx.session, case, stmt.month))
    ctx.audit("budget.read", "case", case.id, case_id=case.id, month=str(stmt.month))
    ctx.say(reply.text, attachments=reply.attachments)


REGISTRY.flow(CancelByFamily())
REGISTRY.flow(MoveRequest())
REGISTRY.flow(ActualDuration())
REGISTRY.flow(CancellationTime())
REGISTRY.flow(CancelByUs())
REGISTRY.flow(NewAppointment())
REGISTRY.action(Action("appt_confirm", on_confirm, Audience.FAMILY))
REGISTRY.action(Action("appt_cancel", on_cancel, Audience.FAMILY))
REGISTRY.action(Action("appt_move", on_move, Audience.FAMILY))
REGISTRY.action(Action("appt_outcome", on_outcome, Audience.STAFF))
REGISTRY.action(Action("appt_reschedule", on_reschedule, Audience.STAFF))
REGISTRY.action(Action("appt_change", on_change, Audience.STAFF))
REGISTRY.action(Action("approve_hours", on_approve, Audience.STAFF))
REGISTRY.action(Action("hours_case", on_hours_case, Audience.STAFF))
REGISTRY.command(Command("appointment", {"de": "termin", "en": "appointment"}, N_("New appointment"),
                         lambda ctx, _arg: ctx.start("appointment_new"), Audience.STAFF,
                         roles=(Role.FACHKRAFT,), in_menu=True))
REGISTRY.command(Command("hours", {"de": "stunden", "en": "hours"}, N_("Hours of my families"), show_hours,
                         Audience.STAFF, roles=(Role.FACHKRAFT, Role.FALLFUEHREND), in_menu=True))


def my_appointments(session: Session, person: FamilyMember | StaffMember) -> list[dict[str, Any]]:
    """/meine_daten: the appointments a family member was expected at, and what became of them."""
    if not isinstance(person, FamilyMember):
        return []
    rows = session.scalars(select(Appointment).join(AppointmentMember).where(
        AppointmentMember.member_id == person.id).order_by(Appointment.starts_at))
    return [{"starts_at": a.starts_at.isoformat(), "minutes": a.duration_minutes, "kind": a.kind,
             "outcome": a.outcome, "confirmed_by_family": a.confirmed_at is not None,
             "cancelled_at": a.cancelled_at.isoformat() if a.cancelled_at else None,
             "cancel_reason": a.cancel_reason} for a in rows]


REGISTRY.data_sections["appointments"] = my_appointments
