"""Signals that a child may be at risk: help at once, an urgent alert to people, the flow goes on.

SCENARIOS.md: Emre (15) writes at 23:10 "ich halt das zuhause nicht mehr aus". He gets help numbers at
once; Jana, Tobias and the Leitung get an urgent alert; his questionnaire continues afterwards.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.email import EmailTransport
from bot.outbox import ChannelSender
from conversations.child_protection import curated, find
from conversations.clock import berlin
from conversations.context import Context
from conversations.flows.base import WORDS, Flow, Frame
from conversations.registry import REGISTRY
from storage.models import ConversationState, Escalation
from tests.support.smtp import Mailbox, smtp_mailbox

LEITUNG = "leitung@bruecke.example"


class WeekQuestions(Flow):
    """A stand-in for any flow with free-text questions (the questionnaire, a complaint)."""

    name = "test_week_questions"
    first_step = "how"
    typed_steps = {"how": WORDS, "wish": WORDS}

    def ask_how(self, ctx: Context, frame: Frame) -> None:
        ctx.say("Wie war deine Woche?")

    def on_how(self, ctx: Context, frame: Frame) -> None:
        frame.data["how"] = ctx.text
        self.goto(ctx, frame, "wish")

    def ask_wish(self, ctx: Context, frame: Frame) -> None:
        ctx.say("Was wünschst du dir für die nächste Woche?")

    def on_wish(self, ctx: Context, frame: Frame) -> None:
        ctx.say("Danke für deine Antworten!")
        ctx.finish()


REGISTRY.flow(WeekQuestions())


@pytest.fixture
def mailbox() -> Mailbox:
    return smtp_mailbox()


def deliver_email(app: App, mailbox: Mailbox) -> None:
    settings = replace(app.settings, smtp_host=mailbox.host, smtp_port=mailbox.port, smtp_starttls=False)
    sender = ChannelSender(app.sessions, app.services.clock, EmailTransport(settings, app.services.clock))

    async def drain() -> None:
        while await sender.deliver_due():
            pass

    asyncio.run(drain())


def start_questions(app: App, address: str) -> None:
    with app.sessions.begin() as session:
        state = session.scalar(select(ConversationState).where(ConversationState.address == address))
        state.stack = [{"flow": WeekQuestions.name, "step": "how", "data": {}}]  # type: ignore[union-attr]


def alerts(app: App) -> list[Escalation]:
    with app.sessions() as session:
        return list(session.scalars(select(Escalation).where(Escalation.kind == "child_protection")
                                    .order_by(Escalation.id)))


def test_emre_at_23_10_gets_help_at_once_the_team_an_urgent_alert_and_his_questions_go_on(
        app, bot, codes, clock, mailbox):
    jana, tobias = bot.link("jana", codes["Jana"]), bot.link("tobias", codes["Tobias"])
    emre = bot.link("emre", codes["Emre"])
    start_questions(app, "emre")
    clock.set(berlin(2027, 3, 18, 23, 10))  # quiet hours: routine messages wait, this does not

    answer = emre.say("ich halt das zuhause nich mehr aus")

    help_now = answer[0]
    for number in ("110", "112", "116 111", "0800 111 0 550", "0391 555 0100", "Mo–Fr 8:00–18:00"):
        assert number in help_now
    assert "Fachkräfte" in help_now
    assert answer[-1] == "Was wünschst du dir für die nächste Woche?"  # the flow continues
    for fachkraft in (jana, tobias):
        [alert] = fachkraft.receive()
        assert "Dringend" in alert and "„ich halt das zuhause nich mehr aus“" not in alert
        assert "“ich halt das zuhause nich mehr aus”" in alert and "Emre" in alert
        # the words that matched, as he wrote them; never the list's pattern ("halt* nicht mehr aus")
        assert "Diese Worte haben den Alarm ausgelöst: „halt das zuhause nich mehr aus“." in alert
        assert "*" not in alert and "@" not in alert
        assert fachkraft.last.urgent
    deliver_email(app, mailbox)
    leitung = mailbox.only(LEITUNG)
    assert "Dringend" in leitung["Subject"] and "ich halt das zuhause nich mehr aus" in leitung.get_content()
    assert leitung["Importance"] == "high"

    # Nothing is decided or closed automatically: the alert stays open until a person takes it on.
    assert emre.say("dass es besser wird")[-1] == "Danke für deine Antworten!"
    [alert] = alerts(app)
    assert alert.acknowledged_at is None and alert.message == "ich halt das zuhause nich mehr aus"
    assert any("Danke" in t for t in jana.press("Als erledigt markieren"))
    assert alerts(app)[0].acknowledged_by is not None
    assert any("Jana Weber" in t and "erledigt" in t for t in tobias.receive())


PHRASINGS = [
    # German: adults, children's language, typos, spelling without spaces and umlauts
    ("de", "Mein Mann schlägt mich wenn er getrunken hat"),
    ("de", "papa haut mich imer"),
    ("de", "mama tut mir weeeh"),
    ("de", "ich will nich mer lebn"),
    ("de", "ich hab so angst vor papa"),
    ("de", "ich halt es zu hause nicht mehr aus"),
    ("de", "der onkel fasst mich an und sagt das ist unser geheimnis"),
    ("de", "wir haben seit zwei tagen nix zu essen"),
    ("de", "ICH KANN NICHT MEHR!!!"),
    # English
    ("en", "my dad hits me"),
    ("en", "i wanna die"),
    ("en", "I cant take it anymore at home"),
    ("en", "he touched me and said its our secret"),
    ("en", "im scared of my stepdad"),
    # Turkish, with and without Turkish letters
    ("tr", "babam beni dövüyor"),
    ("tr", "babam beni dovuyor"),
    ("tr", "artık dayanamıyorum"),
    ("tr", "ölmek istiyorum"),
    ("tr", "evde yemek yok"),
    # Arabic (with attached prefixes, with and without hamza)
    ("ar", "أبي يضربني كل يوم"),
    ("ar", "وبيضربني"),
    ("ar", "أنا خائفة من زوجي"),
    ("ar", "اريد ان اموت"),
    # Ukrainian (apostrophe variants)
    ("uk", "вітчим б'є мене"),
    ("uk", "тато бʼє маму"),
    ("uk", "я не хочу жити"),
    ("uk", "мені страшно вдома"),
    # Russian (ё and е)
    ("ru", "отчим бьёт меня"),
    ("ru", "папа бьет маму"),
    ("ru", "я больше не могу"),
    ("ru", "хочу умереть"),
]

ORDINARY = [
    "Ich komme am Dienstag um 10",
    "Danke für den Termin, bis nächste Woche!",
    "Er hat mich gestern angerufen",
    "Wir müssen den Termin leider verschieben, mein Sohn hat Fieber",
    "Teşekkürler, salı görüşürüz",
    "Дякую, до вівторка",
    "Спасибо, до вторника",
    "شكرا، أراك يوم الثلاثاء",
]


@pytest.mark.parametrize(("language", "text"), PHRASINGS)
def test_each_phrasing_is_recognised(language, text):
    assert find(text, curated()) is not None, f"{language}: {text!r} was not recognised"


@pytest.mark.parametrize("text", ORDINARY)
def test_everyday_messages_raise_nothing(text):
    assert find(text, curated()) is None


def test_a_danger_phrase_in_each_language_raises_an_alert(app, bot, codes, clock):
    jana = bot.link("jana", codes["Jana"])
    emre = bot.link("emre", codes["Emre"])
    samples = {"de": "papa haut mich", "en": "my dad hits me", "tr": "babam beni dövüyor",
               "ar": "أبي يضربني", "uk": "вітчим б'є мене", "ru": "отчим бьёт меня"}
    for text in samples.values():
        assert "116 111" in emre.say(text)[0]
    assert [a.message for a in alerts(app)] == list(samples.values())
    assert len(jana.receive()) == len(samples)
    emre.say("Danke, bis Dienstag!")
    assert len(alerts(app)) == len(samples)  # an ordinary message raises nothing


def test_the_emergency_entry_shows_help_and_can_tell_the_fachkraefte(app, bot, codes, clock):
    jana = bot.link("jana", codes["Jana"])
    ayse = bot.link("ayse", codes["Ayşe"])
    answer = ayse.say("/notfall")
    assert "112" in answer[0] and "116 111" in answer[0]
    assert alerts(app) == []  # showing the numbers alone alerts nobody
    told = ayse.press("Jetzt meinen Fachkräften Bescheid geben")
    assert any("Bescheid gegeben" in t for t in told)
    [alert] = jana.receive()
    assert "Notfallhilfe" in alert and "Ayşe" in alert
    ayse.say("/menue")
    assert "Notfall-Hilfe" in [c.label for c in ayse.last.choices]  # also an entry of the main menu


def test_the_privacy_notice_tells_families_about_it(bot, codes):
    ayse = bot.chat("ayse")
    ayse.say(codes["Ayşe"])
    notice = ayse.press("Deutsch")[-1]
    assert "Gefahr für ein Kind" in notice and "entscheide nichts" in notice


def test_an_organisation_adds_its_own_phrases(app, bot, codes):
    from storage.models import Organisation

    emre = bot.link("emre", codes["Emre"])
    assert "116 111" not in emre.say("der kellerraum ist wieder zu")[0]
    with app.sessions.begin() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == "Brücke e.V."))
        org.settings = {**(org.settings or {}), "child_protection": {"extra_phrases": {"de": ["kellerraum"]}}}
    assert "116 111" in emre.say("der kellerraum ist wieder zu")[0]
    assert alerts(app)[0].facts["phrase"] == "kellerraum"


def test_an_alert_nobody_took_on_by_the_next_morning_is_raised_again_once(app, bot, codes, clock, mailbox):
    from bot import scheduler

    jana = bot.link("jana", codes["Jana"])
    emre = bot.link("emre", codes["Emre"])
    clock.set(berlin(2027, 3, 18, 23, 10))
    emre.say("ich halt das zuhause nicht mehr aus")
    assert len(jana.receive()) == 1
    deliver_email(app, mailbox)

    clock.set(berlin(2027, 3, 19, 9, 55))  # quiet hours ended at 08:00; two hours to take it on
    scheduler.run_all(app.services)
    assert jana.receive() == []
    clock.set(berlin(2027, 3, 19, 10, 5))
    scheduler.run_all(app.services)
    scheduler.run_all(app.services)
    [again] = jana.receive()
    assert "Noch offen" in again and "ich halt das zuhause nicht mehr aus" in again
    deliver_email(app, mailbox)
    assert len(mailbox.to(LEITUNG)) == 2 and "Noch offen" in mailbox.to(LEITUNG)[1].get_content()
    assert alerts(app)[0].acknowledged_at is None  # still nothing closed by itself


def test_the_leitung_marks_an_alert_handled_with_the_link_in_her_email(app, bot, codes, clock, mailbox):
    import re

    from aiohttp.test_utils import TestClient, TestServer

    from bot import web

    jana = bot.link("jana", codes["Jana"])
    emre = bot.link("emre", codes["Emre"])
    emre.say("my dad hits me")
    deliver_email(app, mailbox)
    body = mailbox.only(LEITUNG).get_content()
    path = re.search(r"Als erledigt markieren:\s+\S+?(/ack/\S+)", body).group(1)

    async def press() -> tuple[str, str]:
        async with TestClient(TestServer(web.make_app(app), host="127.0.0.1")) as client:
            asked = await (await client.get(path)).text()
            done = await (await client.post(path)).text()
            return asked, done

    asked, done = asyncio.run(press())
    assert "übernommen" in asked and "Danke, Martina Hoffmann" in done
    assert alerts(app)[0].acknowledged_via == "email-link"
    assert any("Martina Hoffmann" in t and "erledigt" in t for t in jana.receive())


def test_a_fachkraft_finds_what_is_still_open_with_offen(app, bot, codes, clock):
    tobias = bot.link("tobias", codes["Tobias"])
    emre = bot.link("emre", codes["Emre"])
    assert tobias.say("/offen")[0] == "Für Sie ist nichts offen."
    emre.say("papa haut mich")
    tobias.receive()
    shown = tobias.say("/offen")
    assert "papa haut mich" in shown[0]
    tobias.press("Als erledigt markieren")
    assert tobias.say("/offen")[0] == "Für Sie ist nichts offen."
