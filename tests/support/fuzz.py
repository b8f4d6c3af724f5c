"""Random conversations for several linked people, with the invariants checked after every turn.

Shared by the property-based test (tests/conversations/test_fuzz.py, a few seconds, derandomized) and the
long run (bench/dialog_fuzz.py, 20,000 turns and more). A :class:`World` is the cast of SCENARIOS.md linked on
the test channel (two families, Fachkräfte, the complaint office, the Leitung), with appointments, a budget and
a Meilensteingespräch. :func:`random_act` draws what someone does next from a ``random.Random`` (hypothesis
hands in one it controls, so it can shrink a failing run): text in any script, control characters, very long
texts, numbers in any script, every command word, an option of their own (by button, number or words), a
forged or another family's button, a file, or time passing with the periodic tasks run.

After each act :meth:`World.perform` checks: no exception escaped the engine, the person got at least one
reply, a turn offered at most one list and only as its last message, and no message to a family holds the
other family's names or case reference.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bot import demo
from bot.channels.base import OutgoingMessage
from bot.outbox import ChannelSender
from bot.scheduler import run_all
from conversations import appointments as appts
from conversations import budget
from conversations.admin import Actor
from conversations.clock import berlin
from conversations.flows.onboarding import PRIVACY_NOTICE
from conversations.messages import Attachment, Incoming
from conversations.milestone import core
from conversations.registry import REGISTRY
from conversations.rules.outcomes import AppointmentKind
from storage.models import Case, ChatIdentity, ConversationState, FamilyMember, StaffMember
from tests.support.harness import CollectingTransport

OPS = Actor("fuzz")
CHANNEL = "test"
# address → (who, language); the two families must never see each other
CAST = {
    "ayse": ("Ayşe Yılmaz", "tr"), "murat": ("Murat Yılmaz", "de"), "emre": ("Emre Yılmaz", "de"),
    "olga": ("Olga Petrenko", "uk"), "jana": ("Jana Weber", "de"), "tobias": ("Tobias Klein", "ar"),
    "kerstin": ("Kerstin Braun", "de"), "martina": ("Martina Hoffmann", "ru"), "sabine": ("Sabine Roth", "de"),
}
FAMILY_OF = {"ayse": "yilmaz", "murat": "yilmaz", "emre": "yilmaz", "olga": "petrenko"}
FORBIDDEN = {  # what a family's chat must never read: the other family
    "yilmaz": ("Petrenko", "Olga"),
    "petrenko": ("Yılmaz", "Yilmaz", "Ayşe", "Murat", "Emre", "Leyla"),
}
SCRIPTS = [
    "Hallo, wann kommt Jana am Dienstag?", "Ich kann morgen nicht, Leyla ist krank.", "yarın gelemiyorum",
    "Merhaba, randevu ne zaman?", "مرحبا، متى الموعد؟", "لا أستطيع الحضور غدا", "Коли наступна зустріч?",
    "Я не можу прийти завтра", "Когда следующая встреча?", "שלום", "你好", "🙂👍", "ok", "ja", "nein", "evet",
    "hayır", "так", "ні", "да", "нет", "نعم", "لا", "Abbrechen", "abbrechen", "iptal", "Отмена", "cancel",
    "Hilfe", "menü", "Termin absagen", "Bestätigen", "16.03.2027", "10:00", "2,5", "morgen 10 Uhr",
    "0391 123456", "ich halt das zuhause nicht mehr aus", "my son is hungry after school",
]
NUMBERS = ["1", "2", "3", "4", "5", "7", "9", "10", "12", "0", "-1", "12345", "²", "①", "١", "٢", "۳", "０", "２",
           "🔟", "2️⃣", "3.", "(1)", "1 2", "99999999999999999999"]
CONTROL = "".join(chr(c) for c in range(32)) + "\u007f\u200b\u200e\u200f\u202e\u2066\u2069\ufeff"
FORGED = ["yes", "no", "send", "cancel", "accept", "lang:xx", "lang:de", "cmd:nope", "cmd:help", "nav:resume",
          "nav:keep", "nav:retype", "nav:cancel", "act:", "act:nope:1", "act:appt_confirm:", "act:appt_confirm:x",
          "act:appt_confirm:999999", "act:esc_ack:1", "act:complaint_show:1", "act:complaint_take:1",
          "act:ms_open:1", "act:nachweis_ok:1", "act:approve_hours:1", "act:appt_outcome:1:took_place",
          "act:appt_record:1", "act:agenda:week", "act:agenda:'; DROP TABLE", "min:999999", "kind:nope", "case:0",
          "staff:1", "goal:1", "weeks:1000", "x" * 300, ""]
FILES = [Attachment("photo.jpg", "image/jpeg", b"\xff\xd8\xff" + bytes(200)),
         Attachment("voice.ogg", "audio/ogg", b"OggS" + bytes(300)),
         Attachment("brief.pdf", "application/pdf", b"%PDF-1.4 " + bytes(100)),
         Attachment("leer.txt", "text/plain", b"")]

_ids = itertools.count(1)


@dataclass
class Act:
    who: str
    kind: str  # text, choose, forge, file, tick
    text: str = ""
    payload: str | None = None
    attachments: tuple[Attachment, ...] = ()
    advance: timedelta = timedelta(0)

    def __str__(self) -> str:
        shown = self.text if len(self.text) < 60 else f"{self.text[:30]}…({len(self.text)} chars)"
        return f"{self.who} {self.kind} {shown!r} {self.payload or ''}{' +file' if self.attachments else ''}" \
               f"{' +' + str(self.advance) if self.advance else ''}"


# The menu, a guided flow, a side flow on top (/sprache), and a question per pressed reminder (the duration of
# appointment 5, then of appointment 6): seven were seen in 60,000 random turns; more than ten means frames
# are left behind.
MAX_OPEN_FLOWS = 10


@dataclass
class World:
    app: Any
    transport: CollectingTransport = field(default_factory=CollectingTransport)
    seen: dict[str, list[OutgoingMessage]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    sender: ChannelSender | None = None

    def __post_init__(self) -> None:
        self.sender = ChannelSender(self.app.sessions, self.app.services.clock, self.transport)
        handle = self.app.engine._apologise

        def counting(incoming: Incoming):  # type: ignore[no-untyped-def]
            self.counts["apologies"] += 1  # (called while the turn's exception is handled: it is a bug)
            failure = sys.exc_info()[1]
            self.problems.append(f"{incoming.address} {incoming.text[:40] or incoming.payload!r}: the turn failed "
                                 f"({failure!r} in {traceback.extract_tb(failure.__traceback__)[-1].name if failure else '?'})"
                                 " and was apologised for")
            return handle(incoming)

        self.app.engine._apologise = counting

    # --- the cast -------------------------------------------------------------------------------
    def build(self, settings: Any) -> None:
        """The cast linked (as onboarding leaves them), with March's visits and April's Meilensteingespräch."""
        clock = self.app.services.clock
        now = clock.now()
        with self.app.sessions.begin() as session:
            demo.seed(session, clock, settings.invite_ttl_days)
            people: dict[str, FamilyMember | StaffMember] = {}
            for member in session.scalars(select(FamilyMember)):
                people[member.display_name] = member
            for staff in session.scalars(select(StaffMember)):
                people[staff.name] = staff
            for address, (name, lang) in CAST.items():
                person = people[name]
                person.language, person.consent_at = lang, now
                identity = ChatIdentity(channel=CHANNEL, address=address, linked_at=now)
                if isinstance(person, FamilyMember):
                    identity.member = person
                else:
                    identity.staff = person
                session.add(identity)
            case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
            jana = people["Jana Weber"]
            assert case is not None and isinstance(jana, StaffMember)
            budget.set_budget(session, OPS, now, case, 6 * 60, date(2027, 3, 1))
            core.add_goal(session, OPS, now, case, "Emre geht jeden Tag zur Schule", "richtungsziel")
            appts.create_weekly(session, self.app.services, OPS, case, AppointmentKind.HAUSBESUCH,
                                berlin(2027, 3, 2, 10), 120, [jana], appts.default_members(case), weeks=6)
            sabine = people["Sabine Roth"]
            assert isinstance(sabine, StaffMember)
            core.create_milestone(session, OPS, now, case, berlin(2027, 3, 20, 10), sabine, services=self.app.services)
        self.deliver()

    # --- acting ---------------------------------------------------------------------------------
    def deliver(self) -> list[OutgoingMessage]:
        before = len(self.transport.sent)

        async def drain() -> None:
            assert self.sender is not None
            while await self.sender.deliver_due():
                pass

        asyncio.run(drain())
        new = self.transport.sent[before:]
        for message in new:
            self.seen.setdefault(message.address, []).append(message)
        return new

    def options(self, who: str) -> list[Any]:
        mine = [m for m in self.seen.get(who, []) if m.choices]
        return mine[-1].choices if mine else []

    def perform(self, act: Act) -> None:
        self.counts["acts"] += 1
        if act.kind == "tick":
            self.app.services.clock.advance(act.advance)
            try:
                run_all(self.app.services)
            except Exception as exc:  # a periodic task must not fail either
                self.problems.append(f"{act}: periodic task failed: {exc!r}")
            self.check_privacy(self.deliver(), act)
            return
        incoming = Incoming(channel=CHANNEL, address=act.who, event_id=f"f{next(_ids)}",
                            received_at=self.app.services.clock.now(), text=act.text, payload=act.payload,
                            attachments=act.attachments)
        self.counts["turns"] += 1
        try:
            result = self.app.engine.handle(incoming)
        except Exception as exc:
            self.problems.append(f"{act}: the engine raised {exc!r}")
            return
        arrived = self.deliver()
        mine = [m for m in arrived if m.address == act.who]
        replies = [m for m in mine if m.kind in ("reply", "complaint.show", PRIVACY_NOTICE)]
        self.counts["replies"] += len(replies)
        if result.replies == 0 or not replies:
            self.problems.append(f"{act}: no reply")
        asking = [i for i, m in enumerate(replies) if m.choices]
        if len(asking) > 1 or (asking and asking[-1] != len(replies) - 1 and any(
                m.attachments == [] and not m.choices for m in replies[asking[-1] + 1:])):
            self.problems.append(f"{act}: the turn offered {len(asking)} lists, not one at its end")
        self.check_stack(act)
        self.check_privacy(arrived, act)

    def check_stack(self, act: Act) -> None:
        """Each open flow once (a question asked twice came back after its answer), and few of them."""
        with self.app.sessions() as session:
            stack = session.scalar(select(ConversationState.stack).where(
                ConversationState.channel == CHANNEL, ConversationState.address == act.who)) or []
        frames = [(frame.get("flow"), repr(sorted((frame.get("data") or {}).items()))) for frame in stack]
        if len(frames) != len(set(frames)) or len(frames) > MAX_OPEN_FLOWS:
            self.problems.append(f"{act}: {len(frames)} flows open: {[flow for flow, _data in frames]}")

    def check_privacy(self, arrived: list[OutgoingMessage], act: Act) -> None:
        for message in arrived:
            family = FAMILY_OF.get(message.address)
            if family is None:
                continue
            shown = message.text + " ".join(c.label for c in message.choices) + \
                " ".join(a.filename for a in message.attachments)
            for word in FORBIDDEN[family]:
                if word in shown:
                    self.problems.append(f"after {act}: {message.address} read {word!r}: {message.text[:120]!r}")

    # --- drawing what happens next --------------------------------------------------------------
    def random_act(self, rng: random.Random) -> Act:
        who = rng.choice(list(CAST))
        roll = rng.random()
        if roll < 0.06:
            return Act(who, "tick", advance=rng.choice([timedelta(minutes=5), timedelta(hours=3), timedelta(hours=14),
                                                        timedelta(days=1), timedelta(days=3), timedelta(days=9)]))
        if roll < 0.45:
            offered = self.options(who)
            if offered:
                index = rng.randrange(len(offered))
                how = rng.random()
                if how < 0.4:
                    return Act(who, "choose", payload=offered[index].payload)
                if how < 0.7:
                    return Act(who, "choose", text=str(index + 1))
                return Act(who, "choose", text=offered[index].label)
        if roll < 0.62:
            word = rng.choice([w for c in REGISTRY.commands.values() for w in sorted(c.spellings())])
            return Act(who, "text", text=rng.choice(["/", "!", "", "/"]) + word)
        if roll < 0.70:
            other = rng.choice([m for ms in self.seen.values() for m in ms if m.choices] or [None])
            payload = rng.choice(other.choices).payload if other is not None and rng.random() < 0.6 \
                else rng.choice(FORGED)
            return Act(who, "forge", payload=payload)
        if roll < 0.76:
            return Act(who, "file", text=rng.choice(["", "ein Foto"]), attachments=(rng.choice(FILES),))
        kind = rng.random()
        if kind < 0.35:
            text = rng.choice(SCRIPTS)
        elif kind < 0.6:
            text = rng.choice(NUMBERS)
        elif kind < 0.7:
            text = "".join(rng.choice(CONTROL) for _ in range(rng.randint(1, 12)))
        elif kind < 0.76:
            text = rng.choice(["x", "ä", "ع", "я", "🙂", "a b "]) * rng.choice([3999, 4000, 4001, 10_000])
        else:
            text = "".join(chr(rng.choice([rng.randint(32, 0x2FF), rng.randint(0x400, 0x4FF),
                                           rng.randint(0x600, 0x6FF), rng.randint(0x1F300, 0x1F64F),
                                           rng.randint(0xD7FF, 0xFFFF)]))
                           for _ in range(rng.randint(1, 40)))
            text = text.encode("utf-8", "replace").decode("utf-8", "replace")
        return Act(who, "text", text=text)
