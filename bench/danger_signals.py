"""The child-protection screen on the labelled corpus: recall and false alerts per language, and time.

    .venv/bin/python bench/danger_signals.py            # the table, tuned and held-out part
    .venv/bin/python bench/danger_signals.py --misses   # also list what the tuned part misses / raises
    .venv/bin/python bench/danger_signals.py --misses --held-out   # the same for the held-out part

Time: every corpus sentence screened against the curated lists (compiled once, as in the bot), the
matcher's caches cleared before each round so the figure is that of a first-seen message; and the
worst case a long message gives (4,096 characters, Telegram's limit, of everyday words).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conversations import child_protection as cp  # noqa: E402
from conversations.child_protection import signals  # noqa: E402
from tests.conversations.danger_corpus import LANGUAGES, PARTS, load, score  # noqa: E402


def detect(text: str) -> str | None:
    match = cp.find(text, cp.phrases_for(None))
    return None if match is None else f"{match.words} [{match.phrase.text}]"


def per_message_ms(texts: list[str], rounds: int) -> float:
    compiled = cp.phrases_for(None)
    best = float("inf")
    for _ in range(rounds):
        signals.clear_caches()
        start = time.perf_counter()
        for text in texts:
            cp.find(text, compiled)
        best = min(best, (time.perf_counter() - start) / len(texts))
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", action="store_true", help="list missed and falsely raised sentences")
    parser.add_argument("--held-out", action="store_true", help="list them for the held-out part")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    print(f"{'language':<10} {'part':<9} {'recall':>14} {'false alerts':>14}")
    for language in LANGUAGES:
        for part in PARTS:
            s = score([x for x in load(part) if x.language == language], detect)[language]
            print(f"{language:<10} {part:<9} {s.caught:>3}/{s.alerts:<3} {s.recall:6.1%}"
                  f" {s.false_alerts:>3}/{s.everyday:<3} {s.false_rate:6.1%}")
    for part in PARTS:
        scores = score(load(part), detect)
        alerts = sum(s.alerts for s in scores.values())
        caught = sum(s.caught for s in scores.values())
        everyday = sum(s.everyday for s in scores.values())
        false = sum(s.false_alerts for s in scores.values())
        print(f"{'all':<10} {part:<9} {caught:>3}/{alerts:<3} {caught / alerts:6.1%}"
              f" {false:>3}/{everyday:<3} {false / everyday:6.1%}")

    if args.misses:
        part = "held_out" if args.held_out else "tuned"
        for language, s in score(load(part), detect).items():
            for sentence in s.missed:
                print(f"MISSED  {language:<9} {sentence.category:<12} {sentence.text}")
            for sentence, hit in s.raised:
                print(f"RAISED  {language:<9} {hit!r:<24} {sentence.text}")

    texts = [x.text for part in PARTS for x in load(part)]
    long_text = " ".join(x.text for x in load("tuned") if not x.alert)[:4096]
    load_avg = os.getloadavg()[0]
    print(f"\n{len(texts)} corpus messages: {per_message_ms(texts, args.rounds):.3f} ms per message "
          f"(best of {args.rounds}, caches cleared; load {load_avg:.1f})")
    print(f"a 4,096-character everyday message: {per_message_ms([long_text], args.rounds):.1f} ms")


if __name__ == "__main__":
    main()
