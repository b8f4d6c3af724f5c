"""Linking a chat: invite code → language → privacy notice → linked.

Nothing about the person is recorded before they accept the notice: the code is only checked (and
failed attempts counted per chat); the chat is linked and the code used up when they agree.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from conversations import invites
from conversations.context import Context
from conversations.flows.base import VALUE, Flow, Frame
from conversations.i18n import Translator, available_languages, language_name
from conversations.messages import Choice
from conversations.privacy.notice import family_periods, staff_periods
from conversations.privacy.retention import policy
from conversations.registry import REGISTRY
from conversations.settings import Settings
from storage.models import ChatIdentity, FamilyMember, InviteCode, Organisation, StaffMember


def org_name(org: Organisation | None, tr: Translator) -> str:
    return org.name if org else tr.gettext("your provider")


def family_privacy_notice(tr: Translator, org: Organisation | None, settings: Settings) -> str:
    _ = tr.gettext
    return "\n".join([
        _("Before we start: what happens with what you write here."),
        "",
        "• " + _("What I keep: your name, this chat, your language, your appointments and the answers you give me."),
        "• " + _("Who reads it: your Fachkräfte ({org}). Answers for a Meilensteingespräch are also read by the "
                 "person who leads it. Complaints are read only by the complaint office.").format(org=org_name(org, tr)),
        "• " + _("Why: to organise your help together and to hear your view."),
        "• " + _("If you write something that sounds like a child is in danger, I show you numbers for help at "
                 "once and tell your Fachkräfte. I decide nothing myself."),
        *("• " + line for line in family_periods(tr, policy(settings, org.settings if org else None), settings)),
        "• " + _("Your rights: /{mydata} shows what is stored about you. /{unlink} unlinks this chat.").format(
            mydata=REGISTRY.commands["mydata"].word(tr.lang), unlink=REGISTRY.commands["unlink"].word(tr.lang)),
    ])


def staff_privacy_notice(tr: Translator, org: Organisation | None, settings: Settings) -> str:
    _ = tr.gettext
    return "\n".join([
        _("Before we start: what Wegbegleiter records about your work."),
        "",
        "• " + _("Your name, roles, this chat, and what you record about appointments and cases."),
        "• " + _("Every change and every reading of a complaint is logged with your name and the time."),
        "• " + _("You see only the cases you work on, as your role at {org} allows.").format(org=org_name(org, tr)),
        "• " + staff_periods(tr, policy(settings, org.settings if org else None)),
        "• " + _("/{mydata} shows what is stored about you. /{unlink} unlinks this chat.").format(
            mydata=REGISTRY.commands["mydata"].word(tr.lang), unlink=REGISTRY.commands["unlink"].word(tr.lang)),
    ])


# What was agreed to stays readable in the chat: a channel that shows an answer in the pressed question's
# place (Telegram) does so only for plain replies, so the notice keeps its words once "I agree" is pressed.
PRIVACY_NOTICE = "privacy-notice"


def privacy_notice_for(tr: Translator, person: FamilyMember | StaffMember | None, settings: Settings) -> str:
    """The notice in effect for this person: their organisation's retention periods, in their language."""
    if isinstance(person, StaffMember):
        return staff_privacy_notice(tr, person.organisation, settings)
    return family_privacy_notice(tr, person.case.organisation if person else None, settings)


def language_choices() -> list[Choice]:
    return [Choice(language_name(lang), f"lang:{lang}") for lang in available_languages()]


def invited_person(invite: InviteCode) -> FamilyMember | StaffMember:
    person = invite.member or invite.staff
    assert person is not None
    return person


def link(session: Session, ctx: Context, invite: InviteCode, language: str) -> ChatIdentity | None:
    """Link this chat to the invited person; None if the code was used up meanwhile."""
    person = invited_person(invite)
    identity = ChatIdentity(channel=ctx.incoming.channel, address=ctx.incoming.address, linked_at=ctx.now)
    if isinstance(person, FamilyMember):
        identity.member = person
    else:
        identity.staff = person
    session.add(identity)
    session.flush()
    if not invites.redeem(session, invite.id, identity.id, ctx.now):
        session.delete(identity)
        return None
    person.language = language
    if person.consent_at is None:
        person.consent_at = ctx.now
    case_id = person.case_id if isinstance(person, FamilyMember) else None
    ctx.identity = identity
    ctx.audit("chat.linked", "chat_identity", identity.id, case_id=case_id, channel=identity.channel)
    return identity


class Onboarding(Flow):
    name = "onboarding"
    first_step = "code"
    typed_steps = {"code": VALUE}

    def begin(self, ctx: Context, frame: Frame) -> None:
        code = frame.data.pop("code", None) or (ctx.text if invites.normalise(ctx.text) else None)
        if code:
            frame.step = "code"
            self.try_code(ctx, frame, code)
        else:
            self.goto(ctx, frame, "code")

    # Once the code is known, the chat speaks to the invited person as they are addressed: a young person
    # reads du from the welcome on (the chat is linked only at the end, so ctx.person is still empty).
    def addressed(self, ctx: Context, frame: Frame) -> FamilyMember | StaffMember | None:
        invite = ctx.session.get(InviteCode, frame.data["invite_id"]) if frame.data.get("invite_id") else None
        return invited_person(invite) if invite is not None else None

    def resume(self, ctx: Context, frame: Frame) -> None:
        # The language chosen with /sprache while this flow asked for it: that question is answered.
        if frame.step == "language" and (ctx.choice or "").startswith("lang:"):
            self.goto(ctx, frame, "privacy")
            return
        super().resume(ctx, frame)

    def cancel(self, ctx: Context, frame: Frame) -> None:
        ctx.reset()
        ctx.say(ctx._("That is all right. Nothing has been recorded. If you change your mind, "
                      "just send your code again."))

    def ask_code(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        ctx.say(
            _("Hello! I am Wegbegleiter, the chat helper for your family help. "
              "Please send me the code from your invitation letter, for example ABCD-EFG-HJK."),
            [Choice(_("Choose language"), "language")],
        )

    def on_code(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice == "language":
            ctx.start("language")
            return
        self.try_code(ctx, frame, ctx.text)

    def try_code(self, ctx: Context, frame: Frame, text: str) -> None:
        _ = ctx._
        settings = ctx.services.settings
        try:
            invite = invites.check(ctx.session, text, channel=ctx.incoming.channel, address=ctx.incoming.address,
                                   now=ctx.now, max_failures=settings.invite_max_failures,
                                   max_failures_total=settings.invite_max_failures_total)
        except invites.InviteProblem as problem:
            ctx.say({
                "unknown": _("I could not use this code. Please check it and send it again (it looks like "
                             "ABCD-EFG-HJK), or ask your Fachkraft for a new one."),
                "expired": _("This code has expired. Please ask your Fachkraft for a new one."),
                "too_many": _("That was one try too many. Please wait {minutes} minutes and try again.").format(
                    minutes=problem.wait_minutes),
            }[problem.reason])
            return
        person = invited_person(invite)
        frame.data["invite_id"] = invite.id
        if not ctx.state.language:
            # Greet in the language the Fachkraft noted on the invitation (Ayşe: Turkish), unless the
            # person already chose one here; the next question lets them pick any other.
            ctx.state.language = person.language
        ctx.refresh_language()  # (and as the invited person is addressed: see addressed)
        _ = ctx._
        ctx.say(_("Hello {name}, welcome!").format(name=person.first_name if isinstance(person, FamilyMember)
                                                    else person.name))
        self.goto(ctx, frame, "language")

    def ask_language(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Which language should I write in?"), language_choices())

    def on_language(self, ctx: Context, frame: Frame) -> None:
        if not (ctx.choice or "").startswith("lang:"):
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        ctx.state.language = ctx.choice.removeprefix("lang:")  # type: ignore[union-attr]
        ctx.refresh_language()
        self.goto(ctx, frame, "privacy")

    def ask_privacy(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        invite = ctx.session.get(InviteCode, frame.data["invite_id"])
        person = invited_person(invite) if invite else None
        ctx.say(
            privacy_notice_for(ctx.tr, person, ctx.services.settings) + "\n\n" + _("Nothing is recorded until you agree."),
            [Choice(_("I agree"), "accept"), Choice(_("No, thank you"), "decline")],
            kind=PRIVACY_NOTICE,
        )

    def on_privacy(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        if ctx.choice == "decline":
            ctx.reset()
            ctx.say(_("That is all right. Nothing has been recorded. If you change your mind, "
                      "just send your code again."))
            return
        if ctx.choice != "accept":
            ctx.say(_("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        invite = ctx.session.get(InviteCode, frame.data["invite_id"])
        identity = link(ctx.session, ctx, invite, ctx.tr.lang) if invite else None
        ctx.reset()
        if identity is None:
            ctx.say(_("This code can no longer be used. Please ask your Fachkraft for a new one."))
            return
        ctx.refresh_language()
        ctx.say(_("Thank you! This chat is now linked. You can write /{help} at any time.").format(
            help=REGISTRY.commands["help"].word(ctx.tr.lang)))
        ctx.start("menu")


class Language(Flow):
    """Choose or change the language (/sprache), before or after linking."""

    name = "language"
    first_step = "choose"

    def ask_choose(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Which language should I write in?"), language_choices())

    def on_choose(self, ctx: Context, frame: Frame) -> None:
        if not (ctx.choice or "").startswith("lang:"):
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        lang = ctx.choice.removeprefix("lang:")  # type: ignore[union-attr]
        if ctx.person is not None:
            ctx.person.language = lang
            ctx.audit("person.language_changed", "person", ctx.actor, language=lang)
        else:
            ctx.state.language = lang
        ctx.refresh_language()
        ctx.say(ctx._("Fine, I will write in English from now on."))
        ctx.finish()


REGISTRY.flow(Onboarding())
REGISTRY.flow(Language())
