"""Helpers for tests that read the bot in every language: link a chat in one, find English left in a text."""

from __future__ import annotations

from functools import cache
from string import Formatter

from babel.messages.pofile import read_po

from conversations.i18n import FSI, LRI, PDI, RLM, catalog_dir, language_name, translator

MIN_FRAGMENT = 16  # shorter English pieces ("Name: ") may well appear in a translation too


def link_in(bot, address: str, code: str, lang: str):  # type: ignore[no-untyped-def]
    """Onboard a chat in ``lang``: code → language → accept. Returns the chat and everything it saw."""
    chat = bot.chat(address)
    seen = chat.say(code)
    seen += chat.press(language_name(lang))
    seen += chat.press(translator(lang).gettext("I agree"))
    return chat, seen


@cache
def _fragments() -> dict[str, list[str]]:
    """Each msgid's literal English pieces between placeholders, long enough to be telling."""
    with (catalog_dir() / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    pieces: dict[str, list[str]] = {}
    for message in template:
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        if not msgid:
            continue
        try:
            literals = [lit for lit, *_ in Formatter().parse(msgid)]
        except ValueError:
            literals = [msgid]
        pieces[msgid] = [p.strip() for lit in literals for p in lit.split("\n") if len(p.strip()) >= MIN_FRAGMENT]
    return pieces


def plain(text: str) -> str:
    return "".join(c for c in text if c not in (LRI, PDI, RLM, FSI))


@cache
def _telling(lang: str) -> tuple[tuple[str, str], ...]:
    """(msgid, piece) pairs whose English piece appears in no translation of ``lang``: seeing such a piece
    in a reader's text means English reached them (German terms such as "Meilensteingespräch" that the
    translations keep are not telling)."""
    tr = translator(lang)
    everything = "\n".join(tr.gettext(msgid) for msgid in _fragments())
    return tuple((msgid, piece) for msgid, pieces in _fragments().items() for piece in pieces
                 if " " in piece and piece not in everything)


def english_leaks(text: str, lang: str) -> list[str]:
    """English pieces of messages in ``text`` that the reader's catalog translates (so English reached a
    reader of another language)."""
    if lang == "en":
        return []
    text = plain(text)
    return [piece for _msgid, piece in _telling(lang) if piece in text]
