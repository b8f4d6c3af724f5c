"""Complaining, for a family member: /beschwerde at any moment, replies to questions, the final rating.

What they write is kept encrypted in a draft complaint from the first step (never in the chat state,
which is not encrypted); a draft is invisible to officers and deleted if it is left unfinished.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from conversations import admin, authz
from conversations.complaints import jugendamt, procedure, rules
from conversations.complaints.rules import CATEGORY_LABELS, AnswerWanted, Category, Satisfaction, Status
from conversations.context import Context
from conversations.flows.base import VALUE, WORDS, Flow, Frame
from conversations.i18n import N_
from conversations.messages import Choice
from conversations.registry import REGISTRY, Action, Audience, Command
from storage.models import ChatIdentity, FamilyMember, Role, StaffMember
from storage.models.complaints import Complaint

MIN_PHONE_DIGITS = 6


def button_no_longer_valid(ctx: Context) -> None:
    ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
    if ctx.frame is not None:
        ctx.resume()
    elif ctx.person is not None:
        ctx.start("menu")


def carry_on(ctx: Context) -> None:
    """After a button outside the current question: ask the open question again, but not the menu (a
    menu repeated after every button would push the button's own choices out of reach)."""
    if ctx.frame is not None and ctx.frame.flow != "menu":
        ctx.resume()


ComplaintRule = Callable[[authz.Principal, Complaint], bool]


def own_complaint(ctx: Context, complaint_id: object, rule: ComplaintRule, *statuses: Status) -> Complaint | None:
    """The complaint, if this chat may act on it by ``rule`` and it is in one of ``statuses``."""
    try:
        complaint = ctx.session.get(Complaint, int(str(complaint_id)))
    except ValueError:
        return None
    if complaint is None or not rule(ctx.principal, complaint):
        return None
    return complaint if complaint.status in statuses else None


def organisation_name(ctx: Context) -> str:
    return ctx.case.organisation.name if ctx.case else ""


class ComplaintFlow(Flow):
    name = "complaint"
    first_step = "about"
    accepts_attachments = True
    typed_steps = {"what": WORDS, "phone": VALUE}

    def begin(self, ctx: Context, frame: Frame) -> None:
        assert ctx.case is not None and ctx.identity is not None and ctx.member is not None
        draft = Complaint(status=Status.DRAFT, organisation_id=ctx.case.organisation_id, relay=ctx.identity,
                          language=ctx.member.language, category=Category.OTHER, anonymous=False,
                          leitung_only=False, answer_wanted=AnswerWanted.CHAT, created_at=ctx.now)
        ctx.session.add(draft)
        ctx.session.flush()
        frame.data = {"complaint": draft.id, "given": 0}
        ctx.say(ctx._("You can complain here about anything that bothers you. Your complaint is read by the "
                      "complaint office of {org}. Making a complaint will never be held against you. "
                      "You can stop at any time with “Cancel”.").format(org=organisation_name(ctx)))
        self.goto(ctx, frame, self.first_step)

    # --- every step: the draft must still be there; "Cancel" works everywhere ----------------
    def handle(self, ctx: Context, frame: Frame) -> None:
        draft = self._draft_still_there(ctx, frame)
        if draft is None:
            return
        if ctx.choice == "cancel":
            self.cancel(ctx, frame)
            return
        getattr(self, f"on_{frame.step}")(ctx, frame, draft)

    def resume(self, ctx: Context, frame: Frame) -> None:
        # (also after a side flow on top of it, /sprache: meanwhile the draft may have run out)
        if self._draft_still_there(ctx, frame) is not None:
            super().resume(ctx, frame)

    def _draft_still_there(self, ctx: Context, frame: Frame) -> Complaint | None:
        """The draft, or None after saying that it ran out (``DRAFT_LIFETIME``) and ending the flow."""
        draft = own_complaint(ctx, frame.data.get("complaint"), authz.may_write_complaint, Status.DRAFT)
        if draft is None:
            ctx.say(ctx._("This complaint was not sent in time and has been deleted. "
                          "Please start again with /{command}.").format(command=complaint_word(ctx)))
            ctx.finish()
        return draft

    def cancel(self, ctx: Context, frame: Frame) -> None:
        """"Abbrechen" typed or chosen: the draft and what was written are deleted."""
        draft = own_complaint(ctx, frame.data.get("complaint"), authz.may_write_complaint, Status.DRAFT)
        if draft is not None:
            ctx.session.delete(draft)
        ctx.say(ctx._("Nothing was sent, and what you wrote has been deleted. "
                      "You can complain at any time with /{command}.").format(command=complaint_word(ctx)))
        ctx.finish()

    def cancel_option(self, ctx: Context) -> Choice:
        return Choice(ctx._("Cancel"), "cancel")

    def draft(self, ctx: Context, frame: Frame) -> Complaint:
        draft = ctx.session.get(Complaint, frame.data["complaint"])
        assert draft is not None
        return draft

    # --- what it is about ----------------------------------------------------------------------
    def ask_about(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("What is your complaint about?"),
                [Choice(ctx._(label), value.value) for value, label in CATEGORY_LABELS.items()]
                + [self.cancel_option(ctx)])

    def on_about(self, ctx: Context, frame: Frame, draft: Complaint) -> None:
        if ctx.choice not in {c.value for c in Category}:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        draft.category = ctx.choice
        draft.about_staff_id, draft.leitung_only, draft.forward_consent = None, False, None
        if ctx.choice == Category.JUGENDAMT:  # its own route and independent help, before they write
            ctx.say(jugendamt.route_text(ctx.tr, ctx.services.settings, ctx.case.organisation if ctx.case else None))
        self.goto(ctx, frame, "who" if ctx.choice == Category.STAFF and self.team(ctx) else "what")

    def team(self, ctx: Context) -> list:  # type: ignore[type-arg]
        return admin.team(ctx.case) if ctx.case else []

    def ask_who(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        ctx.say(_("Who is it about? The person you name will not see your complaint."),
                [Choice(s.name, f"staff:{s.id}") for s in self.team(ctx)]
                + [Choice(_("Someone else"), "other"), Choice(_("I would rather not say"), "unsaid"),
                   self.cancel_option(ctx)])

    def on_who(self, ctx: Context, frame: Frame, draft: Complaint) -> None:
        chosen = next((s for s in self.team(ctx) if ctx.choice == f"staff:{s.id}"), None)
        if chosen is None and ctx.choice not in ("other", "unsaid"):
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        draft.about_staff_id = chosen.id if chosen else None
        # A complaint about someone who handles complaints goes to the Leitung only.
        draft.leitung_only = bool(chosen and chosen.has_role(Role.BESCHWERDE))
        self.goto(ctx, frame, "what")

    # --- what happened -------------------------------------------------------------------------
    def ask_what(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        choices = [Choice(_("That is all"), "done")] if frame.data.get("given") else []
        ctx.say(_("Please tell me what happened. You can write, or send a voice message, a photo or a document. "
                  "Take your time."), choices + [self.cancel_option(ctx)])

    def on_what(self, ctx: Context, frame: Frame, draft: Complaint) -> None:
        _ = ctx._
        if ctx.choice == "done" and frame.data.get("given"):
            self.goto(ctx, frame, "identity")
            return
        files = ctx.incoming.attachments
        if not ctx.text and not files:
            self.ask(ctx, frame)
            return
        if ctx.text:
            procedure.add_entry(draft, "account", ctx.text, ctx.now)
        procedure.add_files(draft, files, ctx.now)
        frame.data["given"] = int(frame.data.get("given", 0)) + 1
        ctx.say(_("Thank you, I have noted that. You can send more (text, voice message, photo or document), "
                  "or press “That is all”."), [Choice(_("That is all"), "done"), self.cancel_option(ctx)])

    # --- named or anonymous ---------------------------------------------------------------------
    def ask_identity(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        ctx.say("\n\n".join([
            _("Do you want to send the complaint with your name, or anonymously?"),
            _("Anonymously means: the complaint office does not see your name or this chat. Only the chat "
              "program knows which chat the complaint came from, so that questions and the answer can reach "
              "you here. Details in what you wrote may still show who you are."),
        ]), [Choice(_("With my name"), "named"), Choice(_("Anonymously"), "anonymous"), self.cancel_option(ctx)])

    def on_identity(self, ctx: Context, frame: Frame, draft: Complaint) -> None:
        if ctx.choice not in ("named", "anonymous"):
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        draft.anonymous = ctx.choice == "anonymous"
        assert ctx.member is not None
        draft.member_id = None if draft.anonymous else ctx.member.id
        draft.case_id = None if draft.anonymous else ctx.member.case_id
        self.goto(ctx, frame, "forward" if draft.category == Category.JUGENDAMT else "answer")

    # --- about the Jugendamt: may it be passed on? ---------------------------------------------------------
    def ask_forward(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        draft = self.draft(ctx, frame)
        choices = [Choice(label, value) for label, value in
                   jugendamt.consent_choices(ctx.tr, organisation_name(ctx), draft.anonymous)]
        ctx.say(_("May the complaint office pass your complaint on to the Jugendamt's complaint office?"),
                [*choices, self.cancel_option(ctx)])

    def on_forward(self, ctx: Context, frame: Frame, draft: Complaint) -> None:
        allowed = {jugendamt.ANONYMOUS, jugendamt.NO} | (set() if draft.anonymous else {jugendamt.NAMED})
        if ctx.choice not in allowed:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        draft.forward_consent = ctx.choice
        self.goto(ctx, frame, "answer")

    # --- whether and how they want an answer ------------------------------------------------------
    def ask_answer(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        draft = self.draft(ctx, frame)
        choices = [Choice(_("Yes, here in the chat"), AnswerWanted.CHAT.value)]
        if not draft.anonymous:  # a phone number would give the name away
            choices.append(Choice(_("Yes, please call me"), AnswerWanted.PHONE.value))
        choices += [Choice(_("No answer needed"), AnswerWanted.NONE.value), self.cancel_option(ctx)]
        ctx.say(_("Would you like an answer?"), choices)

    def on_answer(self, ctx: Context, frame: Frame, draft: Complaint) -> None:
        allowed = {AnswerWanted.CHAT, AnswerWanted.NONE} | (set() if draft.anonymous else {AnswerWanted.PHONE})
        if ctx.choice not in {a.value for a in allowed}:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        draft.answer_wanted = ctx.choice
        draft.contact = None
        self.goto(ctx, frame, "phone" if ctx.choice == AnswerWanted.PHONE else "confirm")

    def ask_phone(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Please write the phone number we can call you on."), [self.cancel_option(ctx)])

    def on_phone(self, ctx: Context, frame: Frame, draft: Complaint) -> None:
        if sum(ch.isdigit() for ch in ctx.text) < MIN_PHONE_DIGITS or len(ctx.text) > 40:
            ctx.say(ctx._("That does not look like a phone number. Please write it with digits, "
                          "for example 0391 123456."))
            self.ask(ctx, frame)
            return
        draft.contact = ctx.text
        self.goto(ctx, frame, "confirm")

    # --- check and send ------------------------------------------------------------------------
    def ask_confirm(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        draft = self.draft(ctx, frame)
        about = procedure.about_text(ctx.tr, draft)
        lines = [_("Please check your complaint:"),
                 _("About: {about}").format(about=about),
                 _("Sent: anonymously") if draft.anonymous else _("Sent: with your name"),
                 _("Wished for: {answer}").format(answer=_(rules.ANSWER_LABELS[AnswerWanted(draft.answer_wanted)]))]
        if draft.category == Category.JUGENDAMT:
            consent = dict((v, label) for label, v in jugendamt.consent_choices(ctx.tr, organisation_name(ctx), False))
            lines.append(_("Passed on to the Jugendamt: {consent}").format(
                consent=consent.get(draft.forward_consent or "", "—")))
        if draft.files:
            lines.append(ctx.tr.ngettext("{count} file attached", "{count} files attached", len(draft.files)).format(
                count=len(draft.files)))
        lines += ["", _("Send the complaint now?")]
        ctx.say("\n".join(lines), [Choice(_("Send"), "send"), self.cancel_option(ctx)])

    def on_confirm(self, ctx: Context, frame: Frame, draft: Complaint) -> None:
        if ctx.choice != "send":
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        procedure.submit(ctx.session, ctx.services, draft, ctx.now, ctx.member)
        acknowledge(ctx, draft)
        ctx.finish()


def acknowledge(ctx: Context, complaint: Complaint) -> None:
    _ = ctx._
    org = organisation_name(ctx)
    rules_ = rules.policy(ctx.services.settings, ctx.case.organisation if ctx.case else None)
    assert complaint.take_up_due and complaint.answer_due
    lines = [
        _("Thank you. Your complaint has been received."),
        _("Your reference: {reference}").format(reference=complaint.reference),
        "",
        _("What happens next: the complaint office of {org} takes up your complaint by {take_up} and answers "
          "it by {answer} at the latest. I will tell you here when something happens.").format(
            org=org, take_up=ctx.tr.date(complaint.take_up_due), answer=ctx.tr.date(complaint.answer_due)),
    ]
    if complaint.anonymous:
        lines.append(_("Your name and this chat are not shown to the complaint office."))
    lines += ["", _("Independent help outside {org}, free and confidential: {ombudsstelle}").format(
        org=org, ombudsstelle=rules_.ombudsstelle)]
    ctx.say("\n".join(lines))


def complaint_word(ctx: Context) -> str:
    return REGISTRY.commands["complaint"].word(ctx.tr.lang)


def start_complaint(ctx: Context, _arg: str) -> None:
    if ctx.case is None or not authz.may_complain(ctx.principal, ctx.case):
        ctx.say(ctx._("This command is not available to you."))
        return
    if any(frame.flow == "complaint" for frame in ctx.stack):
        ctx.say(ctx._("You are already writing a complaint. Let us continue."))
        ctx.resume()
        return
    ctx.start("complaint")


# --- replying to an officer's question ----------------------------------------------------------
class ComplaintReply(Flow):
    name = "complaint_reply"
    first_step = "text"
    accepts_attachments = True
    typed_steps = {"text": WORDS}
    cancelled_text = N_("Your reply was not sent.")

    def ask_text(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Please write your reply about {reference}. You can also send a voice message, a photo "
                      "or a document.").format(reference=frame.data.get("reference", "")),
                [Choice(ctx._("Cancel"), "cancel")])

    def on_text(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        complaint = own_complaint(ctx, frame.data.get("complaint"), authz.may_reply_to_complaint, *rules.OPEN)
        if ctx.choice == "cancel" or complaint is None:
            ctx.say(_("Your reply was not sent."))
            ctx.finish()
            return
        if not ctx.text and not ctx.incoming.attachments:
            self.ask(ctx, frame)
            return
        procedure.reply(ctx.session, ctx.services, complaint, ctx.member, ctx.text, ctx.incoming.attachments,
                        ctx.now)
        ctx.say(_("Thank you, I have passed your reply on to the complaint office."))
        ctx.finish()


def start_reply(ctx: Context, arg: str) -> None:
    complaint = own_complaint(ctx, arg, authz.may_reply_to_complaint, *rules.OPEN)
    if complaint is None:
        button_no_longer_valid(ctx)
        return
    ctx.start("complaint_reply", complaint=complaint.id, reference=complaint.reference)


def rate(ctx: Context, arg: str) -> None:
    _ = ctx._
    complaint_id, _sep, value = arg.partition(":")
    complaint = own_complaint(ctx, complaint_id, authz.may_rate_complaint, Status.CLOSED)
    if complaint is None or value not in {s.value for s in Satisfaction}:
        button_no_longer_valid(ctx)
        return
    if complaint.satisfaction is not None:
        ctx.say(_("You have already answered this. Thank you."))
    else:
        procedure.rate(ctx.session, ctx.services, complaint, ctx.member, Satisfaction(value), ctx.now)
        ctx.say(_("Thank you for your answer."))
        if value != Satisfaction.YES:
            policy = rules.policy(ctx.services.settings, ctx.case.organisation if ctx.case else None)
            ctx.say(_("I am sorry it was not fully resolved. You can complain again at any time with /{command}, "
                      "or turn to independent help: {ombudsstelle}").format(
                command=complaint_word(ctx), ombudsstelle=policy.ombudsstelle))
    carry_on(ctx)


def my_complaints(session: Session, person: FamilyMember | StaffMember) -> list[dict[str, Any]]:
    """/meine_daten: the complaints this family member sent, named or anonymous, with the exchange."""
    if not isinstance(person, FamilyMember):
        return []
    chats = select(ChatIdentity.id).where(ChatIdentity.member_id == person.id)
    found = session.scalars(select(Complaint).where(
        Complaint.status != Status.DRAFT,
        or_(Complaint.member_id == person.id, Complaint.relay_identity_id.in_(chats))).order_by(Complaint.id))
    return [{"reference": c.reference, "received": c.submitted_at.isoformat() if c.submitted_at else None,
             "about": c.category, "anonymous": c.anonymous, "status": c.status, "outcome": c.outcome,
             "answered_to_your_satisfaction": c.satisfaction,
             "messages": [{"at": e.at.isoformat(), "kind": e.kind, "text": e.text} for e in c.entries],
             "files": [f.filename for f in c.files]} for c in found]


REGISTRY.data_sections["complaints"] = my_complaints
REGISTRY.flow(ComplaintFlow())
REGISTRY.flow(ComplaintReply())
REGISTRY.command(Command(
    "complaint",
    {"de": "beschwerde", "en": "complaint", "tr": "şikayet", "ar": "شكوى", "uk": "скарга", "ru": "жалоба"},
    N_("Make a complaint"), start_complaint, Audience.FAMILY, in_menu=True,
    aliases=("beschweren", "sikayet", "complain", "skarga", "zhaloba"),
))
# Also from a chat that is no longer linked: after the help ended the complaint keeps its chat's address,
# and authz.may_reply_to_complaint / may_rate_complaint decide from it.
REGISTRY.action(Action("complaint_reply", start_reply, Audience.ANYONE, answered_in_words=True))
REGISTRY.action(Action("complaint_rating", rate, Audience.ANYONE))
