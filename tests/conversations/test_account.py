"""Everyone's basics after linking: language, privacy, own data, unlinking, and bad input."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import AuditEvent, ChatIdentity


def test_language_can_be_changed_any_time_and_back(bot, codes):
    ayse = bot.link("ayse", codes["Ayşe"])
    ayse.say("/sprache")
    assert "I will write in English from now on" in ayse.press("English")[0]
    assert "What would you like to do?" in ayse.say("/menu")[0]
    ayse.say("/language")
    assert "ich schreibe ab jetzt auf Deutsch" in ayse.press("Deutsch")[0]


def test_asking_for_the_language_again_before_answering_asks_once(bot, codes):
    ayse = bot.link("ayse", codes["Ayşe"])
    for _impatient in range(3):  # a slow network: the command sent again and again
        assert "In welcher Sprache" in ayse.say("/sprache")[0]
    answer = ayse.say("3")  # English
    assert "I will write in English from now on" in answer[0]
    assert "What would you like to do?" in answer[-1], answer  # the menu, not the language question again
    assert "Which language" not in " ".join(ayse.say("/menu"))


def test_my_data_shows_only_my_own_data_and_is_audited(bot, codes, app):
    bot.link("ayse", codes["Ayşe"])
    olga = bot.link("olga", codes["Olga"])
    answer = olga.say("/meine_daten")
    assert "Olga Petrenko" in answer[0] and "Familie Petrenko" in answer[0]
    export = json.loads(next(m for m in olga.seen if m.attachments).attachments[0].data)
    assert export["name"] == "Olga Petrenko" and export["case"]["title"] == "Familie Petrenko"
    assert "Yılmaz" not in json.dumps(export, ensure_ascii=False)
    with app.sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "personal_data.exported" in actions


def test_privacy_notice_is_available_before_and_after_linking(bot, codes):
    stranger = bot.chat("stranger")
    assert "Bevor es losgeht" in stranger.say("/datenschutz")[0]
    ayse = bot.link("ayse", codes["Ayşe"])
    assert "Gefahr für ein Kind" in ayse.say("/datenschutz")[0]


def test_unlinking_ends_the_link_and_the_chat_is_a_stranger_again(bot, codes, app):
    ayse = bot.link("ayse", codes["Ayşe"])
    ayse.say("/abmelden")
    assert "keine Nachrichten mehr" in ayse.seen[-1].text
    ayse.press("Nein, verbunden bleiben")
    ayse.say("/abmelden")
    assert "getrennt" in ayse.press("Ja, trennen")[0]
    with app.sessions() as session:
        assert session.scalar(select(ChatIdentity).where(ChatIdentity.address == "ayse")) is None
    assert "Code" in ayse.say("/meine_daten")[0]  # nothing personal for an unlinked chat


def test_unknown_command_gets_a_kind_answer(bot, codes):
    ayse = bot.link("ayse", codes["Ayşe"])
    assert "Den Befehl „quatsch“ kenne ich nicht" in ayse.say("/quatsch")[0]


def test_a_very_long_message_is_refused_kindly_and_changes_nothing(bot, codes):
    emre = bot.chat("emre")
    emre.say(codes["Emre"])
    answer = emre.say("x" * 5000)
    assert "sehr lang" in answer[0] and "4.000" in answer[0]
    assert "In welcher Sprache" in answer[1]  # still at the same question
    assert "Bis du zustimmst" in emre.press("Deutsch")[0]  # Emre is 15: du


def test_emoji_and_rtl_text_where_a_choice_is_expected(bot, codes):
    emre = bot.chat("emre")
    emre.say(codes["Emre"])
    answer = emre.say("🙂 مرحبا שלום")
    assert "Bitte antworte mit einer der Möglichkeiten" in answer[0]  # Emre is 15: du, from his code on
    assert "In welcher Sprache" in answer[1]


def test_a_choice_from_another_conversation_changes_nothing(bot, codes, app):
    emre = bot.chat("emre")
    emre.say(codes["Emre"])
    # "accept" belongs to the privacy question, which Emre has not been asked yet
    answer = emre.say(payload="accept")
    assert "Dieser Knopf gilt nicht mehr" in answer[0]
    forged = emre.say(payload="act:nonexistent:42")
    assert "Dieser Knopf gilt nicht mehr" in forged[0]
    with app.sessions() as session:
        assert session.scalar(select(ChatIdentity).where(ChatIdentity.address == "emre")) is None


def test_typed_numbers_pick_the_numbered_options(bot, codes):
    leyla = bot.chat("leyla")
    leyla.say(codes["Leyla"])
    english = [c.label for c in leyla.last.choices].index("English") + 1
    assert "Nothing is recorded" in leyla.say(str(english))[0]
    assert "This chat is now linked" in leyla.say("1.")[0]  # 1 = I agree, typed with a dot


def test_a_photo_where_none_is_expected_gets_a_kind_answer(bot, codes):
    from conversations.messages import Attachment

    ayse = bot.link("ayse", codes["Ayşe"])
    answer = ayse.say(attachments=(Attachment("foto.jpg", "image/jpeg", b"\xff\xd8jpeg"),))
    assert "Ich kann hier nur Text und Knöpfe lesen" in answer[0]
    assert "Was möchten Sie tun?" in answer[1]


def test_a_file_waiting_in_the_outbox_is_not_readable_in_the_database(bot, codes, app):
    from sqlalchemy import text

    olga = bot.link("olga", codes["Olga"])
    olga.say("/meine_daten")
    with app.db.connect() as conn:
        stored = conn.execute(text("SELECT data FROM outbox_attachment")).scalars().all()
    assert stored and all(b"Petrenko" not in (s if isinstance(s, bytes) else s.encode()) for s in stored)
    export = next(m for m in olga.seen if m.attachments).attachments[0].data
    assert b"Olga Petrenko" in export  # and the person still gets the file
