"""Every family in its language: choosing it, reading it, typing commands in it, right to left."""

from __future__ import annotations

import pytest
from fpdf.bidi import BidiParagraph
from sqlalchemy import select

from conversations.clock import berlin
from conversations.i18n import (
    LRI,
    PDI,
    RLM,
    available_languages,
    base_language,
    command_words,
    language_name,
    translator,
)
from conversations.messages import Reply
from conversations.outbox import notify
from conversations.registry import REGISTRY
from storage.models import StaffMember
from tests.support.languages import english_leaks, link_in

LANGUAGES = available_languages()
NAMES = {"de": "Deutsch", "de@leicht": "Leichte Sprache", "en": "English", "tr": "Türkçe", "ar": "العربية",
         "uk": "Українська", "ru": "Русский"}


def visual(line: str) -> str:
    """The line as a screen shows it, left to right (the Unicode bidi algorithm, as fpdf2 implements it)."""
    return BidiParagraph(line).get_reordered_string()


def test_the_language_menu_names_every_language_in_itself(bot, codes):
    ayse = bot.chat("ayse")
    ayse.say(codes["Ayşe"])
    assert [c.label for c in ayse.last.choices] == [NAMES[lang] for lang in LANGUAGES]


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "de"])
def test_a_mother_links_and_asks_for_help_in_her_language(bot, codes, lang):
    _ = translator(lang).gettext
    help_word = REGISTRY.commands["help"].word(lang)
    ayse, replies = link_in(bot, "ayse", codes["Ayşe"], lang)
    linked = replies[-2]
    assert _("Thank you! This chat is now linked. You can write /{help} at any time.").format(
        help=help_word) in linked.replace(LRI, "").replace(PDI, "").replace(RLM, "")

    help_text = ayse.say(f"/{help_word}")[0]
    for command in ("language", "mydata", "unlink"):
        assert "/" + REGISTRY.commands[command].word(lang) in help_text
    assert "0391 555 0100" in help_text and "116 111" in help_text
    for reply in replies + [help_text]:
        assert english_leaks(reply, lang) == []
        assert len(reply) <= 4096


@pytest.mark.parametrize("lang", ["tr", "ar", "uk", "ru"])
def test_command_words_work_in_every_language_whatever_one_reads(bot, codes, lang):
    olga = bot.link("olga", codes["Olga"])  # reads German
    answer = olga.say("/" + REGISTRY.commands["mydata"].word(lang))
    assert "Das ist über Sie gespeichert" in answer[0]


def test_a_turkish_word_typed_without_turkish_letters_still_works(bot, codes):
    ayse, _replies = link_in(bot, "ayse", codes["Ayşe"], "tr")
    assert "Bu komutlarla size yardımcı olabilirim" in ayse.say("/yardim")[0]
    assert "Bu komutlarla size yardımcı olabilirim" in ayse.say("/YARDIM")[0]


def test_she_changes_her_language_at_any_time_and_back(bot, codes):
    ayse, _replies = link_in(bot, "ayse", codes["Ayşe"], "tr")
    ayse.say("/dil")
    assert "Gut, ich schreibe ab jetzt auf Deutsch." in ayse.press("Deutsch")[0]
    ayse.say("/sprache")
    assert "Gut.\nIch schreibe ab jetzt in Leichter Sprache." in ayse.press("Leichte Sprache")[0]
    assert "Mit diesen Befehlen helfe ich Ihnen:" in ayse.say("/hilfe")[0]
    assert "Sprache: Leichte Sprache" in ayse.say("/meine_daten")[0]
    ayse.say("/sprache")
    assert "Tamam, bundan sonra Türkçe yazacağım." in ayse.press("Türkçe")[0]


def test_telegram_menu_words_are_valid_and_distinct_per_language():
    for lang in LANGUAGES:
        words = [c.telegram_word(lang) for c in REGISTRY.commands.values()]
        assert all(w.isascii() and w.replace("_", "").isalnum() and w == w.lower() for w in words), (lang, words)
        assert len(set(words)) == len(words), (lang, words)
    assert REGISTRY.commands["help"].telegram_word("tr") == "yardim"
    assert REGISTRY.commands["help"].telegram_word("ar") == "help"


def test_no_word_means_two_commands():
    seen: dict[str, str] = {}
    for command in REGISTRY.commands.values():
        for spelling in command.spellings():
            assert seen.setdefault(spelling, command.key) == command.key, (spelling, command.key, seen[spelling])


def test_every_command_has_a_word_and_a_description_in_every_language():
    for lang in LANGUAGES:
        tr = translator(lang)
        for command in REGISTRY.commands.values():
            own = command.words.get(base_language(lang)) or command_words(command.key).get(base_language(lang))
            assert own, f"add a {lang} word for /{command.word('de')} to COMMAND_WORDS in conversations/i18n.py"
            if lang not in ("en",):
                assert english_leaks(tr.gettext(command.description), lang) == [], (lang, command.key)


def test_arabic_reads_right_to_left_with_numbers_kept_whole(bot, codes):
    ayse, _replies = link_in(bot, "ayse", codes["Ayşe"], "ar")
    help_text = ayse.say("/مساعدة")[0]
    lines = [line for line in help_text.split("\n") if line.strip() and not line.lstrip().startswith(("1.", "2."))]
    assert all(line.startswith(RLM) for line in lines)
    phone_line = next(line for line in lines if "0391" in line)
    shown = visual(phone_line)
    assert "0391 555 0100" in shown and "8:00–18:00" in shown
    # Without the isolates the bidi algorithm would turn the number around: this is what they prevent.
    bare = phone_line.replace(LRI, "").replace(PDI, "")
    assert "0391 555 0100" not in visual(bare)
    command_line = next(line for line in lines if "/مساعدة" in line)
    shown = visual(command_line)  # Arabic letters come out reversed in visual order
    assert shown.rstrip(RLM).endswith("/مساعدة"[::-1])  # the command stands on the right, where the line starts


def test_arabic_dates_and_numbers_are_isolated_and_german_untouched():
    when = berlin(2027, 3, 16, 10, 0)
    arabic, german = translator("ar"), translator("de")
    assert german.when(when) == "Dienstag, 16. März 2027, 10:00"
    shown = arabic.when(when)
    assert shown.startswith("\u2068") and shown.endswith(PDI) and "2027" in shown and "،" in shown
    assert arabic.number(2.5) == "\u20682.5\u2069"
    assert german.display("Termin: 10:00") == "Termin: 10:00"
    line = arabic.display("الرمز: ABCD-EFG-HJK.")
    assert line == f"{RLM}الرمز: {LRI}ABCD-EFG-HJK{PDI}."
    assert arabic.display(line) == line  # applied twice, nothing doubles
    assert arabic.display("من Brücke e.V. اليوم") == f"{RLM}من {LRI}Brücke e.V.{PDI} اليوم"  # the abbreviation's point


def test_leichte_sprache_formats_dates_in_german_and_falls_back_to_german():
    tr = translator("de@leicht")
    assert tr.when(berlin(2027, 3, 16, 10, 0)) == "Dienstag, 16. März 2027, 10:00"
    assert translator("de-x-ls").lang == "de@leicht" and translator("de_AT").lang == "de"
    assert language_name("de@leicht") == "Leichte Sprache"


def test_a_staff_member_reads_notifications_in_her_own_language(bot, codes, app, clock):
    chat, _replies = link_in(bot, "jana", codes["Jana"], "uk")
    with app.sessions.begin() as session:
        jana = session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber"))
        notify(session, jana, lambda tr: Reply(tr.gettext("Hello {name},").format(name=jana.name) + " "
                                               + tr.date(berlin(2027, 3, 16, 10, 0))),
               now=clock.now(), kind="test")
    assert chat.receive() == ["Вітаю, Jana Weber! вівторок, 16 березня 2027\u202fр."]
