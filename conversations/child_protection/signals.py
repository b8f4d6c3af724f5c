"""Finding signals that a child may be at risk in a message: the phrase lists and the matcher.

The phrases are data (``conversations/data/danger_phrases.toml``), curated per language by category
(violence, threats, sexual violence, self-harm, neglect and fear, urgent calls for help). A phrase is a
few words in order, with up to two other words between them; a word may be a *class* (``@kind``: any
of the words the language lists under ``kind``), so "@schlägt @kind" is every perpetrator verb × every
child noun without writing out the product. ``harmless`` phrases take their words out before matching
("schlägt … vor" is a proposal, "kein Notfall" is not a call for help).

Texts and phrases are compared after normalising case, diacritics, punctuation and repeated letters,
with one typo allowed in longer words. All languages are screened for everyone: a Turkish-speaking
mother may write German, a child may mix. A match names the phrase (why) and the words as the person
wrote them (what staff are shown).

Cost: a message is tokenised once; each token costs a few dictionary look-ups (the lists are indexed
once per distinct list); only phrases whose every word occurs are tried in order.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

PHRASES_FILE = Path(__file__).parent.parent / "data" / "danger_phrases.toml"
MAX_GAP = 2  # other words allowed between two words of a phrase
WIDE_GAP = 5  # … after "..." in a phrase ("took ... pills")

# --- normalising -------------------------------------------------------------------------------------
_FOLD = str.maketrans({
    "ı": "i",  # Turkish dotless i
    "ى": "ي", "ة": "ه", "ـ": None,  # Arabic: alef maqsura, ta marbuta, tatweel
    "'": None, "’": None, "ʼ": None, "`": None, "´": None,  # apostrophes join ("б'є", "don't")
    "ё": "е",
})
# A hyphen between letters joins: Leichte Sprache splits words for reading ("um-bringen", "Stief-Vater").
_HYPHENS = frozenset("-\u2010\u2011")
_REPEATS = re.compile(r"(\w)\1+")


@lru_cache(maxsize=8192)
def _fold(char: str) -> str:
    """One character without case and diacritics ("" for a mark or an apostrophe, "ss" for ß)."""
    decomposed = unicodedata.normalize("NFKD", char.casefold().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)


@dataclass(frozen=True)
class Token:
    word: str  # normalised
    start: int  # where the person's spelling of it begins and ends in the text
    end: int
    last_in_sentence: bool = False  # followed by . ! ? or a line break (or the end of the text)


_SENTENCE_ENDS = frozenset(".!?\n…。؟")


def tokens(text: str) -> list[Token]:
    """The words of ``text``, normalised, each with the place it was written."""
    folded = [(f, i) for i, char in enumerate(text) for f in _fold(char)]
    found: list[Token] = []
    letters: list[str] = []
    start = end = 0
    for k, (char, i) in enumerate(folded):
        if char.isalnum():
            if not letters:
                start = i
            letters.append(char)
            end = i + 1
            continue
        if char in _HYPHENS and letters and k + 1 < len(folded) and folded[k + 1][0].isalnum():
            continue
        if letters:
            found.append(Token(_REPEATS.sub(r"\1", "".join(letters)), start, end))
            letters = []
        if found and text[i] in _SENTENCE_ENDS and not found[-1].last_in_sentence:
            found[-1] = Token(found[-1].word, found[-1].start, found[-1].end, True)
    if letters:
        found.append(Token(_REPEATS.sub(r"\1", "".join(letters)), start, end))
    if found:
        found[-1] = Token(found[-1].word, found[-1].start, found[-1].end, True)
    return found


def normalise(text: str) -> list[str]:
    """Words of ``text`` without case, diacritics, punctuation and repeated letters."""
    return [t.word for t in tokens(text)]


# --- phrases ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    core: str
    prefix: bool = False  # "*word": the text's word may end like this, anything before
    suffix: bool = False  # "word*": the text's word may start like this, anything after
    exact: bool = False  # "=word": no typo allowed ("schlägt" must not match "schläft")

    def matches(self, token: str, typos: bool) -> bool:
        return _similar(self.core, token, self.prefix, self.suffix, typos and not self.exact)


@dataclass(frozen=True)
class Slot:
    """``@name`` in a phrase: any word of that class in the phrase's language."""

    language: str
    name: str


END = Slot("", "$")  # "$" in a phrase: the end of a sentence or the message ("ich kann nicht mehr $")
Term = Word | Slot


@dataclass(frozen=True)
class Phrase:
    text: str  # as written in the list
    language: str
    terms: tuple[Term, ...]
    gaps: tuple[int, ...]  # other words allowed before each term (the first: anywhere)


def _word(raw: str) -> list[Word]:
    exact = raw.startswith("=")
    raw = raw.lstrip("=")
    cores = normalise(raw.strip("*"))
    return [Word(core, prefix=raw.startswith("*") and i == 0, suffix=raw.endswith("*") and i == len(cores) - 1,
                 exact=exact) for i, core in enumerate(cores)]


def parse(text: str, language: str) -> Phrase | None:
    terms: list[Term] = []
    gaps: list[int] = []
    gap = MAX_GAP
    for raw in text.split():
        if raw == "...":
            gap = WIDE_GAP
            continue
        if raw == "+":
            gap = 0
            continue
        if raw == "$":
            terms.append(END)
            gaps.append(0)
        elif raw.startswith("@") and len(raw) > 1:
            terms.append(Slot(language, raw[1:]))
            gaps.append(gap)
        else:
            words = _word(raw)
            terms += words
            gaps += [gap] + [0] * (len(words) - 1)  # "б'є", "um-bringen": one word as written
        gap = MAX_GAP
    if not terms or terms[0] == END:
        return None
    return Phrase(text, language, tuple(terms), tuple(gaps))


@dataclass(frozen=True)
class Lists:
    """What the screen looks for: danger phrases, harmless phrases, and the word classes they use."""

    phrases: tuple[Phrase, ...]
    harmless: tuple[Phrase, ...] = ()
    classes: tuple[tuple[Slot, tuple[Word, ...]], ...] = ()


def _items(entry: object, key: str) -> list[str]:
    items = entry.get(key, []) if isinstance(entry, Mapping) else (entry if key == "phrases" else [])
    return [str(x) for x in items] if isinstance(items, Iterable) and not isinstance(items, str) else []


def lists_from(data: Mapping[str, object]) -> Lists:
    """``{language: {"phrases": [...], "harmless": [...], "words": {class: [...]}}}`` (or a bare list of
    phrases per language, as an organisation's own phrases are stored)."""
    phrases, harmless, classes = [], [], []
    for language, entry in data.items():
        phrases += [p for p in (parse(t, language) for t in _items(entry, "phrases")) if p]
        harmless += [p for p in (parse(t, language) for t in _items(entry, "harmless")) if p]
        words = entry.get("words", {}) if isinstance(entry, Mapping) else {}
        for name in words:
            classes.append((Slot(language, name), tuple(_members(words, name, set()))))
    return Lists(tuple(phrases), tuple(harmless), tuple(classes))


def _members(words: Mapping[str, Iterable[str]], name: str, seen: set[str]) -> list[Word]:
    """The words of a class; a member "@other" brings in all of that class ("opfer" holds "@kind")."""
    seen.add(name)
    found: list[Word] = []
    for member in map(str, words.get(name, ())):
        if member.startswith("@"):
            if member[1:] not in seen:
                found += _members(words, member[1:], seen)
        else:
            found += _word(member)
    return found


@cache
def curated() -> Lists:
    with PHRASES_FILE.open("rb") as fh:
        return lists_from(tomllib.load(fh))


# --- matching ----------------------------------------------------------------------------------------------
def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two letters is one typo), cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=200_000)
def _similar(core: str, token: str, prefix: bool, suffix: bool, typos: bool) -> bool:
    if prefix and suffix:
        return core in token
    if suffix:
        return token.startswith(core)
    if prefix:
        return token.endswith(core)
    if core == token:
        return True
    if not typos or core[:1] != token[:1]:
        return False
    # Short words get no typo ("hat mich" is not "haut mich"), nor a wrong first letter ("besser" is not
    # "messer"): people rarely mistype the first letter, and most everyday look-alikes differ there.
    limit = 2 if len(core) >= 9 else 1 if len(core) >= 5 else 0
    return limit > 0 and _distance(core, token, limit) <= limit


def clear_caches() -> None:
    """Forget what earlier messages taught the caches (the benchmark measures a first-seen message)."""
    _similar.cache_clear()
    _fold.cache_clear()


@dataclass(frozen=True)
class Compiled:
    """Lists indexed for screening: a message costs dictionary look-ups, not a scan of every phrase."""

    phrases: tuple[Phrase, ...]
    harmless: tuple[Phrase, ...]
    plain: Mapping[str, tuple[Word, ...]]  # exact word → the words it is
    starts: Mapping[str, tuple[Word, ...]]  # "word*" by its core
    ends: Mapping[str, tuple[Word, ...]]  # "*word"
    contains: Mapping[str, tuple[Word, ...]]  # "*word*"
    longest: int  # the longest core of a "*word*"
    typo_prone: Mapping[str, tuple[Word, ...]]  # by first letter: plain words long enough for a typo
    classes: Mapping[Word, frozenset[Slot]]  # the classes a word belongs to
    squeezed: tuple[tuple[Phrase, str], ...]  # phrases of several plain words, without spaces
    by_first: Mapping[Term, tuple[int, ...]]  # positions of the phrases that begin with this term


def _index(words: Iterable[Word]) -> dict[str, tuple[Word, ...]]:
    grouped: dict[str, list[Word]] = {}
    for word in words:
        grouped.setdefault(word.core, []).append(word)
    return {k: tuple(v) for k, v in grouped.items()}


def compile_lists(lists: Lists) -> Compiled:
    membership: dict[Word, set[Slot]] = {}
    for slot, members in lists.classes:
        for word in members:
            membership.setdefault(word, set()).add(slot)
    words = {t for p in (*lists.phrases, *lists.harmless) for t in p.terms if isinstance(t, Word)} | set(membership)
    plain = [w for w in words if not (w.prefix or w.suffix)]
    contains = [w for w in words if w.prefix and w.suffix]
    typo_prone: dict[str, list[Word]] = {}
    for word in plain:
        if len(word.core) >= 5 and not word.exact:
            typo_prone.setdefault(word.core[0], []).append(word)
    by_first: dict[Term, list[int]] = {}
    for position, phrase in enumerate(lists.phrases):
        by_first.setdefault(phrase.terms[0], []).append(position)
    return Compiled(
        phrases=lists.phrases,
        harmless=lists.harmless,
        plain=_index(plain),
        starts=_index(w for w in words if w.suffix and not w.prefix),
        ends=_index(w for w in words if w.prefix and not w.suffix),
        contains=_index(contains),
        longest=max((len(w.core) for w in contains), default=0),
        typo_prone={k: tuple(v) for k, v in typo_prone.items()},
        classes={w: frozenset(s) for w, s in membership.items()},
        # "zu hause" / "zuhause", "my self": several plain words also match without spaces.
        squeezed=tuple((p, "".join(t.core for t in p.terms)) for p in lists.phrases  # type: ignore[union-attr]
                       if len(p.terms) > 1 and all(isinstance(t, Word) and not (t.prefix or t.suffix)
                                                   for t in p.terms)),
        by_first={k: tuple(v) for k, v in by_first.items()},
    )


def _words_at(compiled: Compiled, token: str) -> set[Word]:
    """The list words this token is, exactly or by a wildcard."""
    found = set(compiled.plain.get(token, ()))
    for k in range(1, len(token) + 1):
        found.update(compiled.starts.get(token[:k], ()))
        found.update(compiled.ends.get(token[-k:], ()))
    for i in range(len(token)):
        for j in range(i + 1, min(len(token), i + compiled.longest) + 1):
            found.update(compiled.contains.get(token[i:j], ()))
    return found


def _typos_at(compiled: Compiled, token: str) -> set[Word]:
    return {w for w in compiled.typo_prone.get(token[:1], ()) if w.matches(token, True)}


def _with_classes(compiled: Compiled, words: set[Word]) -> set[Term]:
    terms: set[Term] = set(words)
    for word in words:
        terms.update(compiled.classes.get(word, ()))
    return terms


def _locate(phrase: Phrase, at: list[set[Term]], term: int = 0, start: int = 0) -> tuple[int, ...] | None:
    """Where ``phrase`` occurs: its first term anywhere, each next within its gap; None if nowhere."""
    end = len(at) if term == 0 else min(start + phrase.gaps[term] + 1, len(at))
    for position in range(start, end):
        if phrase.terms[term] in at[position]:
            if term + 1 == len(phrase.terms):
                return (position,)
            rest = _locate(phrase, at, term + 1, position + 1)
            if rest is not None:
                return (position, *rest)
    return None


@dataclass(frozen=True)
class Match:
    phrase: Phrase  # why (the list entry)
    words: str  # what: the passage that matched, as the person wrote it


def _as_written(text: str, toks: list[Token], positions: Iterable[int | None]) -> str:
    """The passage from the first to the last matched word, exactly as written (the words between too:
    "schlägt die Kinder" reads better than "schlägt … Kinder")."""
    used = [p for p in positions if p is not None]
    return text[toks[min(used)].start:toks[max(used)].end]


def _harmless_positions(compiled: Compiled, at: list[set[Term]]) -> set[int]:
    present = set().union(*at)
    blanked: set[int] = set()
    for phrase in compiled.harmless:
        if not all(t in present for t in phrase.terms):
            continue
        start = 0
        while (found := _locate(phrase, at[start:])) is not None:
            blanked.update(start + p for p in found)
            start += found[0] + 1
    return blanked


def _squeezed_positions(toks: list[Token], joined: str, squeezed: str) -> tuple[int, ...]:
    at = joined.find(squeezed)
    ends, length = [], 0
    for token in toks:
        length += len(token.word)
        ends.append(length)
    return tuple(i for i, e in enumerate(ends) if e > at and e - len(toks[i].word) < at + len(squeezed))


def find(text: str, lists: Compiled | Lists) -> Match | None:
    """A phrase that occurs in ``text`` (one written exactly, if any, so staff see the closest), or None."""
    toks = tokens(text)
    if not toks:
        return None
    compiled = lists if isinstance(lists, Compiled) else compile_lists(lists)
    exact = [_words_at(compiled, t.word) for t in toks]
    # One place per word, and after the last word of each sentence a place holding only END ("$").
    token_at = [p for k, t in enumerate(toks) for p in ((k, None) if t.last_in_sentence else (k,))]
    at: list[set[Term]] = [{END} if i is None else _with_classes(compiled, exact[i]) for i in token_at]
    blanked = _harmless_positions(compiled, at)
    for typos in (False, True):
        if typos:
            at = [{END} if i is None else _with_classes(compiled, exact[i] | _typos_at(compiled, toks[i].word))
                  for i in token_at]
        for position in blanked:
            at[position] = set()
        present = set().union(*at)
        candidates = sorted({i for t in present for i in compiled.by_first.get(t, ())})  # in list order
        for phrase in (compiled.phrases[i] for i in candidates):
            if all(t in present for t in phrase.terms):
                positions = _locate(phrase, at)
                if positions is not None:
                    return Match(phrase, _as_written(text, toks, [token_at[p] for p in positions]))
        if not typos:
            joined = "".join(t.word for t in toks)
            blanked_tokens = {token_at[p] for p in blanked}
            for phrase, squeezed in compiled.squeezed:
                if squeezed in joined:
                    positions = _squeezed_positions(toks, joined, squeezed)
                    if not blanked_tokens.intersection(positions):
                        return Match(phrase, _as_written(text, toks, positions))
    return None
