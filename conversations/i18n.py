"""Per-person language: gettext catalogs and babel formatting in Europe/Berlin.

There is no process-wide language: every message is rendered with the translator of the person who
reads it (a family member's reply, a staff member's notification), so two people in one process never
see each other's language.

Language codes are POSIX locale names, as gettext and babel read them: ``de``, ``tr``, ``ar``, … and
``de@leicht`` for Leichte Sprache (German plain language), a modifier like ``sr@latin``: babel formats
its dates as German, pybabel keeps its catalog in ``locales/de@leicht``.
"""

from __future__ import annotations

import gettext as _gettext
import io
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

import locales
from conversations.clock import BERLIN

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

SOURCE_LANGUAGE = "en"  # msgids are English; every other language has a catalog
DEFAULT_LANGUAGE = "de"
LEICHTE_SPRACHE = "de@leicht"
# The order of the language menu; further catalogs follow, sorted by code.
MENU_ORDER = ("de", LEICHTE_SPRACHE, "en", "tr", "ar", "uk", "ru")
# Names babel does not know; every other language is shown by babel's name of it in itself.
OWN_NAMES = {LEICHTE_SPRACHE: "Leichte Sprache"}
# Other spellings people or systems use for a language we offer.
ALIASES = {"de-x-ls": LEICHTE_SPRACHE, "de_ls": LEICHTE_SPRACHE, "ls": LEICHTE_SPRACHE,
           "leichte sprache": LEICHTE_SPRACHE}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (it is translated when shown)."""
    return message


def catalog_dir() -> Path:
    return Path(locales.__file__).parent


def available_languages() -> list[str]:
    """The source language plus every language with a catalog, German first, in the menu's order."""
    return list(_available_languages())


@cache
def _available_languages() -> tuple[str, ...]:  # read once per process: every translator() asks
    found = {p.parent.parent.name for p in catalog_dir().glob("*/LC_MESSAGES/messages.po")}
    found |= {DEFAULT_LANGUAGE, SOURCE_LANGUAGE}
    ordered = [lang for lang in MENU_ORDER if lang in found]
    return (*ordered, *sorted(found - set(ordered)))


@cache  # the language menu and the command words ask on every turn; babel parses the locale each time
def language_name(lang: str) -> str:
    """The language's own name for itself ("Deutsch", "Türkçe", "Leichte Sprache"), for the language menu."""
    if lang in OWN_NAMES:
        return OWN_NAMES[lang]
    try:
        name = Locale.parse(lang).get_display_name(lang) or lang
    except (ValueError, LookupError):
        return lang
    return name[:1].upper() + name[1:]


def base_language(lang: str) -> str:
    """``de`` for ``de@leicht`` and ``de_AT``: the language whose words a variant falls back to."""
    return re.split(r"[_@-]", lang, maxsplit=1)[0]


# Young people are spoken to with du (sen, ти, ты, the Arabic singular): their translator looks each
# message up in this second domain first (locales/<lang>/LC_MESSAGES/youth.po, the du-forms of the
# family-facing messages) and falls back to the adult catalog. No flow needs to ask who is reading.
YOUTH_DOMAIN = "youth"


def _load(lang: str, domain: str) -> _gettext.GNUTranslations | None:
    """One compiled catalog of a language, or None if it has none in this domain."""
    base = catalog_dir() / lang / "LC_MESSAGES"
    po, mo = base / f"{domain}.po", base / f"{domain}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return _gettext.GNUTranslations(fh)
    if not po.exists():
        return None
    # Not compiled yet (a fresh checkout): compile in memory rather than show English. Babel's catalog
    # reader is imported only here, for the first catalog that is not compiled (not at start).
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, translated_only(catalog))
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def translated_only(catalog: Catalog) -> Catalog:
    """The catalog without untranslated entries, so that gettext falls back for them (babel's write_mo
    leaves out an empty msgstr but keeps an empty plural, which would show the English msgid)."""
    for message in list(catalog):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not all(strings):
            catalog.delete(message.id, message.context)
    return catalog


@cache
def _translations(lang: str, domain: str = "messages", youth: bool = False) -> _gettext.NullTranslations:
    """One language's catalog of a gettext domain: ``messages`` (the chat) or ``cli`` (the operators' CLI);
    ``youth``: the du-forms first, then that catalog."""
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()  # English "you" is the same for everyone
    if youth:
        du = _load(lang, YOUTH_DOMAIN)
        if du is None:
            return _translations(lang, domain)
        du.add_fallback(_translations(lang, domain))
        return du
    translations = _load(lang, domain)
    if translations is None:
        return _gettext.NullTranslations()
    if base_language(lang) != lang:
        # A variant (Leichte Sprache) shows its base language (German) for a message it lacks, not English.
        translations.add_fallback(_translations(base_language(lang), domain))
    return translations


def domain_translations(lang: str, domain: str) -> _gettext.NullTranslations:
    """The catalog of another gettext domain (``cli``: the operators' command line) in ``lang``."""
    return _translations(lang, domain)


def offered_language(code: str | None) -> str | None:
    """An offered language for a code a network reports ("tr", "de-AT", "pt-BR"), or None."""
    if not code:
        return None
    code = ALIASES.get(code.casefold(), code).replace("-", "_")
    offered = available_languages()
    return code if code in offered else base_language(code) if base_language(code) in offered else None


def normalise_language(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANGUAGE
    offered = available_languages()
    lang = ALIASES.get(lang.casefold(), lang)
    if lang in offered:
        return lang
    if base_language(lang) in offered:
        return base_language(lang)
    return DEFAULT_LANGUAGE


# --- right-to-left ---------------------------------------------------------------------------
# In an Arabic sentence, a left-to-right run such as a phone number "0391 555 0100", a time "10:00–12:00",
# a code "ABCD-EFG-HJK" or "/help" is scrambled by the bidi algorithm (the spaces between numbers take
# the sentence's direction, so the groups come out in reverse). Wrapping each such run in a Unicode
# isolate keeps it intact; a right-to-left mark at the start of each line makes the line read from the
# right even when it begins with a Latin word.
LRI, RLI, FSI, PDI, RLM = "\u2066", "\u2067", "\u2068", "\u2069", "\u200f"
_INSIDE_LTR_RUN = set(" .,:;/-–—+_@#%&=?~'’()*×·")
_RUN_OPENERS = set("/+#@")
_MARKUP = re.compile(r"<[^<>\n]*>")


def _is_ltr(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("L", "EN")


def isolate_ltr_runs(line: str) -> str:
    """Wrap each left-to-right run of a line (not already isolated, not markup) in LRI … PDI."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if char in (LRI, RLI, FSI):  # already isolated by a formatting helper: keep as it is
            depth, j = 0, i
            while j < n:
                depth += line[j] in (LRI, RLI, FSI)
                depth -= line[j] == PDI
                j += 1
                if depth == 0:
                    break
            out.append(line[i:j])
            i = j
            continue
        markup = _MARKUP.match(line, i) if char == "<" else None
        if markup:
            out.append(markup.group())
            i = markup.end()
            continue
        starts = _is_ltr(char) or (char in _RUN_OPENERS and i + 1 < n and _is_ltr(line[i + 1]))
        if not starts:
            out.append(char)
            i += 1
            continue
        j, last = i, i
        while j < n and (_is_ltr(line[j]) or line[j] in _INSIDE_LTR_RUN):
            if _is_ltr(line[j]):
                last = j
            j += 1
        if last + 1 < n and line[last + 1] == "." and (last == i or not line[last - 1].isalpha()):
            last += 1  # an abbreviation's point stays with it: "Brücke e.V.", "Dr."
        while last + 1 < n and line[last + 1] == ")" and line.count("(", i, last + 1) > line.count(")", i, last + 1):
            last += 1  # a bracket opened in the run closes in it: "0391 555 0100 (Mo–Fr 8:00–18:00)"
        out.append(LRI + line[i:last + 1] + PDI)
        i = last + 1
    return "".join(out)


class Message(str):
    """A translated message; ``format`` fills it as ``str.format`` does, with one rule of punctuation for
    every language: a value that already ends with a full stop takes the place of the message's own
    ("… bei Brücke e.V." rather than "… bei Brücke e.V..")."""

    __slots__ = ()

    def format(self, *args: object, **kwargs: object) -> str:
        return self._fill(args, kwargs)

    def format_map(self, mapping: Mapping[str, object]) -> str:  # type: ignore[override]
        return self._fill((), mapping)

    def _fill(self, args: tuple[object, ...], values: Mapping[str, object]) -> str:
        formatter, out, auto = string.Formatter(), [], 0
        for literal, field, spec, conversion in formatter.parse(str(self)):
            if literal.startswith(".") and not literal.startswith("..") and out and out[-1].endswith("."):
                literal = literal[1:]
            out.append(literal)
            if field is not None:
                if field == "":
                    field, auto = str(auto), auto + 1
                value = formatter.convert_field(formatter.get_field(field, args, values)[0], conversion)
                out.append(formatter.format_field(value, formatter.vformat(spec or "", args, values)))
        return "".join(out)


@dataclass(frozen=True)
class Translator:
    """Texts, dates, times and numbers for one reader."""

    lang: str
    youth: bool = False  # a young reader: du-forms first (YOUTH_DOMAIN), see conversations.address

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    @property
    def rtl(self) -> bool:
        return self.locale.text_direction == "rtl"

    def gettext(self, message: str) -> str:
        return Message(_translations(self.lang, youth=self.youth).gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return Message(_translations(self.lang, youth=self.youth).ngettext(singular, plural, n))

    # --- direction ------------------------------------------------------------------------
    def isolate(self, value: str) -> str:
        """A formatted value (a date, a number) kept whole inside right-to-left text; unchanged otherwise."""
        return f"{FSI}{value}{PDI}" if self.rtl and value else value

    def display(self, text: str) -> str:
        """A whole message as the reader's screen should get it: for right-to-left languages every line
        starts right-to-left and each left-to-right run in it (numbers, codes, names, commands) is isolated."""
        if not self.rtl:
            return text
        lines = [isolate_ltr_runs(line) for line in text.split("\n")]
        return "\n".join(RLM + line if line.strip() and not line.startswith(RLM) else line for line in lines)

    # --- formatting -----------------------------------------------------------------------
    def _date(self, value: datetime | date, fmt: str) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(BERLIN).date()
        return format_date(value, fmt, locale=self.locale)

    def _time(self, value: datetime) -> str:
        return format_time(value, "short", tzinfo=BERLIN, locale=self.locale)

    def date(self, value: datetime | date, fmt: str = "full") -> str:
        return self.isolate(self._date(value, fmt))

    def month(self, value: datetime | date) -> str:
        """A month standing alone: "März 2027", Russian "март 2027" (babel's standalone form "LLLL", the
        nominative; "MMMM" would give the genitive "марта"). Write messages so the month needs no case
        ending: Russian "за {month}" or "{month}:", never "в {month}"."""
        return self.isolate(self._date(value, "LLLL yyyy"))

    def time(self, value: datetime) -> str:
        return self.isolate(self._time(value))

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        return self.isolate(format_datetime(value, fmt, tzinfo=BERLIN, locale=self.locale))

    def when(self, value: datetime) -> str:
        """A weekday, date and time as people say it: "Dienstag, 16. März 2027, 10:00"."""
        middle = self.locale.list_patterns["standard"]["middle"]  # "{0}, {1}"; Arabic "{0}، {1}"
        return self.isolate(middle.format(self._date(value, "full"), self._time(value)))

    def number(self, value: float, digits: int = 2) -> str:
        return self.isolate(format_decimal(round(value, digits), locale=self.locale))


def translator(lang: str | None, *, youth: bool = False) -> Translator:
    """The translator for a language; ``youth``: for a young person (see conversations.address)."""
    return Translator(normalise_language(lang), youth)


# --- command words ---------------------------------------------------------------------------
# Words for commands, per language, kept here so translators find them next to the catalogs' rules.
# A command's own ``words`` win; these fill the languages it does not name. Non-Latin words and words
# with Turkish letters are understood when typed; Telegram's menu shows ``telegram_word`` instead.
COMMAND_WORDS: dict[str, dict[str, str]] = {
    "start": {"tr": "başla", "ar": "ابدأ", "uk": "почати", "ru": "начать"},
    "help": {"tr": "yardım", "ar": "مساعدة", "uk": "допомога", "ru": "помощь"},
    "menu": {"tr": "menü", "ar": "القائمة", "uk": "меню", "ru": "меню"},
    "language": {"tr": "dil", "ar": "اللغة", "uk": "мова", "ru": "язык"},
    "privacy": {"tr": "gizlilik", "ar": "الخصوصية", "uk": "конфіденційність", "ru": "конфиденциальность"},
    "mydata": {"tr": "verilerim", "ar": "بياناتي", "uk": "мої_дані", "ru": "мои_данные"},
    "unlink": {"tr": "ayrıl", "ar": "إلغاء_الربط", "uk": "відключити", "ru": "отключить"},
    "questionnaire": {"tr": "anket", "ar": "الاستبيان", "uk": "анкета", "ru": "анкета"},
    "complaint": {"tr": "şikayet", "ar": "شكوى", "uk": "скарга", "ru": "жалоба"},
    "emergency": {"tr": "acil", "ar": "طوارئ", "uk": "терміново", "ru": "срочно"},
    "cancel": {"tr": "iptal", "ar": "إلغاء", "uk": "скасувати", "ru": "отмена"},
    "my_appointments": {"tr": "randevularım", "ar": "مواعيدي", "uk": "мої_зустрічі", "ru": "мои_встречи"},
    # staff
    "appointment": {"tr": "randevu", "ar": "موعد", "uk": "зустріч", "ru": "встреча"},
    "hours": {"tr": "saatler", "ar": "الساعات", "uk": "години", "ru": "часы"},
    "goals": {"tr": "hedefler", "ar": "الأهداف", "uk": "цілі", "ru": "цели"},
    "milestone": {"tr": "değerlendirme", "ar": "التقييم", "uk": "оцінка", "ru": "оценка"},
    "complaints": {"tr": "şikayetler", "ar": "الشكاوى", "uk": "скарги", "ru": "жалобы"},
    "agenda": {"tr": "ajanda", "ar": "جدول_المواعيد", "uk": "розклад", "ru": "расписание"},
    "open_escalations": {"tr": "açık", "ar": "المفتوح", "uk": "відкрите", "ru": "открытое"},
    "web": {"tr": "web", "ar": "الويب", "uk": "веб", "ru": "веб"},
    "deadlines": {"tr": "süreler", "ar": "المواعيد_النهائية", "uk": "терміни", "ru": "сроки"},
}
TELEGRAM_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_DOTLESS = str.maketrans({"ı": "i", "ß": "ss"})
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


@lru_cache(maxsize=4096)  # every command's spellings are compared with what was typed, on every turn
def ascii_word(word: str) -> str:
    """The spelling someone without Turkish letters on their keyboard types: yardım → yardim, menü → menu."""
    folded = unicodedata.normalize("NFKD", word.casefold().translate(_DOTLESS))
    return "".join(c for c in folded if not unicodedata.combining(c))


def ascii_spellings(word: str) -> set[str]:
    """Every way a word may be typed on a Latin keyboard: menü → menu, and as Germans write it, menue."""
    return {ascii_word(word), ascii_word(word.casefold().translate(_UMLAUTS))}


def command_words(key: str) -> dict[str, str]:
    return COMMAND_WORDS.get(key, {})
