"""The option walk on Matrix: a family member and a Fachkraft type numbers and words in Element's place.

Against the real Synapse (one per session), in every offered language: Ayşe links in that language, then
walks each flow open to her once (every command, and "Meine Termine" with a pushed appointment), typing
options by number and by words in turn; Jana walks hers once in German and Arabic. At every reply with options
each option's number and words must choose exactly that option, from the state the Matrix delivery wrote, and
the typed one must be what the bot then acted on. The console walk (tests/conversations/test_option_walk.py)
types every option of every question; Matrix covers each flow once per language, the leg that proves the
network in between changes nothing (reply fallbacks, notices, the order messages arrive in).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.base import OutgoingMessage
from bot.outbox import Outcome
from conversations import admin
from conversations import appointments as appts
from conversations.admin import Actor
from conversations.clock import berlin
from conversations.engine import TurnResult
from conversations.i18n import available_languages, language_name, translator
from conversations.messages import Incoming
from conversations.rules.outcomes import AppointmentKind
from storage.models import Case, MemberKind, OutboxMessage, OutboxStatus, StaffMember
from tests.bot.test_matrix import RunningBot
from tests.conftest import with_settings
from tests.conversations.test_option_walk import avoid_for, commands_for
from tests.support.synapse import MatrixPerson, Synapse
from tests.support.walk import Walker

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Delivered:
    """What the bot's Matrix sender finished (written as sent, open question remembered), per room."""

    def __init__(self, running: RunningBot) -> None:
        self.by_room: dict[str, list[OutgoingMessage]] = {}
        self.results: dict[str, list[TurnResult]] = {}
        app = running.app
        handle = app.engine.handle

        def recording(incoming: Incoming) -> TurnResult:
            result = handle(incoming)
            self.results.setdefault(incoming.address, []).append(result)
            return result

        app.engine.handle = recording  # type: ignore[method-assign]
        self.running = running

    def hook(self) -> None:
        """After (re)start: note every message the Matrix sender finished."""
        assert self.running.channel is not None and self.running.channel.dispatcher is not None
        sender = self.running.channel.dispatcher.senders["matrix"]
        finish = sender._finish

        def finishing(outcomes: list[Outcome], chain: bool = False) -> list[OutgoingMessage]:
            following = finish(outcomes, chain)
            for outcome in outcomes:
                self.by_room.setdefault(outcome.message.address, []).append(outcome.message)
            return following

        sender._finish = finishing  # type: ignore[method-assign]


@pytest.fixture
async def walk_bot(app: App, synapse: Synapse) -> AsyncIterator[tuple[RunningBot, Delivered]]:
    user = synapse.register("wegbegleiter")
    bot_app = with_settings(app, matrix_homeserver=synapse.url, matrix_user_id=user.user_id,
                            matrix_password=user.password)
    running = RunningBot(bot_app, user)
    delivered = Delivered(running)
    await running.start()
    delivered.hook()
    yield running, delivered
    with contextlib.suppress(Exception):
        await running.stop()


def settled(app: App, room: str, delivered: set[int]) -> bool:
    """Everything due for the room is delivered and noted (the open question is written)."""
    now = app.services.clock.now()
    with app.sessions() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.next_attempt_at)
                               .where(OutboxMessage.channel == "matrix", OutboxMessage.address == room)).all()
    for ident, status, due in rows:
        if status == OutboxStatus.SENDING or (status == OutboxStatus.PENDING and due <= now):
            return False
        if status == OutboxStatus.SENT and ident not in delivered:
            return False
    return True


async def until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    async def wait() -> None:
        while not await asyncio.to_thread(condition):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout)


class MatrixChat:
    """Typing into a room as a person's Matrix app does, for a Walker running in a thread of its own."""

    def __init__(self, running: RunningBot, delivered: Delivered, person: MatrixPerson, room: str,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.running, self.delivered, self.person, self.room, self.loop = running, delivered, person, room, loop

    def _mine(self) -> list[OutgoingMessage]:
        return self.delivered.by_room.setdefault(self.room, [])

    def _settled(self) -> bool:
        return settled(self.running.app, self.room, {i for m in self._mine() for i in (m.id, *m.joined)})

    async def _type(self, text: str) -> tuple[TurnResult, list[OutgoingMessage]]:
        results = self.delivered.results.setdefault(self.room, [])
        seen, answered = len(self._mine()), len(results)
        await self.person.say(self.room, text)
        await until(lambda: len(results) > answered and self._settled())
        return results[-1], sorted(self._mine()[seen:], key=lambda m: m.id)

    async def _deliver(self) -> list[OutgoingMessage]:
        seen = len(self._mine())
        assert self.running.channel is not None and self.running.channel.dispatcher is not None
        self.running.channel.dispatcher.poke()
        await until(self._settled)
        return sorted(self._mine()[seen:], key=lambda m: m.id)

    def type(self, text: str) -> tuple[TurnResult, list[OutgoingMessage]]:
        return asyncio.run_coroutine_threadsafe(self._type(text), self.loop).result(90)

    def deliver(self) -> list[OutgoingMessage]:
        return asyncio.run_coroutine_threadsafe(self._deliver(), self.loop).result(90)


async def linked(running: RunningBot, delivered: Delivered, synapse: Synapse, store: Path, address: str,
                 lang: str) -> tuple[MatrixPerson, MatrixChat]:
    """A person's Matrix app in a direct chat with the bot, greeted; the code is typed by the walk."""
    person = MatrixPerson(synapse, synapse.register(address), store)
    await person.start()
    room = await person.direct_chat(running.user.user_id, encrypted=lang == "ar")
    await person.next_text(room)
    return person, MatrixChat(running, delivered, person, room, asyncio.get_running_loop())


def starts_of(app: App, room: str, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    from storage.models import ChatIdentity

    with app.sessions() as session:
        identity = session.scalar(select(ChatIdentity).where(ChatIdentity.address == room))
        return [s for s in commands_for(identity.member or identity.staff) if s[0] in keys]  # type: ignore[union-attr,arg-type]


# Each flow with options once: the family's and (in two languages) the Fachkraft's.
FAMILY_FLOWS = ("emergency", "complaint", "my_appointments", "unlink")
STAFF_FLOWS = ("appointment", "agenda")
DEPTH = 3  # the first questions of each flow: the console walk follows them to the end


async def test_every_flow_on_matrix_answers_to_numbers_and_words_in_every_language(
        walk_bot, synapse, tmp_path, app, settings, clock):
    """Every language at once, each in its own room and thread (the bot serves rooms side by side)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot import demo

    running, delivered = walk_bot
    languages = available_languages()
    actor, now, ttl = Actor("walk"), clock.now(), settings.invite_ttl_days
    codes: dict[tuple[str, str], str] = {}
    with running.app.sessions.begin() as session:
        demo.seed(session, clock, ttl)
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        team = {s.name: s for s in session.scalars(select(StaffMember))}
        for lang in languages:  # one parent per language (an invitation is per person), and two Fachkräfte
            parent = admin.add_member(session, actor, now, case, f"Deniz-{lang}", "Yılmaz", MemberKind.PARENT,
                                      date(1990, 1, 1), lang)
            codes[("family", lang)] = admin.invite(session, actor, now, parent, ttl)
        codes[("staff", "de")] = admin.invite(session, actor, now, team["Jana Weber"], ttl)
        appts.create_appointment(session, running.app.services, actor, case, AppointmentKind.HAUSBESUCH,
                                 berlin(2027, 3, 9, 10), 120, [team["Jana Weber"]], appts.default_members(case))
    people, jobs = [], []
    for (who, lang), code in codes.items():
        matrix_person, chat = await linked(running, delivered, synapse, tmp_path / f"{who}-{lang}",
                                           f"{who}-{lang.replace('@', '-')}", lang)
        people.append(matrix_person)
        walker = Walker(f"{who} person", "matrix", chat.room, running.app, chat.type, chat.deliver, lang,
                        avoid_for(lang), depth=DEPTH)
        jobs.append((walker, chat, code, FAMILY_FLOWS if who == "family" else STAFF_FLOWS))

    def link(walker: Walker, chat: MatrixChat, code: str, _flows: tuple[str, ...]) -> None:
        chat.type(code)
        chat.type(language_name(walker.language))  # the options of onboarding, typed by their words
        chat.type(translator(walker.language).gettext("I agree"))
        walker.pushed()  # the appointment, if it arrived

    def explore(walker: Walker, chat: MatrixChat, _code: str, flows: tuple[str, ...]) -> None:
        walker.explore(starts_of(running.app, chat.room, flows), rounds=1)

    async def side_by_side(step, some: list) -> None:  # type: ignore[no-untyped-def,type-arg]
        with ThreadPoolExecutor(max_workers=len(some)) as pool:  # not the loop's pool: the bot needs that one
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(pool, step, *job) for job in some))

    # The families walk first, then the Fachkraft: what they do (/notfall: an urgent alert, "Mark as handled")
    # reaches her with a button of its own, the newest question on her screen, which takes the words she
    # types from the question the walk is checking. (That is as it should be; the walk must not race it.)
    family, staff = [job for job in jobs if job[3] is FAMILY_FLOWS], [job for job in jobs if job[3] is STAFF_FLOWS]
    try:
        await side_by_side(link, jobs)
        await side_by_side(explore, family)
        await side_by_side(explore, staff)
    finally:
        for matrix_person in people:
            await matrix_person.stop()
    problems = [str(p) for walker, *_rest in jobs for p in walker.problems]
    assert problems == []
    for walker, *_rest in jobs:
        assert len(walker.taken) >= 3, (walker.language, walker.name, walker.taken)  # it reached the flows
