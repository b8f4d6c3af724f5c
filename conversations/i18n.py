"""Per-person language: gettext catalogs and babel formatting in Europe/Berlin.

There is no process-wide language: every message is rendered with the translator of the person who
reads it (a family member's reply, a staff member's notification), so two people in one process never
see each other's language.
"""

from __future__ import annotations

import gettext as _gettext
import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

import locales
from conversations.clock import BERLIN

SOURCE_LANGUAGE = "en"  # msgids are English; every other language has a catalog
DEFAULT_LANGUAGE = "de"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (it is translated when shown)."""
    return message


def catalog_dir() -> Path:
    return Path(locales.__file__).parent


def available_languages() -> list[str]:
    """The source language plus every language with a catalog, German first."""
    found = sorted(p.parent.parent.name for p in catalog_dir().glob("*/LC_MESSAGES/messages.po"))
    langs = [DEFAULT_LANGUAGE] + [lang for lang in found if lang != DEFAULT_LANGUAGE]
    if SOURCE_LANGUAGE not in langs:
        langs.append(SOURCE_LANGUAGE)
    return langs


def language_name(lang: str) -> str:
    """The language's own name for itself ("Deutsch", "Türkçe"), for the language menu."""
    try:
        name = Locale.parse(lang).get_display_name(lang) or lang
    except (ValueError, LookupError):
        return lang
    return name[:1].upper() + name[1:]


@cache
def _translations(lang: str) -> _gettext.NullTranslations:
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    base = catalog_dir() / lang / "LC_MESSAGES"
    po, mo = base / "messages.po", base / "messages.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return _gettext.GNUTranslations(fh)
    if po.exists():
        # Not compiled yet (a fresh checkout): compile in memory rather than show English.
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return _gettext.GNUTranslations(buf)
    return _gettext.NullTranslations()


def normalise_language(lang: str | None) -> str:
    if lang and lang in available_languages():
        return lang
    if lang and "_" in lang and lang.split("_", 1)[0] in available_languages():
        return lang.split("_", 1)[0]
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    """Texts, dates, times and numbers for one reader."""

    lang: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    def gettext(self, message: str) -> str:
        return _translations(self.lang).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _translations(self.lang).ngettext(singular, plural, n)

    def date(self, value: datetime | date, fmt: str = "full") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(BERLIN).date()
        return format_date(value, fmt, locale=self.lang)

    def time(self, value: datetime) -> str:
        return format_time(value, "short", tzinfo=BERLIN, locale=self.lang)

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        return format_datetime(value, fmt, tzinfo=BERLIN, locale=self.lang)

    def when(self, value: datetime) -> str:
        """A weekday, date and time as people say it: "Dienstag, 16. März 2027, 10:00"."""
        return f"{self.date(value)}, {self.time(value)}"

    def number(self, value: float, digits: int = 2) -> str:
        return format_decimal(round(value, digits), locale=self.lang)


def translator(lang: str | None) -> Translator:
    return Translator(normalise_language(lang))
