"""Everyone's basics: the menu, /start, /hilfe, /sprache, /datenschutz, /meine_daten, /abmelden."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from conversations.context import Context
from conversations.flows.base import Flow, Frame
from conversations.flows.onboarding import privacy_notice_for
from conversations.i18n import N_, language_name
from conversations.messages import Attachment, Choice
from conversations.registry import REGISTRY, Audience, Command
from storage.chats import forget_chat, withdraw_pending
from storage.models import ChatIdentity, FamilyMember, StaffMember


def command_word(ctx: Context, key: str) -> str:
    return "/" + REGISTRY.commands[key].word(ctx.tr.lang)


def commands_for(ctx: Context) -> list[Command]:
    return [c for c in REGISTRY.commands.values() if ctx.allowed(c.audience, c.roles)]


def continue_where_we_were(ctx: Context) -> None:
    """After a side remark (/hilfe, /datenschutz), repeat the open question or the menu."""
    ctx.resume()


class Menu(Flow):
    name = "menu"
    first_step = "choose"

    def ask_choose(self, ctx: Context, frame: Frame) -> None:
        entries = [c for c in commands_for(ctx) if c.in_menu]
        ctx.say(ctx._("What would you like to do?"),
                [Choice(ctx._(c.description), f"cmd:{c.key}") for c in entries])

    def on_choose(self, ctx: Context, frame: Frame) -> None:
        self.other_text(ctx, frame, screened=False)

    def other_text(self, ctx: Context, frame: Frame, *, screened: bool) -> None:
        """Words written to the menu. After a danger screen's help nothing follows (no menu, nothing that
        reads like being sent away); otherwise a kind word on what the chat can and cannot do."""
        if screened:
            return
        if ctx.text:
            ctx.say(ctx._("Thank you for your message. I am a chat program and cannot answer it myself; "
                          "please tell your Fachkraft directly. Here is what I can do for you:") if ctx.member
                    else ctx._("I cannot answer messages in my own words. Here is what I can do for you:"))
        self.ask(ctx, frame)


class Unlink(Flow):
    name = "unlink"
    first_step = "confirm"
    cancelled_text = N_("Good, everything stays as it is.")

    def ask_confirm(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        ctx.say(_("Do you want to unlink this chat? I will then no longer send you messages here. "
                  "What was recorded stays with your provider, as the law requires."),
                [Choice(_("Yes, unlink"), "yes"), Choice(_("No, stay linked"), "no")])

    def on_confirm(self, ctx: Context, frame: Frame) -> None:
        _ = ctx._
        if ctx.choice == "yes" and ctx.identity is not None:
            case_id = ctx.member.case_id if ctx.member else None
            ctx.audit("chat.unlinked", "chat_identity", ctx.identity.id, case_id=case_id,
                      channel=ctx.identity.channel)
            # Nothing queued earlier (a reminder waiting for the morning) may follow the goodbye.
            withdraw_pending(ctx.session, ctx.incoming.channel, ctx.incoming.address)
            forget_chat(ctx.session, ctx.incoming.channel, ctx.incoming.address, keep_state=True)
            ctx.session.delete(ctx.identity)
            ctx.identity = None
            ctx.reset()
            ctx.say(_("This chat is unlinked. Thank you for the time together. "
                      "If you want to come back, ask your Fachkraft for a new code."))
        elif ctx.choice == "no":
            ctx.say(_("Good, everything stays as it is."))
            ctx.finish()
        else:
            ctx.say(_("Please choose one of the buttons."))
            self.ask(ctx, frame)


def personal_data(ctx: Context) -> dict[str, Any]:
    person = ctx.person
    assert person is not None
    chats = ctx.session.scalars(
        select(ChatIdentity).where(
            ChatIdentity.member_id == person.id if isinstance(person, FamilyMember)
            else ChatIdentity.staff_id == person.id
        )
    )
    data: dict[str, Any] = {
        "name": person.display_name,
        "language": person.language,
        "email": person.email,
        "privacy_notice_accepted": person.consent_at.isoformat() if person.consent_at else None,
        "linked_chats": [{"channel": c.channel, "linked": c.linked_at.isoformat()} for c in chats],
    }
    if isinstance(person, FamilyMember):
        data["case"] = {"reference": person.case.reference, "title": person.case.title}
        data["born"] = person.birth_date.isoformat() if person.birth_date else None
    if isinstance(person, StaffMember):
        data["roles"] = sorted(r.role for r in person.roles)
        data["cases"] = sorted({a.case.reference for a in person.assignments if a.until is None})
    for name, section in REGISTRY.data_sections.items():
        data[name] = section(ctx.session, person)
    return data


# The export's keys stay the same in every language (a program may read the file); the legend says in the
# reader's language what each one means. Neutral words, no address: the same for adults and young people.
LEGEND = {
    "name": N_("Name"),
    "language": N_("Language of the messages"),
    "email": N_("Email address"),
    "privacy_notice_accepted": N_("Privacy notice accepted on"),
    "linked_chats": N_("Linked chats"),
    "channel": N_("Chat program"),
    "linked": N_("Linked on"),
    "case": N_("The help (case)"),
    "reference": N_("Reference number"),
    "title": N_("Name of the help"),
    "born": N_("Date of birth"),
    "roles": N_("Roles"),
    "cases": N_("Cases worked on"),
    "meilensteingespraech": N_("Questionnaires for Meilensteingespräche"),
    "meeting": N_("Date of the talk"),
    "hilfeplan": N_("Views before Hilfeplangespräche"),
    "talk": N_("Day of the Hilfeplangespräch"),
    "invited": N_("Invited on"),
    "sent": N_("Sent on"),
    "answers": N_("Answers, by question"),
    "complaint_passed_on": N_("Complaint passed on to the complaint office"),
    "appointments": N_("Appointments"),
    "starts_at": N_("Begins at"),
    "minutes": N_("Length in minutes"),
    "kind": N_("Kind (of appointment or message)"),
    "outcome": N_("Outcome"),
    "confirmed_by_family": N_("Confirmed by the family"),
    "cancelled_at": N_("Cancelled on"),
    "cancel_reason": N_("Reason for cancelling"),
    "complaints": N_("Complaints"),
    "received": N_("Received on"),
    "about": N_("Topic"),
    "anonymous": N_("Sent anonymously"),
    "status": N_("Status"),
    "answered_to_your_satisfaction": N_("Rating of the answer"),
    "messages": N_("Messages"),
    "at": N_("Time"),
    "text": N_("Text"),
    "files": N_("Files"),
}
OPAQUE = {"answers"}  # its keys name questions (goal:3, child:5), explained by the key itself


def keys_of(data: Any) -> list[str]:
    """Every key of the export, in the order they first appear (not inside OPAQUE values)."""
    found: dict[str, None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                found[key] = None
                if key not in OPAQUE:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(data)
    return list(found)


def with_legend(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """The export with, first, what its fields mean in the reader's language."""
    legend = {key: ctx._(LEGEND[key]) for key in keys_of(data) if key in LEGEND}
    return {ctx._("What the fields mean"): legend, **data}


def show_personal_data(ctx: Context, _arg: str) -> None:
    _ = ctx._
    person = ctx.person
    assert person is not None
    data = personal_data(ctx)
    lines = [
        _("This is what is stored about you:"),
        _("Name: {name}").format(name=person.display_name),
        _("Language: {language}").format(language=language_name(person.language)),
    ]
    if person.consent_at:
        lines.append(_("Privacy notice accepted: {when}").format(when=ctx.tr.when(person.consent_at)))
    if isinstance(person, FamilyMember):
        lines.append(_("Your help: {case}").format(case=person.case.title))
    lines.append(_("Linked chats: {count}").format(count=len(data["linked_chats"])))
    lines.append(_("The attached file contains everything in full."))
    export = json.dumps(with_legend(ctx, data), ensure_ascii=False, indent=2, default=str).encode()
    ctx.say("\n".join(lines), attachments=[Attachment("meine-daten.json", "application/json", export)])
    ctx.audit("personal_data.exported", "person", ctx.actor,
              case_id=person.case_id if isinstance(person, FamilyMember) else None)
    continue_where_we_were(ctx)


def show_help(ctx: Context, _arg: str) -> None:
    _ = ctx._
    lines = [_("I can help you with these commands:")]
    for command in commands_for(ctx):
        lines.append(f"/{command.word(ctx.tr.lang)} – {_(command.description)}")
    org = ctx.member.case.organisation if ctx.member else (ctx.staff.organisation if ctx.staff else None)
    if org and org.phone:
        lines += ["", _("You can reach {org} by phone: {phone} ({hours}).").format(
            org=org.name, phone=org.phone, hours=org.phone_hours or "")]
    lines += ["", _("In an emergency call 110 (police) or 112 (ambulance). "
                    "Nummer gegen Kummer for children and young people: 116 111.")]
    if ctx.addressee is None:
        lines += ["", _("To start, send me the code from your invitation letter.")]
    elif ctx.person is None:  # the code was right: the language or the consent is left
        lines += ["", _("Almost there: please answer this question first, then this chat is linked.")]
    ctx.say("\n".join(lines))
    ctx.offer_way_back()  # answers from any state: the interrupted flow is not entered


def show_privacy(ctx: Context, _arg: str) -> None:
    ctx.say(privacy_notice_for(ctx.tr, ctx.person, ctx.services.settings))
    continue_where_we_were(ctx)


def start(ctx: Context, arg: str) -> None:
    _ = ctx._
    if ctx.person is None:
        ctx.reset()
        ctx.start("onboarding", code=arg) if arg else ctx.start("onboarding")
        return
    ctx.say(_("Hello {name}, this chat is already linked.").format(name=ctx.person.display_name))
    ctx.reset()
    ctx.start("menu")


def cancel_flow(ctx: Context, _arg: str) -> None:
    """ "Abbrechen" (typed in any language, /abbrechen, or the option): leave the guided flow that is open."""
    frame = ctx.frame
    if frame is None or frame.flow == "menu":
        ctx.say(ctx._("There is nothing to cancel right now."))
        ctx.offer_way_back()
        return
    REGISTRY.flows[frame.flow].cancel(ctx, frame)


def open_menu(ctx: Context, _arg: str) -> None:
    ctx.reset()
    ctx.start("menu")


REGISTRY.flow(Menu())
REGISTRY.flow(Unlink())
for command in (
    Command("start", {"de": "start", "en": "start"}, N_("Start"), start, Audience.ANYONE),
    Command("help", {"de": "hilfe", "en": "help"}, N_("Help and contact"), show_help, Audience.ANYONE,
            in_menu=True, aliases=("?",)),
    Command("menu", {"de": "menue", "en": "menu"}, N_("Main menu"), open_menu, Audience.LINKED,
            aliases=("menü",)),
    Command("language", {"de": "sprache", "en": "language"}, N_("Change language"),
            lambda ctx, _arg: ctx.start("language"), Audience.ANYONE, in_menu=True),
    Command("privacy", {"de": "datenschutz", "en": "privacy"}, N_("Privacy: who reads what"), show_privacy,
            Audience.ANYONE),
    Command("mydata", {"de": "meine_daten", "en": "my_data"}, N_("Show my data"), show_personal_data,
            Audience.LINKED, in_menu=True),
    Command("unlink", {"de": "abmelden", "en": "unlink"}, N_("Unlink this chat"),
            lambda ctx, _arg: ctx.start("unlink"), Audience.LINKED),
    Command("cancel", {"de": "abbrechen", "en": "cancel"}, N_("Stop what we are doing"), cancel_flow,
            Audience.ANYONE, aliases=("stop", "stopp", "vazgeç", "iptal")),
):
    REGISTRY.command(command)
