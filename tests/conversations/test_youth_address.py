"""Young people are spoken to with du in every flow, notice and letter (issue 13, seeds 001–003).

Emre (15, SCENARIOS.md) gets du from the welcome after his code on: the privacy notice, the menu, help,
a complaint, the child-protection answer and a reminder sent outside the conversation. His mother keeps
Sie. The age limit is a setting (18; the organisation may set its own), a child without a birth date
counts as young, and the invite letter for a young person says du too.
"""

from __future__ import annotations

import subprocess
from datetime import date

from sqlalchemy import select

from bot.i18n_tool import formal_words
from conversations.messages import Reply
from conversations.outbox import notify
from storage.models import FamilyMember, Organisation


def polite(texts: list[str], lang: str = "de") -> list[str]:
    return [f"{formal_words(lang, t)} in {t[:70]!r}" for t in texts if formal_words(lang, t)]


def member(session, first_name: str) -> FamilyMember:
    return session.scalar(select(FamilyMember).where(FamilyMember.first_name == first_name))


def onboard(bot, address: str, code: str) -> tuple[object, list[str]]:
    chat = bot.chat(address)
    seen = chat.say(code)
    seen += chat.press("Deutsch")
    seen += chat.press("Ich bin einverstanden")
    return chat, seen


def test_emre_is_spoken_to_with_du_from_his_code_on_in_every_flow(bot, codes, app):
    emre, seen = onboard(bot, "emre", codes["Emre"])
    assert any("Bis du zustimmst, wird nichts gespeichert." in t for t in seen)  # the privacy notice
    assert any("Du kannst jederzeit /hilfe schreiben." in t for t in seen)
    for command in ("/hilfe", "/menue", "/meine_daten", "/beschwerde"):
        seen += emre.say(command)
    assert any("Hier kannst du dich über alles beschweren" in t for t in seen)
    emre.press("Abbrechen")
    seen += emre.say("mein stiefvater schlägt mich")
    assert any("Danke, dass du mir das schreibst. Das klingt ernst." in t for t in seen)
    with app.sessions.begin() as session:  # a notice outside the conversation (a reminder, a changed date)
        notify(session, member(session, "Emre"), lambda tr: Reply(tr.gettext(
            "Your appointment has changed. New: {appointment}.").format(appointment="Dienstag, 10:00")),
            now=app.services.clock.now(), kind="test")
    seen += emre.receive()
    assert "Dein Termin hat sich geändert. Neu: Dienstag, 10:00." in seen
    assert polite(seen) == []


def test_what_emre_types_before_he_agreed_is_answered_with_du_and_the_code_is_not_asked_again(bot, codes):
    emre = bot.chat("emre")
    seen = emre.say(codes["Emre"])
    for command in ("/beschwerde", "/hilfe"):  # commands before the chat is linked, after the right code
        seen += emre.say(command)
    seen += emre.press("Deutsch")
    seen += emre.say("/datenschutz")
    assert "Fast geschafft: Bitte beantworte zuerst diese Frage, dann ist der Chat verbunden." in seen
    assert not [t for t in seen if "Code aus deinem Einladungsbrief" in t or "Code aus Ihrem" in t], seen
    assert polite(seen) == []
    assert "Du kannst jederzeit /hilfe schreiben" in emre.press("Ich bin einverstanden")[0]


def test_his_mother_keeps_sie(bot, codes, app):
    ayse, seen = onboard(bot, "ayse", codes["Ayşe"])
    seen += ayse.say("/hilfe")
    assert any("Bis Sie zustimmen, wird nichts gespeichert." in t for t in seen)
    assert any("Mit diesen Befehlen kann ich Ihnen helfen:" in t for t in seen)


def test_young_turkish_ukrainian_and_arabic_readers_get_their_du(bot, codes, app):
    from tests.support.languages import link_in

    for lang, du, polite_form in (("tr", "Bu komutlarla sana yardımcı olabilirim", "size yardımcı"),
                                  ("uk", "Я можу допомогти тобі такими командами", "допомогти вам"),
                                  ("ar", "يمكنني مساعدتك بهذه الأوامر", "مساعدتكم")):
        with app.sessions.begin() as session:
            member(session, "Emre").language = lang
        chat, seen = link_in(bot, f"emre-{lang}", codes["Emre"] if lang == "tr" else fresh_code(app, "Emre"), lang)
        seen += chat.say("/" + {"tr": "yardım", "uk": "допомога", "ar": "مساعدة"}[lang])
        assert any(du in t for t in seen), (lang, seen[-1])
        assert not any(polite_form in t for t in seen) and polite(seen, lang) == []


def fresh_code(app, first_name: str) -> str:
    from bot.demo import ACTOR
    from conversations import admin

    with app.sessions.begin() as session:
        return admin.invite(session, ACTOR, app.services.clock.now(), member(session, first_name), 14)


def test_the_age_limit_is_a_setting_of_the_organisation(bot, codes, app):
    with app.sessions.begin() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == "Brücke e.V."))
        org.settings = {**(org.settings or {}), "youth": {"age_limit": 14}}
    _emre, seen = onboard(bot, "emre", codes["Emre"])  # 15: an adult for this organisation
    assert any("Bis Sie zustimmen" in t for t in seen)


def test_a_child_without_a_birth_date_counts_as_young_a_parent_without_one_does_not(bot, codes, app):
    with app.sessions.begin() as session:
        member(session, "Leyla").birth_date = None
        member(session, "Murat").birth_date = None
    _leyla, leyla_seen = onboard(bot, "leyla", codes["Leyla"])
    _murat, murat_seen = onboard(bot, "murat", codes["Murat"])
    assert any("Bis du zustimmst" in t for t in leyla_seen)
    assert any("Bis Sie zustimmen" in t for t in murat_seen)


def test_on_his_eighteenth_birthday_emre_is_addressed_as_an_adult(bot, codes, app, clock):
    from conversations.clock import berlin

    emre, _seen = onboard(bot, "emre", codes["Emre"])
    assert "Mit diesen Befehlen kann ich dir helfen:" in emre.say("/hilfe")[0]
    clock.set(berlin(2029, 6, 2, 9, 0))  # born 2 June 2011
    assert "Mit diesen Befehlen kann ich Ihnen helfen:" in emre.say("/hilfe")[0]


def test_the_invite_letter_of_a_young_person_says_du(tmp_path):
    from tests.bot.test_config_and_cli import wegbegleiter

    assert wegbegleiter(tmp_path, "init").returncode == 0
    wegbegleiter(tmp_path, "org", "add", "Brücke e.V.")
    wegbegleiter(tmp_path, "case", "add", "Familie Yılmaz", "--reference", "F-2027-0001")
    young = date.today().replace(year=date.today().year - 15).isoformat()
    letters = {}
    for name, kind, born in (("Emre", "child", young), ("Ayşe", "parent", "1992-05-03")):
        letters[name] = tmp_path / f"{name}.pdf"
        wegbegleiter(tmp_path, "member", "add", "F-2027-0001", name, "--kind", kind, "--born", born,
                     "--letter", str(letters[name]))
    text = {name: subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
            for name, path in letters.items()}
    assert "Deine Einladung zu Wegbegleiter" in text["Emre"] and "lädt dich" in text["Emre"]
    assert polite(text["Emre"].split("\n\n")) == []
    assert "Ihre Einladung zu Wegbegleiter" in text["Ayşe"] and "lädt Sie" in text["Ayşe"]
