"""The child-protection screen on the labelled corpus (tests/conversations/danger_corpus/).

The tuned part is what the lists were chosen on: it must meet the aim (≥ 95 % recall, ≤ 5 % false
alerts per language). The held-out part was never used to choose phrases; its floors are below the
measured figures (bench/danger_signals.py prints both) and catch a change that makes the lists worse
on sentences they were not written for.
"""

from __future__ import annotations

import pytest

from conversations.child_protection import phrases_for
from conversations.child_protection.signals import END, Slot, curated, find, tokens
from tests.conversations.danger_corpus import LANGUAGES, load, score


def detect(text: str) -> str | None:
    match = find(text, phrases_for(None))
    return None if match is None else f"{match.words} [{match.phrase.text}]"


def _report(s) -> str:
    return "\n".join([*(f"missed: {x.text}" for x in s.missed), *(f"raised: {x.text} ← {hit}" for x, hit in s.raised)])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_tuned_part_meets_the_aim(language):
    s = score([x for x in load("tuned") if x.language == language], detect)[language]
    assert s.alerts >= 40 and s.everyday >= 40
    assert s.recall >= 0.95 and s.false_rate <= 0.05, _report(s)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_held_out_part_stays_above_its_floor(language):
    s = score([x for x in load("held_out") if x.language == language], detect)[language]
    assert s.alerts >= 20 and s.everyday >= 20
    assert s.recall >= 0.75 and s.false_rate <= 0.10, _report(s)


def test_every_class_a_phrase_names_is_defined_in_its_language():
    lists = curated()
    defined = {slot for slot, members in lists.classes if members}
    used = {t for p in (*lists.phrases, *lists.harmless) for t in p.terms if isinstance(t, Slot) and t != END}
    assert used - defined == set()


@pytest.mark.parametrize(("text", "shown"), [
    ("Mein Papa HAUT mich!!", "HAUT mich"),
    ("der vater tritt den kleinen", "tritt den kleinen"),
    ("ich halt das zuhause nich mehr aus", "halt das zuhause nich mehr aus"),
    ("babam beni dövüyor", "dövüyor"),
    ("тато бʼє мого брата", "бʼє"),
    ("ICH KANN NICHT MEHR!!!", "KANN NICHT MEHR"),
    ("Ich will mich um-bringen.", "um-bringen"),
])
def test_a_match_names_the_words_as_the_person_wrote_them(text, shown):
    assert find(text, phrases_for(None)).words == shown


def test_words_keep_their_place_in_the_text_through_marks_apostrophes_and_hyphens():
    text = "أبي يضرِبُني، Stief-Vater b'et!"
    assert [(t.word, text[t.start:t.end]) for t in tokens(text)] == [
        ("ابي", "أبي"), ("يضربني", "يضرِبُني"), ("stiefvater", "Stief-Vater"), ("bet", "b'et")]
    assert [t.last_in_sentence for t in tokens("Ich habe Angst. Er kommt")] == [False, False, True, False, True]


def test_harmless_phrases_take_their_words_out_but_not_the_rest_of_the_message():
    lists = phrases_for(None)
    assert find("ich schlage vor wir treffen uns am montag", lists) is None
    assert find("mein mann schlägt mich vor den kindern", lists).words == "schlägt mich"
    assert find("kein notfall, aber er schlägt die kinder", lists).words == "schlägt die kinder"
