"""How a typed answer finds its option: by its number (in any script) or by its words.

The model (README, "How choices work"): a chat has one *open question*, the newest message with options
that reached the person (a reply in a turn or a message pushed to them; it is recorded when it is
delivered, so it is what the person sees at the bottom of the chat). Its options answer to their
number and to their label; Telegram's buttons and Matrix's reactions name their option themselves.
Besides it, the current flow's question (``step``) keeps answering to its labels, so a person who
reads a side remark and then types the answer to the question before it is still understood.

Numbers count in any script: ``2``, ``٢`` (Arabic-Indic), ``۲``, ``２`` (full width), ``²``, ``②``,
``2️⃣``, and ``2.``/``2)``. Labels are compared without case, accents, punctuation or emoji
("termin absagen" is "Termin absagen", "evet" is "Evet", "bestaetigen" is "Bestätigen").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from conversations.messages import Choice

MAX_NUMBER = 999  # a longer run of digits is a value (a phone number, a year), never an option
_KEYCAP = re.compile("[\ufe0f\u20e3]")
_AROUND_NUMBER = re.compile(r"^[\s(#№]*(.*?)[\s.):]*$", re.DOTALL)
_FOLD = str.maketrans({"ı": "i", "ß": "ss", "ё": "е", "ى": "ي", "ة": "ه", "ـ": None})
_UMLAUTS = (("ae", "a"), ("oe", "o"), ("ue", "u"))  # "bestaetigen" as Germans type without umlauts


def number_of(text: str) -> int | None:
    """The option number a person typed, or None. ``"²"``, ``"①"``, ``"٣"``, ``"１２"``, ``"🔟"`` all count."""
    core = _AROUND_NUMBER.sub(r"\1", _KEYCAP.sub("", text.strip()))
    if not core or len(core) > 4:
        return None
    if core == "🔟":
        return 10
    digits = [unicodedata.digit(ch, None) for ch in core]
    if all(d is not None for d in digits):
        value = 0
        for digit in digits:
            value = value * 10 + digit  # type: ignore[operator]
        return value if 0 < value <= MAX_NUMBER else None
    if len(core) == 1:  # ⑩ ⑪ … ⑳: a single character standing for a whole number
        numeric = unicodedata.numeric(core, None)
        if numeric is not None and numeric == int(numeric) and 0 < numeric <= MAX_NUMBER:
            return int(numeric)
    return None


def is_bare_number(text: str) -> bool:
    """Text that is only a number (any script, any length): "7", "٧٧", "12345"."""
    core = _AROUND_NUMBER.sub(r"\1", _KEYCAP.sub("", text.strip()))
    return bool(core) and (number_of(text) is not None
                           or all(unicodedata.digit(ch, None) is not None for ch in core))


@lru_cache(maxsize=2048)  # the same labels come back every turn (the menu, the commands' words)
def words_of(text: str) -> str:
    """A label or a typed answer reduced to its words: no case, accents, punctuation, emoji, extra spaces."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold().translate(_FOLD))
    kept = []
    for ch in folded:
        category = unicodedata.category(ch)
        if category.startswith(("L", "N")):
            kept.append(ch)
        elif category.startswith("M"):
            continue  # accents, Arabic vowel marks
        else:
            kept.append(" ")
    return " ".join("".join(kept).split())


def label_key(text: str) -> str:
    """What two spellings of a label have in common: its words, with "ae"/"oe"/"ue" read as ä/ö/ü. A label
    of only symbols (an emoji scale: 😞 … 😄) is its symbols, so typing the emoji picks it."""
    key = words_of(text)
    if not key:
        return "".join(ch for ch in unicodedata.normalize("NFKC", text)
                       if not ch.isspace() and ch not in "\ufe0e\ufe0f\u200d")
    for typed, letter in _UMLAUTS:
        key = key.replace(typed, letter)
    return key


@dataclass(frozen=True)
class Offer:
    """One option as remembered in the chat's state."""

    label: str
    payload: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "payload": self.payload}


def offers(raw: Iterable[Any] | None) -> list[Offer]:
    """Options as stored: ``{"label", "payload"}`` dicts (older rows: bare payloads without labels)."""
    found = []
    for item in raw or ():
        if isinstance(item, dict) and "payload" in item:
            found.append(Offer(str(item.get("label") or ""), str(item["payload"])))
        elif isinstance(item, str):
            found.append(Offer("", item))
    return found


def distinct(choices: Sequence[Choice]) -> list[Choice]:
    """The options of one question with labels told apart: a label that an earlier option already has (two
    alerts of the same minute, two goals written alike) gets " (2)", " (3)", so each answers to its words."""
    seen: dict[str, int] = {}
    result = []
    for choice in choices:
        key = label_key(choice.label)
        seen[key] = seen.get(key, 0) + 1
        result.append(choice if seen[key] == 1 or not key else Choice(f"{choice.label} ({seen[key]})", choice.payload))
    return result


def stored(choices: Sequence[Choice | Offer]) -> list[dict[str, str]]:
    return [{"label": c.label, "payload": c.payload} for c in choices]


def by_label(options: Sequence[Offer], text: str) -> Offer | None:
    """The one option whose label the text is (ignoring case, accents, punctuation); None if none or several."""
    typed = label_key(text)
    if not typed:
        return None
    hits = [o for o in options if label_key(o.label) == typed]
    return hits[0] if len({h.payload for h in hits}) == 1 else None


def by_number_and_label(options: Sequence[Offer], text: str) -> Offer | None:
    """"2. Termin absagen", "2 termin absagen": the number and its label together (copied from the screen)."""
    match = re.match(r"^\s*(\S{1,4}?)[\s.):]+(.+)$", text, re.DOTALL)
    if not match:
        return None
    number = number_of(match[1])
    if number is None or not 1 <= number <= len(options):
        return None
    option = options[number - 1]
    return option if label_key(match[2]) == label_key(option.label) else None


@dataclass(frozen=True)
class Picked:
    """What a typed text means: an option, a number that fits no option, or neither."""

    payload: str | None = None
    stray_number: int | None = None  # a bare number that is no option of the open question


def pick(open_question: Sequence[Offer], step: Sequence[Offer], text: str) -> Picked:
    """Resolve typed text against the open question (number, label) and then the flow's question (label)."""
    number = number_of(text)
    if number is not None:
        if 1 <= number <= len(open_question):
            return Picked(open_question[number - 1].payload)
        return Picked(stray_number=number)
    for options in (open_question, step):
        found = by_label(options, text) or by_number_and_label(options, text)
        if found is not None:
            return Picked(found.payload)
    return Picked()
