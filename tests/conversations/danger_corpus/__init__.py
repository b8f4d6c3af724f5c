"""A labelled corpus of messages as families write them, for the child-protection screen.

Per language two parts, same format: ``tuned/<lang>.toml`` (used while choosing phrases and words) and
``held_out/<lang>.toml`` (only ever evaluated, so the figures show how the lists do on sentences they
were not chosen for). Each file has ``[alert]`` lists by category (why the sentence must alert) and
``[everyday] sentences`` that must not alert. ``de@leicht`` holds German as readers of Leichte Sprache
write it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
PARTS = ("tuned", "held_out")
LANGUAGES = ("de", "de@leicht", "en", "tr", "ar", "uk", "ru")


@dataclass(frozen=True)
class Sentence:
    text: str
    language: str
    category: str  # "violence", "threats", … or "everyday"
    alert: bool  # must raise an alert


def load(part: str) -> list[Sentence]:
    sentences = []
    for language in LANGUAGES:
        with (HERE / part / f"{language}.toml").open("rb") as fh:
            data = tomllib.load(fh)
        for category, texts in data["alert"].items():
            sentences += [Sentence(t, language, category, True) for t in texts]
        sentences += [Sentence(t, language, "everyday", False) for t in data["everyday"]["sentences"]]
    return sentences


@dataclass
class Score:
    alerts: int = 0
    caught: int = 0
    everyday: int = 0
    false_alerts: int = 0
    missed: list[Sentence] = field(default_factory=list)
    raised: list[tuple[Sentence, str]] = field(default_factory=list)  # everyday sentence, what matched

    @property
    def recall(self) -> float:
        return self.caught / self.alerts if self.alerts else 1.0

    @property
    def false_rate(self) -> float:
        return self.false_alerts / self.everyday if self.everyday else 0.0


def score(sentences: Iterable[Sentence], detect: Callable[[str], str | None]) -> dict[str, Score]:
    """Per language: how many alert sentences ``detect`` caught and how many everyday ones it raised.
    ``detect`` answers what matched (shown in the listing of false alerts), or None."""
    scores: dict[str, Score] = {}
    for sentence in sentences:
        s = scores.setdefault(sentence.language, Score())
        hit = detect(sentence.text)
        if sentence.alert:
            s.alerts += 1
            if hit is None:
                s.missed.append(sentence)
            else:
                s.caught += 1
        else:
            s.everyday += 1
            if hit is not None:
                s.false_alerts += 1
                s.raised.append((sentence, hit))
    return scores
