"""Working complaints in the chat, for officers (role beschwerde) and the Leitung.

Every button names a complaint by id; each handler checks that the person pressing it may see that
complaint (:func:`conversations.authz.may_handle_complaint`): a staff member named in a complaint gets the same answer as for a
complaint that does not exist, so nothing is revealed.
"""

from __future__ import annotations

from sqlalchemy import select

from conversations import authz
from conversations.complaints import forwarding, procedure, rules
from conversations.complaints.complainant import button_no_longer_valid, carry_on
from conversations.complaints.rules import OUTCOME_LABELS, STATUS_LABELS, Outcome, Status
from conversations.context import Context
from conversations.flows.base import WORDS, Flow, Frame
from conversations.i18n import N_
from conversations.messages import Choice, Reply
from conversations.registry import REGISTRY, Action, Audience, Command
from storage.models import Role
from storage.models.complaints import Complaint

QUEUE_BUTTONS = 10
OFFICER_ROLES = (Role.BESCHWERDE.value, Role.LEITUNG.value)


def visible(ctx: Context, complaint_id: object) -> Complaint | None:
    try:
        complaint = ctx.session.get(Complaint, int(str(complaint_id)))
    except ValueError:
        return None
    return complaint if complaint is not None and authz.may_handle_complaint(ctx.principal, complaint) else None


def closed_already(ctx: Context, complaint: Complaint) -> bool:
    if complaint.status != Status.CLOSED:
        return False
    ctx.say(ctx._("Complaint {reference} is already closed.").format(reference=complaint.reference))
    carry_on(ctx)
    return True


# --- reading -------------------------------------------------------------------------------------
def show(ctx: Context, arg: str) -> None:
    complaint = visible(ctx, arg)
    if complaint is None:
        button_no_longer_valid(ctx)
        return
    lines = procedure.summary(ctx.tr, ctx.session, complaint) + procedure.history(ctx.tr, complaint)
    procedure.say_with_files(ctx, Reply("\n".join(lines), procedure.officer_choices(ctx.tr, complaint, show=False),
                                        procedure.files_of(complaint)))
    procedure.log(ctx.session, ctx.now, ctx.actor, "complaint.read", complaint)
    carry_on(ctx)


def overdue_mark(ctx: Context, complaint: Complaint) -> str:
    late = rules.deadline_state(complaint, ctx.now) == rules.Deadline.LATE
    return " ⚠ " + ctx._("overdue") if late else ""


def queue(ctx: Context, _arg: str) -> None:
    """The open complaints this person may see, oldest first, with status and due date."""
    _ = ctx._
    assert ctx.staff is not None
    found = [c for c in ctx.session.scalars(
        select(Complaint).where(Complaint.organisation_id == ctx.staff.organisation_id,
                                Complaint.status.in_([s.value for s in rules.OPEN]))
        .order_by(Complaint.submitted_at, Complaint.id)) if authz.may_see_complaint(ctx.principal, c)]
    if not found:
        ctx.say(_("There are no open complaints."))
        carry_on(ctx)
        return
    lines = [_("Open complaints, oldest first:")]
    for c in found:
        status = _(STATUS_LABELS[Status(c.status)]) + (f" ({c.officer.name})" if c.officer else "")
        if c.taken_at is None and c.take_up_due:
            due = _("take up by {date}").format(date=ctx.tr.date(c.take_up_due, "medium"))
        elif c.status in rules.UNANSWERED and c.answer_due:
            due = _("answer by {date}").format(date=ctx.tr.date(c.answer_due, "medium"))
        else:
            due = ""  # answered: the status says it, once
        parts = [c.reference or "?", procedure.about_text(ctx.tr, c), status, due]
        lines.append(" · ".join(p for p in parts if p) + overdue_mark(ctx, c))
    if len(found) > QUEUE_BUTTONS:
        lines.append(_("Buttons for the oldest {count}; the others with `wegbegleiter complaints list`.").format(
            count=QUEUE_BUTTONS))
    ctx.say("\n".join(lines), [Choice(c.reference or "?", f"act:complaint_show:{c.id}") for c in found[:QUEUE_BUTTONS]])
    procedure.log_many(ctx.session, ctx.now, ctx.actor, "complaint.listed", found)
    carry_on(ctx)


# --- changing --------------------------------------------------------------------------------
def take(ctx: Context, arg: str) -> None:
    complaint = visible(ctx, arg)
    if complaint is None:
        button_no_longer_valid(ctx)
        return
    if closed_already(ctx, complaint):
        return
    assert ctx.staff is not None
    if procedure.take_over(ctx.session, ctx.services, complaint, ctx.staff, ctx.now):
        ctx.say(ctx._("You are now handling complaint {reference}. The complainant has been told.").format(
            reference=complaint.reference), procedure.officer_choices(ctx.tr, complaint))
    else:
        ctx.say(ctx._("You are already handling complaint {reference}.").format(reference=complaint.reference),
                procedure.officer_choices(ctx.tr, complaint))
    carry_on(ctx)


def start_writing(mode: str):  # type: ignore[no-untyped-def]
    def handler(ctx: Context, arg: str) -> None:
        complaint = visible(ctx, arg)
        if complaint is None:
            button_no_longer_valid(ctx)
            return
        if closed_already(ctx, complaint):
            return
        ctx.start("complaint_officer_text" if mode != "close" else "complaint_close",
                  complaint=complaint.id, reference=complaint.reference, mode=mode)

    return handler


class OfficerText(Flow):
    """A question or an answer, typed by the officer, relayed to the complainant as written."""

    name = "complaint_officer_text"
    first_step = "text"
    typed_steps = {"text": WORDS}
    cancelled_text = N_("Nothing was sent.")

    def ask_text(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        reference = frame.data["reference"]
        if frame.data["mode"] == "question":
            text = _("Please write your question about complaint {reference}. I will pass it on in the chat; "
                     "an anonymous complainant stays anonymous.").format(reference=reference)
        else:
            text = _("Please write your answer to complaint {reference}. The complainant receives it as you "
                     "write it.").format(reference=reference)
        ctx.say(text, [Choice(_("Cancel"), "cancel")])

    def on_text(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        complaint = visible(ctx, frame.data["complaint"])
        if ctx.choice == "cancel" or complaint is None or complaint.status == Status.CLOSED:
            ctx.say(_("Nothing was sent."))
            ctx.finish()
            return
        if not ctx.text:
            self.ask(ctx, frame)
            return
        assert ctx.staff is not None
        if frame.data["mode"] == "question":
            delivered = procedure.ask(ctx.session, ctx.services, complaint, ctx.staff, ctx.text, ctx.now)
            done = _("Your question has been passed on. You will get the reply here.")
        else:
            delivered = procedure.answer(ctx.session, ctx.services, complaint, ctx.staff, ctx.text, ctx.now)
            done = _("Your answer has been passed on. When everything is done, close the complaint.")
        if not delivered:
            done = _("The complainant's chat is no longer linked, so it could not be passed on. "
                     "It is recorded with the complaint.")
        ctx.say(done, procedure.officer_choices(ctx.tr, complaint))
        ctx.finish()


class CloseComplaint(Flow):
    name = "complaint_close"
    first_step = "outcome"
    typed_steps = {"resolution": WORDS}
    cancelled_text = N_("Nothing was changed.")

    def ask_outcome(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        ctx.say(_("How is complaint {reference} closed?").format(reference=frame.data["reference"]),
                [Choice(_(label), value.value) for value, label in OUTCOME_LABELS.items()]
                + [Choice(_("Cancel"), "cancel")])

    def on_outcome(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice == "cancel":
            ctx.say(ctx._("Nothing was changed."))
            ctx.finish()
            return
        if ctx.choice not in {o.value for o in Outcome}:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        frame.data["outcome"] = ctx.choice
        self.goto(ctx, frame, "resolution")

    def ask_resolution(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("What was done? Please write it in a few sentences; the complainant will read it."),
                [Choice(ctx._("Cancel"), "cancel")])

    def on_resolution(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        complaint = visible(ctx, frame.data["complaint"])
        if ctx.choice == "cancel" or complaint is None or complaint.status == Status.CLOSED:
            ctx.say(_("Nothing was changed."))
            ctx.finish()
            return
        if not ctx.text:
            self.ask(ctx, frame)
            return
        assert ctx.staff is not None
        procedure.close(ctx.session, ctx.services, complaint, ctx.staff, Outcome(frame.data["outcome"]), ctx.text,
                        ctx.now)
        ctx.say(_("Complaint {reference} is closed. The complainant has been asked whether it was dealt with "
                  "to their satisfaction.").format(reference=complaint.reference))
        ctx.finish()


# --- a complaint about the Jugendamt: pass it on (conversations.complaints.jugendamt) ------------------------
def forward_ask(ctx: Context, arg: str) -> None:
    """First a question, with the address and what the complainant agreed to; the second button sends."""
    _ = ctx._
    complaint = visible(ctx, arg)
    if complaint is None or not authz.may_forward_complaint(ctx.principal, complaint):
        button_no_longer_valid(ctx)
        return
    address = forwarding.address_of(ctx.session, ctx.services, complaint)
    if not address:
        ctx.say(forwarding.result_text(ctx.tr, forwarding.Forwarded.NO_ADDRESS, complaint, ""))
        carry_on(ctx)
        return
    ctx.say(_("Pass complaint {reference} on to the Jugendamt's complaint office ({address}), {consent}? What the "
              "complainant wrote goes with it, by email.").format(
                reference=complaint.reference, address=address, consent=forwarding.consent_text(ctx.tr, complaint)),
            [Choice(_("Pass it on now"), f"act:complaint_forward_send:{complaint.id}"),
             Choice(_("Show"), f"act:complaint_show:{complaint.id}")])
    carry_on(ctx)


def forward_send(ctx: Context, arg: str) -> None:
    complaint = visible(ctx, arg)
    if complaint is None:
        button_no_longer_valid(ctx)
        return
    assert ctx.staff is not None
    result = forwarding.forward(ctx.session, ctx.services, complaint, ctx.staff, ctx.now)
    ctx.say(forwarding.result_text(ctx.tr, result, complaint, forwarding.address_of(ctx.session, ctx.services,
                                                                                     complaint)),
            procedure.officer_choices(ctx.tr, complaint))
    carry_on(ctx)


REGISTRY.flow(OfficerText())
REGISTRY.flow(CloseComplaint())
REGISTRY.command(Command("complaints", {"de": "beschwerden", "en": "complaints"}, N_("Complaints to work on"),
                         queue, Audience.STAFF, roles=OFFICER_ROLES, in_menu=True))
for name, handler in (("complaint_show", show), ("complaint_take", take),
                      ("complaint_ask", start_writing("question")), ("complaint_answer", start_writing("answer")),
                      ("complaint_close", start_writing("close")), ("complaint_forward", forward_ask),
                      ("complaint_forward_send", forward_send)):
    REGISTRY.action(Action(name, handler, Audience.STAFF))
