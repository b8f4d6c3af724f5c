"""Every command in every language, walked a few steps with the demo family: nothing English, nothing broken.

Ayşe (a mother) links her chat in every language, Jana (a Fachkraft) and Kerstin (the complaint office) in
two; each sends every command word of that language open to them and presses the first offered button a
few times (or answers in free text where a question asks for it). Every message and button they see must
be in their language, with no leftover {placeholder} and within Telegram's 4096 characters, and no turn
may fail. (Every single message is also rendered in every language by tests/test_catalogs.py.)
"""

from __future__ import annotations

import re

import pytest

from conversations.i18n import available_languages, translator
from conversations.registry import REGISTRY, Audience
from tests.support.languages import english_leaks, link_in

STEPS = 2  # a walk is slow (a real turn and delivery each): two steps reach each flow's second question
SKIP = {"unlink", "language", "start"}  # they end the chat, change the language, or restart onboarding
FAMILY = [("ayse", "Ayşe", lang) for lang in available_languages() if lang != "de"]
STAFF = [(address, name, lang) for address, name in (("jana", "Jana"), ("kerstin", "Kerstin")) for lang in ("ar", "uk")]
FREE_ANSWER = "Am Dienstag war niemand da, weil Leyla krank war."


def walk(chat, lang: str, staff: bool) -> list[str]:  # type: ignore[no-untyped-def]
    """Send every command word of ``lang`` open to the person and follow each a few steps."""
    seen: list[str] = []
    theirs = Audience.STAFF if staff else Audience.FAMILY
    for command in REGISTRY.commands.values():
        if command.key in SKIP or command.audience not in (Audience.ANYONE, Audience.LINKED, theirs):
            continue
        seen += chat.say("/" + command.word(lang))
        for _step in range(STEPS):
            last = chat.last
            if last.choices:
                seen += chat.say(payload=last.choices[0].payload)
            else:
                seen += chat.say(FREE_ANSWER)
    return seen


@pytest.mark.parametrize(("address", "name", "lang"), FAMILY + STAFF)
def test_every_command_reads_well_in_every_language(bot, codes, address, name, lang):
    tr = translator(lang)
    apology = tr.gettext("Sorry, something went wrong on my side. Nothing was changed. Please try again in a moment.")
    problems: list[str] = []
    chat, seen = link_in(bot, address, codes[name], lang)
    seen += walk(chat, lang, staff=(address, name, lang) in STAFF)
    for number, text in enumerate(seen):
        problems += [f"English {leak!r}" for leak in english_leaks(text, lang)]
        if re.search(r"\{[a-z_]+\}", text):
            problems.append(f"placeholder left: {text[:80]!r}")
        if len(text) > 4096:
            problems.append(f"{len(text)} characters: {text[:80]!r}")
        if apology in text.replace("\u200f", ""):
            problems.append(f"a turn failed after {seen[number - 1][:80]!r}")
    assert problems == []
