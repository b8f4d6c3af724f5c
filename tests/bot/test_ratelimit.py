"""Pacing a network to its limit as its server counts: never over it, and not below it either.

Time here is a hand-moved number (the window's ``now``), so nothing sleeps; the burst against the
Telegram stand-in in real time is bench/telegram_burst.py."""

from __future__ import annotations

import heapq
import random

from bot.channels.base import Limits, RetryLater
from bot.outbox import ChannelSender
from bot.ratelimit import ArrivalWindow
from conversations.messages import Reply
from conversations.outbox import enqueue
from tests.support.harness import CollectingTransport


class Time:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_send_holds_its_place_from_its_start_until_a_window_after_its_answer():
    time = Time()
    window = ArrivalWindow(2, now=time)
    window.started()
    window.started()
    assert window.wait_time() is None  # both places under way: only an answer can free one
    time.now = 0.3
    window.answered_now()
    assert window.wait_time() == 1.0  # the server may have counted it just now
    time.now = 1.3
    assert window.wait_time() == 0.0


def test_a_window_made_smaller_lets_no_send_start_until_the_sends_before_fall_below_the_new_count():
    time = Time()
    window = ArrivalWindow(4, now=time)
    for _ in range(3):
        window.started()
        window.answered_now()
    window.resize(2)  # another instance started sending beside this one
    assert window.rate == 2.0
    assert window.wait_time() == 1.0  # two of the three must leave the window first
    time.now = 1.0
    assert window.wait_time() == 0.0


def test_after_a_too_many_answer_no_send_starts_until_the_wait_is_over():
    time = Time()
    window = ArrivalWindow(30, now=time)
    window.pause(1.0)
    time.now = 0.4
    assert window.wait_time() == 0.6


def deliver_burst(count: int, messages: int, round_trip: random.Random) -> tuple[list[float], float]:
    """Send ``messages`` through a window of ``count`` per second, each answered after a random round trip
    and counted by the server at a random moment within it; returns the server's moments and the end."""
    time = Time()
    window = ArrivalWindow(count, spacing=0.5 / count, now=time)
    answers: list[float] = []
    arrivals: list[float] = []
    while len(arrivals) < messages or answers:
        while len(arrivals) < messages and window.wait_time() == 0:
            window.started()
            trip = round_trip.choice((0.002, 0.005, 0.01, 0.03, 0.2))  # mostly quick, now and then slow
            arrivals.append(time.now + round_trip.random() * trip)
            heapq.heappush(answers, time.now + trip)
        wait = window.wait_time() if len(arrivals) < messages else None
        if answers and (wait is None or answers[0] <= time.now + wait):
            time.now = heapq.heappop(answers)
            window.answered_now()
        else:
            assert wait is not None
            time.now += wait
    return sorted(arrivals), time.now


def test_the_server_never_counts_more_than_the_limit_in_any_second_whatever_the_round_trips():
    arrivals, _end = deliver_burst(30, 3000, random.Random(16))
    assert all(later - first >= 1.0 for first, later in zip(arrivals, arrivals[30:], strict=False))


def test_a_burst_goes_out_at_the_limit_less_one_round_trip_per_second():
    arrivals, end = deliver_burst(30, 3000, random.Random(16))
    mean_trip = (0.002 + 0.005 + 0.01 + 0.03 + 0.2) / 5
    assert 3000 / end >= 30 / (1 + 2 * mean_trip)  # 28.5/s with these (mean 49 ms)


async def test_a_too_many_answer_holds_back_the_sends_already_claimed(app, clock):
    class Refusing(CollectingTransport):
        limits = Limits(per_second=30)

        async def send(self, message):  # type: ignore[no-untyped-def]
            raise RetryLater(1.0, "Too Many Requests: retry after 1")

    transport = Refusing()
    with app.sessions.begin() as session:
        enqueue(session, channel=transport.channel, address="a1", reply=Reply("Erinnerung"), now=clock.now(),
                language="de")
    sender = ChannelSender(app.sessions, clock, transport)
    assert await sender.deliver_due() == 1
    assert sender.overall is not None
    wait = sender.overall.wait_time()
    assert wait is not None and wait > 0.5  # not only the next claim waits: every send does
