"""Linking a chat, as a family member or staff member would do it, in German and English."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage.models import ChatIdentity, FamilyMember, InviteCode


def test_a_mother_links_her_chat_in_german_and_asks_for_help(bot, codes):
    ayse = bot.chat("ayse")
    first = ayse.say("Hallo")
    assert "Code aus Ihrem Einladungsbrief" in first[0]

    answer = ayse.say(codes["Ayşe"].lower().replace("-", " "))  # typed loosely, still understood
    # greeted in Turkish, the language her Fachkraft noted on the invitation; she may pick any other
    assert "Ayşe" in answer[0] and "Hallo" not in answer[0]
    assert "1. Deutsch" in answer[1] and "Türkçe" in answer[1] and "In welcher Sprache" not in answer[1]

    notice = ayse.press("Deutsch")
    assert "Wer es liest: Ihre Fachkräfte (Brücke e.V.)" in notice[0]
    assert "Bis Sie zustimmen, wird nichts gespeichert." in notice[0]

    linked = ayse.press("Ich bin einverstanden")
    assert "Dieser Chat ist jetzt verbunden" in linked[0]
    assert "Was möchten Sie tun?" in linked[1]

    help_text = ayse.say("/hilfe")[0]
    assert "/meine_daten" in help_text and "/sprache" in help_text
    assert "0391 555 0100" in help_text and "116 111" in help_text


def test_the_language_chosen_with_the_command_while_onboarding_asks_for_it_answers_that_question(bot, codes):
    murat = bot.chat("murat")
    murat.say(codes["Murat"])
    assert "In welcher Sprache" in murat.say("/sprache")[0]  # the command instead of the options before it
    answer = murat.say("3")  # English
    assert "I will write in English from now on" in answer[0]
    assert "Before we start" in answer[-1], answer  # on to the privacy notice, not the language question again
    assert "This chat is now linked" in murat.press("I agree")[0]


def test_a_father_links_in_english_and_everything_after_is_english(bot, codes):
    murat = bot.chat("murat")
    murat.say(codes["Murat"])
    notice = murat.press("English")
    assert "Nothing is recorded until you agree." in notice[0]
    linked = murat.press("I agree")
    assert "This chat is now linked. You can write /help at any time." in linked[0]
    assert "/my_data" in murat.say("/help")[0]
    # German command words keep working for someone who reads English
    assert "This is what is stored about you" in murat.say("/meine_daten")[0]


def test_declining_the_notice_records_nothing_and_the_code_still_works(bot, codes, app):
    emre = bot.chat("emre")
    emre.say(codes["Emre"])
    emre.press("Deutsch")
    answer = emre.press("Nein, danke")
    assert "Es wurde nichts gespeichert" in answer[0]
    with app.sessions() as session:
        assert session.scalar(select(func.count(ChatIdentity.id))) == 0
        emre_row = session.scalar(select(FamilyMember).where(FamilyMember.first_name == "Emre"))
        assert emre_row.consent_at is None
        assert session.scalar(select(func.count(InviteCode.id)).where(InviteCode.used_at.is_not(None))) == 0
    bot.link("emre", codes["Emre"])
    with app.sessions() as session:
        assert session.scalar(select(func.count(ChatIdentity.id))) == 1


def test_a_code_works_only_once_and_a_used_code_looks_like_an_unknown_one(bot, codes):
    bot.link("ayse-phone", codes["Ayşe"])
    used = bot.chat("someone-else").say(codes["Ayşe"])
    unknown = bot.chat("a-guesser").say("AAAA-BBB-CCC")
    assert used == unknown == ["Ich konnte diesen Code nicht verwenden. Bitte prüfen Sie ihn und senden Sie ihn "
                               "noch einmal (er sieht so aus: ABCD-EFG-HJK), oder bitten Sie Ihre Fachkraft um "
                               "einen neuen."]


def test_an_expired_code_is_refused_kindly(bot, codes, clock):
    clock.advance(timedelta(days=15))
    assert "abgelaufen" in bot.chat("late").say(codes["Ayşe"])[0]


def test_guessing_codes_is_slowed_down_per_chat(bot, codes, clock):
    guesser = bot.chat("guesser")
    for attempt in range(5):
        assert "nicht verwenden" in guesser.say(f"AAAA-BBB-CC{attempt}")[0]
    blocked = guesser.say(codes["Olga"])[0]
    assert "zu viele Versuche" in blocked and "15 Minuten" in blocked
    # another chat is not affected, and the guesser may try again later
    assert "Olga" in bot.chat("olga").say(codes["Olga"])[0]
    clock.advance(timedelta(minutes=16))
    assert "Jana" in guesser.say(codes["Jana"])[0]


def test_guessing_from_many_chats_at_once_is_slowed_down_for_all(bot, codes, app, clock):
    from tests.conftest import with_settings
    from tests.support.harness import Bot

    bot = Bot(with_settings(app, invite_max_failures_total=12))
    for chat in range(4):  # four accounts, three guesses each: each under its own limit of five
        for attempt in range(3):
            assert "nicht verwenden" in bot.chat(f"guesser-{chat}").say(f"AAAA-BBB-C{chat}{attempt}")[0]
    olga = bot.chat("olga")
    blocked = olga.say(codes["Olga"])[0]
    assert "zu viele Versuche" in blocked and "15 Minuten" in blocked
    clock.advance(timedelta(minutes=16))
    assert "Olga" in olga.say(codes["Olga"])[0]  # greeted in Ukrainian, her language


def test_staff_link_with_a_staff_invite_and_see_the_staff_notice(bot, codes, app):
    jana = bot.chat("jana")
    jana.say(codes["Jana"])
    notice = jana.press("Deutsch")
    assert "Was Wegbegleiter über Ihre Arbeit festhält" in notice[0]
    jana.press("Ich bin einverstanden")
    with app.sessions() as session:
        identity = session.scalar(select(ChatIdentity).where(ChatIdentity.address == "jana"))
        assert identity.staff.name == "Jana Weber" and identity.member_id is None


def test_telegram_style_start_with_code_links_in_one_step(bot, codes):
    chat = bot.chat("deep-link")
    answer = chat.say(f"/start {codes['Leyla'].replace('-', '')}")
    assert "Hallo Leyla" in answer[0]


def test_a_command_before_agreeing_asks_for_the_open_question_not_for_the_code_again(bot, codes):
    """The code was right; a command typed at the privacy notice must not say "send me your code" again."""
    murat = bot.chat("murat")
    murat.say(codes["Murat"])
    murat.press("Deutsch")
    answer = murat.say("/fragebogen")
    assert "Bitte beantworten Sie zuerst diese Frage" in answer[0] and "Einladungsbrief" not in answer[0]
    assert "Ich bin einverstanden" in [c.label for c in murat.last.choices]
    assert "Dieser Chat ist jetzt verbunden" in murat.press("Ich bin einverstanden")[0]
