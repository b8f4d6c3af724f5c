"""The long random run of tests/conversations/test_fuzz.py: 20,000 turns and more, with counts.

    .venv/bin/python bench/dialog_fuzz.py [--turns 20000] [--seed 1] [--world 400]

Several linked people (two families, Fachkräfte, the complaint office, the Leitung) do random things
(tests/support/fuzz.py: text in every script, control characters, 10,000-character texts, numbers in any
script, every command word, their own options by button, number and words, forged and other people's
buttons, files, time jumps with the periodic tasks run). After every turn: nothing escaped the engine and
no turn failed (an apology is a bug caught), a reply came, a turn offered at most one list and only at its
end, each open flow is open once (and at most ten), no family read the other's data. The world
is built afresh every ``--world`` acts (the months run out: appointments end, questionnaires close), on
SQLite in a temporary folder or the database in DATABASE_URL (emptied: never point it at real data).
Prints the counts and every problem found; exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support is not installed

from bot.app import build  # noqa: E402
from conversations.clock import ManualClock, berlin  # noqa: E402
from conversations.settings import Settings  # noqa: E402
from storage.models import Base  # noqa: E402
from tests.support.fuzz import World  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--world", type=int, default=400, help="acts before the world is built afresh")
    args = parser.parse_args()

    settings = Settings(data_dir=tempfile.mkdtemp(prefix="wb-fuzz-"), database_url=os.environ.get("DATABASE_URL", ""),
                        secret_key="bench-secret-key-that-is-long-enough-0123456789", log_level="ERROR")
    clock = ManualClock(berlin(2027, 3, 1, 9, 0))
    app = build(settings, clock, init=True)
    logging.getLogger().setLevel(logging.CRITICAL)  # the apologies' tracebacks are counted, not printed
    rng = random.Random(args.seed)
    totals: Counter[str] = Counter()
    problems: list[str] = []
    started = time.perf_counter()
    while totals["turns"] < args.turns:
        with app.db.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        clock.set(berlin(2027, 3, 1, 9, 0))
        world = World(app)
        world.build(settings)
        totals["worlds"] += 1
        for _ in range(args.world):
            act = world.random_act(rng)
            totals[f"acts: {act.kind}"] += 1
            world.perform(act)
            if world.problems:
                problems += [f"world {totals['worlds']}: {p}" for p in world.problems]
                world.problems.clear()
            if world.counts["turns"] + totals["turns"] >= args.turns:
                break
        totals.update(world.counts)
    seconds = time.perf_counter() - started
    print(f"{totals['turns']} turns ({totals['acts']} acts) in {seconds:.0f} s, {totals['turns'] / seconds:.0f} turns/s, "
          f"seed {args.seed}, {'PostgreSQL' if settings.database_url else 'SQLite'}")
    totals["apologies"] += 0  # shown even when none: a turn that failed and was apologised for
    for key in sorted(totals):
        print(f"  {key}: {totals[key]}")
    print(f"  problems: {len(problems)}")
    for problem in problems[:50]:
        print("   ", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
