"""Every option of every reply, in every flow and every offered language, answers to its number and to its
words: a walk generated from the registry, on the console channel (tests/bot/test_matrix_walk.py walks Matrix).

The cast of SCENARIOS.md links over the console in one language and lives through a compressed March and April:
appointments arrive, reminders and "what happened?" come, a danger signal raises an alert, a Meilensteingespräch
sends its questionnaires and later asks for the evaluation, the monthly proof asks the family. Each person starts
every command the registry offers them, and every pushed message with options as it arrives, and the walker
(tests/support/walk.py) checks at every reply with options that each option's number and words choose exactly
it, types one (by number and by words in turn) and follows it. In German every option of every question is
typed once (so every question behind it is reached); in the other languages the walk follows the options that
led to a new question in German, so every question is reached and every option checked there too.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from sqlalchemy import select

from bot.channels.base import OutgoingMessage
from bot.channels.console import ConsoleSession
from bot.scheduler import run_all
from conversations import appointments as appts
from conversations import budget
from conversations.admin import Actor
from conversations.clock import berlin
from conversations.engine import TurnResult
from conversations.i18n import available_languages, language_name, translator
from conversations.messages import Incoming
from conversations.milestone import core
from conversations.registry import REGISTRY, Audience
from conversations.rules.outcomes import AppointmentKind
from storage.models import Case, FamilyMember, StaffMember
from tests.conftest import empty_database
from tests.support.walk import Walker

OPS = Actor("walk")
CAST = {"ayse": "Ayşe", "emre": "Emre", "jana": "Jana", "kerstin": "Kerstin", "sabine": "Sabine",
        "martina": "Martina"}


class ConsoleChat:
    """A person at the terminal: the console channel's own session, sender and transport."""

    def __init__(self, app, name: str) -> None:  # type: ignore[no-untyped-def]
        self.app, self.name = app, name
        self.session = ConsoleSession(app, name, write=lambda _text: None)
        self.arrived: list[OutgoingMessage] = []
        transport = self.session.sender.transport
        original = transport.send

        async def recording(message: OutgoingMessage) -> str | None:
            self.arrived.append(message)
            return await original(message)

        transport.send = recording  # type: ignore[method-assign]

    def type(self, text: str) -> tuple[TurnResult, list[OutgoingMessage]]:
        incoming = Incoming(channel="console", address=self.name, event_id=uuid.uuid4().hex,
                            received_at=self.app.services.clock.now(), text=text)
        result = self.app.engine.handle(incoming)
        return result, self.deliver()

    def deliver(self) -> list[OutgoingMessage]:
        before = len(self.arrived)
        asyncio.run(self.session.flush())
        return self.arrived[before:]


def commands_for(person: FamilyMember | StaffMember) -> list[tuple[str, str]]:
    """The commands of the registry open to this person: their key, and their word in the person's language."""
    words = []
    for command in REGISTRY.commands.values():
        audience = command.audience
        if isinstance(person, FamilyMember):
            allowed = audience in (Audience.ANYONE, Audience.LINKED, Audience.FAMILY)
        else:
            allowed = audience in (Audience.ANYONE, Audience.LINKED) or (
                audience == Audience.STAFF and (not command.roles or person.has_role(*command.roles)))
        if allowed:
            words.append((command.key, "/" + command.word(person.language)))
    return words


def avoid_for(lang: str):  # type: ignore[no-untyped-def]
    """Options the walk does not take: unlinking, and another language than the one walked."""
    def avoid(flow: str, payload: str) -> bool:
        return (flow == "unlink" and payload == "yes") or (payload.startswith("lang:") and payload != f"lang:{lang}")
    return avoid


def world(app, codes: dict[str, str], lang: str, leading: dict) -> list[Walker]:  # type: ignore[no-untyped-def]
    """The cast linked over the console in ``lang``, each with a walker."""
    walkers = []
    for address, name in CAST.items():
        chat = ConsoleChat(app, address)
        chat.type(codes[name])
        chat.type(language_name(lang))
        chat.type(translator(lang).gettext("I agree"))
        memory = leading.setdefault(name, {"leading": {}, "productive": set()})
        walkers.append(Walker(name, "console", address, app, chat.type, chat.deliver, lang, avoid_for(lang),
                              leading=memory["leading"], productive=memory["productive"]))
    return walkers


def starts(app, walker: Walker) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from storage.models import ChatIdentity

    with app.sessions() as session:
        identity = session.scalar(select(ChatIdentity).where(ChatIdentity.address == walker.address))
        return commands_for(identity.member or identity.staff)  # type: ignore[union-attr,arg-type]


def month(app, clock, walkers: list[Walker], only_leading: bool) -> None:  # type: ignore[no-untyped-def]
    """The compressed March and April, walking every person's commands and every push as it comes."""
    by_name = {w.name: w for w in walkers}
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        jana = session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber"))
        sabine = session.scalar(select(StaffMember).where(StaffMember.name == "Sabine Roth"))
        budget.set_budget(session, OPS, clock.now(), case, 20 * 60, date(2027, 3, 1))
        core.add_goal(session, OPS, clock.now(), case, "Emre geht jeden Tag zur Schule", "richtungsziel")
        appts.create_weekly(session, app.services, OPS, case, AppointmentKind.HAUSBESUCH, berlin(2027, 3, 2, 10),
                            120, [jana], appts.default_members(case), weeks=3)
        core.create_milestone(session, OPS, clock.now(), case, berlin(2027, 4, 14, 10), sabine,
                              services=app.services)
    by_name["Ayşe"].pushed(only_leading=only_leading)  # "New appointment", with its options
    for walker in walkers:
        walker.explore(starts(app, walker), only_leading=only_leading)

    clock.set(berlin(2027, 3, 2, 12, 5))  # the first visit is over: "what happened?"
    run_all(app.services)
    by_name["Jana"].pushed(only_leading=only_leading)
    clock.set(berlin(2027, 3, 7, 10, 0))  # the reminder two days before
    run_all(app.services)
    by_name["Ayşe"].pushed(only_leading=only_leading)
    by_name["Emre"].type("ich halt das zuhause nicht mehr aus")  # the alert
    for name in ("Jana", "Martina", "Kerstin"):
        by_name[name].pushed(only_leading=only_leading)
    clock.set(berlin(2027, 4, 1, 9, 0))  # the monthly proof; the complaints sent meanwhile are overdue
    run_all(app.services)
    for walker in walkers:
        walker.pushed(only_leading=only_leading)
    clock.set(berlin(2027, 4, 4, 9, 0))  # the questionnaires
    run_all(app.services)
    for walker in walkers:
        walker.pushed(only_leading=only_leading)
    clock.set(berlin(2027, 4, 14, 12, 0))  # after the talk: the evaluation
    run_all(app.services)
    for walker in walkers:
        walker.pushed(only_leading=only_leading)
        walker.explore(starts(app, walker), only_leading=only_leading)


LANGUAGES = ["de", *(lang for lang in available_languages() if lang != "de")]


def test_every_option_answers_to_its_number_and_its_words_in_every_language(app, clock, settings, database_url):
    from bot import demo

    leading: dict = {}
    report = []
    problems = []
    for lang in LANGUAGES:
        empty_database(database_url)
        clock.set(berlin(2027, 3, 1, 9, 0))
        with app.sessions.begin() as session:
            demo.seed(session, clock, settings.invite_ttl_days)
            invites = demo.fresh_invites(session, clock, settings.invite_ttl_days)
        codes = {i.who.split()[0].replace("Dr.", "Schulz"): i.code for i in invites}
        walkers = world(app, codes, lang, leading)
        month(app, clock, walkers, only_leading=lang != "de")
        questions = {key for w in walkers for key in w.taken}
        report.append(f"{lang}: {len(questions)} questions, {sum(w.checked for w in walkers)} options checked, "
                      f"{sum(w.turns for w in walkers)} turns")
        problems += [str(p) for w in walkers for p in w.problems]
        if lang == "de":
            assert len(questions) >= 40, report  # the walk really reaches the flows
    print("\n".join(report))
    assert problems == []
