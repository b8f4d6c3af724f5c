"""Property: whatever several linked people do, in any order, at any time, every turn is answered, nothing
escapes, a turn offers at most one list (at its end), and no family reads the other family's data.

Hypothesis draws the runs (tests/support/fuzz.py: text in every script, control characters, 10,000-character
texts, numbers in any script, every command word, their own options by button, number and words, forged and
other people's buttons, files, and time jumps with the periodic tasks run). Derandomized with a small fixed
budget so CI stays quick; the long run (20,000 turns and more) is bench/dialog_fuzz.py.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.clock import berlin
from tests.conftest import empty_database
from tests.support.fuzz import World

RUNS = 6
ACTS = 30


@settings(max_examples=RUNS, derandomize=True, deadline=None, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False), length=st.integers(min_value=5, max_value=ACTS))
def test_random_conversations_keep_every_promise(app, clock, settings, database_url, rng: random.Random,
                                                  length: int):
    empty_database(database_url)
    clock.set(berlin(2027, 3, 1, 9, 0))
    world = World(app)
    world.build(settings)
    acts = []
    for _ in range(length):
        act = world.random_act(rng)
        acts.append(str(act))
        world.perform(act)
        assert world.problems == [], "\n".join(["after:", *acts])
