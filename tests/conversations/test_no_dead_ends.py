"""Every input gets a reply, from any stored state; every guided flow can be left with "Abbrechen"; before a
code is typed the greeting is in the language the network reports for the person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import run_all
from conversations.context import Context
from conversations.flows.base import WORDS, Flow, Frame
from conversations.registry import REGISTRY
from storage.models import Appointment, ConversationState, Escalation
from storage.models.complaints import Complaint

SORRY = "was wir gerade gemacht haben, kann ich nicht fortsetzen"
MENU = "Was möchten Sie tun?"


def set_stack(app, address: str, stack: object) -> None:  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        state = session.scalar(select(ConversationState).where(ConversationState.address == address))
        state.stack = stack  # type: ignore[union-attr]


def test_a_complaint_draft_removed_by_the_nightly_cleanup_leaves_no_one_unanswered(bot, codes, app, clock):
    olga = bot.link("olga", codes["Olga"])
    olga.say("/beschwerde")
    olga.say("Termine")
    olga.say("Er kommt immer zu spät.")  # then Olga puts the phone away
    clock.advance(timedelta(days=3))
    run_all(app.services)  # the cleanup deletes the unfinished draft
    with app.sessions() as session:
        assert session.scalar(select(Complaint)) is None

    emergency = olga.say("/notfall")
    assert "116 111" in emergency[0] and "Jetzt meinen Fachkräften Bescheid geben" in emergency[0]
    helped = olga.say("/hilfe")
    assert "/beschwerde" in helped[0]
    back = olga.say("1")  # "Weiter, wo wir waren": that the draft ran out is said at once, not after more typing
    assert "nicht rechtzeitig abgeschickt" in back[0] and MENU in back[-1]


def test_a_complaint_draft_that_runs_out_under_a_language_change_is_said_so_not_a_failure(bot, codes, app, clock):
    olga = bot.link("olga", codes["Olga"])
    olga.say("/beschwerde")
    olga.say("Termine")
    assert "In welcher Sprache" in olga.say("/sprache")[0]  # and then the phone is put away
    clock.advance(timedelta(days=3))
    run_all(app.services)  # the cleanup deletes the unfinished draft
    answer = olga.say("3")  # English, days later
    assert "I will write in English from now on" in answer[0]
    assert "not sent in time and has been deleted" in answer[1], answer
    assert "What would you like to do?" in answer[-1]
    assert not any(SORRY in text or "could not continue" in text for text in answer)


def test_notfall_and_hilfe_answer_without_entering_a_broken_flow(bot, codes, app):
    olga = bot.link("olga", codes["Olga"])
    olga.say("/beschwerde")
    olga.say("Termine")
    with app.sessions.begin() as session:
        session.delete(session.scalar(select(Complaint)))
    shown = olga.say("/notfall")
    assert len(shown) == 1 and "1. Jetzt meinen Fachkräften Bescheid geben" in shown[0]
    assert "2. Weiter, wo wir waren" in shown[0]
    told = olga.say("1")
    assert "Bescheid gegeben" in told[0]
    with app.sessions() as session:
        assert session.scalar(select(Escalation)) is not None  # the alert is kept, whatever the flow does
    assert "/beschwerde" in olga.say("/hilfe")[0]


def test_a_flow_a_newer_version_no_longer_has_is_dropped_kindly(bot, codes, app):
    murat = bot.link("murat", codes["Murat"])
    set_stack(app, "murat", [{"flow": "menu", "step": "choose", "data": {}},
                             {"flow": "renamed_long_ago", "step": "x", "data": {}}])
    answer = murat.say("hallo")
    assert SORRY in answer[0] and MENU in answer[-1]


@pytest.mark.parametrize("stack", [{"flow": "menu"}, ["menu"], [{"step": "x"}], "garbage", [{"flow": "menu", "data": 5}]])
def test_a_state_that_cannot_be_read_is_answered(bot, codes, app, stack):
    murat = bot.link("murat", codes["Murat"])
    set_stack(app, "murat", stack)
    answer = murat.say("1")
    assert answer and SORRY in answer[0]
    assert murat.say("/hilfe")


class Fragile(Flow):
    """A flow with a bug at its second question, and one whose objects can vanish."""

    name = "test_fragile"
    first_step = "first"
    typed_steps = {"first": WORDS, "second": WORDS}

    def ask_first(self, ctx: Context, frame: Frame) -> None:
        ctx.say("Erste Frage?")

    def on_first(self, ctx: Context, frame: Frame) -> None:
        self.goto(ctx, frame, "second")

    def ask_second(self, ctx: Context, frame: Frame) -> None:
        ctx.say("Zweite Frage?")

    def on_second(self, ctx: Context, frame: Frame) -> None:
        raise RuntimeError("a bug at this question")


REGISTRY.flow(Fragile())


def test_a_question_that_fails_twice_in_a_row_is_dropped(bot, codes, app):
    murat = bot.link("murat", codes["Murat"])
    set_stack(app, "murat", [{"flow": "test_fragile", "step": "second", "data": {}}])
    first = murat.say("Antwort")
    assert "Es wurde nichts geändert" in first[0] and first[-1] == "Zweite Frage?"
    second = murat.say("Antwort")
    assert SORRY in second[0] and MENU in second[-1]
    assert murat.say("Antwort")  # the menu now


def test_a_danger_signal_is_kept_when_the_flow_then_fails(bot, codes, app):
    emre = bot.link("emre", codes["Emre"])
    set_stack(app, "emre", [{"flow": "test_fragile", "step": "second", "data": {}}])
    answer = emre.say("ich halt das zuhause nicht mehr aus")
    assert "116 111" in answer[0]
    with app.sessions() as session:
        assert session.scalar(select(Escalation)) is not None


# --- Abbrechen ---------------------------------------------------------------------------------------------
TERMIN_STEPS = ["/termin", "Hausbesuch", "16.03.2027", "10:00", "2", "Einmal"]


@pytest.mark.parametrize("steps", range(1, len(TERMIN_STEPS) + 1))
@pytest.mark.parametrize("how", ["Abbrechen", "abbrechen!", "/abbrechen"])
def test_new_appointment_can_be_left_at_every_question(bot, codes, app, steps, how):
    jana = bot.link("jana", codes["Jana"])
    for typed in TERMIN_STEPS[:steps]:
        jana.say(typed)
    answer = jana.say(how)
    assert "Verworfen. Es wurde nichts eingetragen." in answer[0]
    assert MENU in answer[-1]
    with app.sessions() as session:
        assert session.scalar(select(Appointment)) is None


def test_the_cancel_option_has_its_number(bot, codes, app):
    jana = bot.link("jana", codes["Jana"])
    asked = jana.say("/termin")[-1]
    assert "7. Abbrechen" in asked
    assert "Verworfen" in jana.say("7")[0]


@pytest.mark.parametrize(("lang", "word"), [("Türkçe", "iptal"), ("Türkçe", "Vazgeç"), ("العربية", "إلغاء"),
                                            ("Українська", "скасувати"), ("Русский", "Отмена"), ("English", "cancel")])
def test_abbrechen_in_the_persons_language(bot, codes, app, lang, word):
    olga = bot.link("olga", codes["Olga"], lang)
    olga.say("/" + REGISTRY.commands["complaint"].word("de"))
    olga.say("2")
    olga.say("Es geht um den Termin am Dienstag.")
    olga.say(word)
    with app.sessions() as session:
        assert session.scalar(select(Complaint)) is None  # cancelled: the draft is deleted


def test_abbrechen_with_nothing_open_says_so_and_shows_the_menu(bot, codes):
    murat = bot.link("murat", codes["Murat"])
    answer = murat.say("abbrechen")
    assert "nichts abzubrechen" in answer[0] and MENU in answer[-1]


def test_an_old_cancel_button_does_not_cancel_what_is_open_now(bot, codes, app):
    jana = bot.link("jana", codes["Jana"])
    jana.say("/termin")
    old_cancel = jana.last.choices[-1].payload
    jana.say("Abbrechen")
    jana.say("/sprache")  # another question is open now, without a "Cancel" of its own
    assert "Dieser Knopf gilt nicht mehr" in jana.say(payload=old_cancel)[0]
    assert "In welcher Sprache" in jana.last.text


def test_the_questionnaire_keeps_its_answers_when_left(bot, codes, app, clock):
    from conversations.milestone import core
    from conversations.milestone.scan import scan
    from tests.conversations.test_milestone import OPS, TALK, staff_named, yilmaz

    with app.sessions.begin() as session:
        case = yilmaz(session)
        core.add_goal(session, OPS, clock.now(), case, "Emre geht jeden Tag zur Schule", "richtungsziel")
        core.create_milestone(session, OPS, clock.now(), case, TALK, staff_named(session, "Sabine Roth"),
                              services=app.services)
    murat = bot.link("murat", codes["Murat"])
    clock.set(TALK - timedelta(days=10))
    scan(app.services)
    murat.receive()
    murat.say("Fragebogen öffnen")
    murat.say("Start")
    murat.say("Teilweise")
    left = murat.say("Abbrechen")
    assert "Ihre bisherigen Antworten bleiben gespeichert" in left[0]
    assert "wieder da" in murat.say("/fragebogen")[0]


# --- the greeting's language -------------------------------------------------------------------------------
@pytest.mark.parametrize(("reported", "greeting"), [
    ("tr", "Merhaba"), ("uk", "Вітаю"), ("ar", "مرحبًا"), ("de-AT", "Hallo"), ("pt-BR", "Hallo"), (None, "Hallo"),
    ("en-GB", "Hello"),
])
def test_the_greeting_is_in_the_language_the_network_reports(bot, reported, greeting):
    stranger = bot.chat("stranger")
    answer = stranger.say("hi", language=reported)
    assert greeting in answer[0].replace("\u200f", "")
