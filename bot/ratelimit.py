"""Pacing delivery: a bucket per chat, and a window for a whole network (real time, not the domain clock:
this is mechanics)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_take(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait_time(self) -> float:
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class ArrivalWindow:
    """At most ``count`` sends in any ``window`` seconds as the receiving server counts them.

    The server counts a message when its request arrives: somewhere between the moment the send starts
    and the moment its answer is back, and network and event loop move that moment differently for every
    send. Counting starts (a sliding window of starts) therefore lets sends that left a second apart
    arrive closer together, and a server that counts strictly in every second (Telegram: 30) answers
    429. Here a send holds its place from its start until ``window`` after its answer: at whatever moment
    the server counted it, the server never sees more than ``count`` in any ``window`` (proof: of the sends
    it counted in one window, the last to start found every other one under way or answered less than a
    window before). The price is one round trip per window: ``count`` per (window + round trip), so
    the full ``count`` and no margin below it. ``spacing`` spreads a window's starts (a fresh burst does
    not leave all at once); keep it well below window/count: late wake-ups along it add up, and it must
    not become what limits the rate.
    """

    def __init__(self, count: int, window: float = 1.0, spacing: float = 0.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self.window = window
        self.spacing = spacing
        self.rate = count / window
        self.now = now
        self.under_way = 0
        self.answered: deque[float] = deque()  # when answers came back, oldest first
        self.last_start = -float("inf")
        self.not_before = -float("inf")  # the network asked us to wait (429 retry_after)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._turn = asyncio.Lock()  # waiting senders go in the order they came
        self._freed = asyncio.Event()  # an answer came back (when the places are all under way)

    def resize(self, count: int) -> None:
        """From now on at most ``count`` per window (another instance started or stopped sending beside this
        one). Sends already under way keep their places; a smaller count lets new ones start only once enough
        of those have been answered for a window."""
        self.count = count
        self.rate = count / self.window

    def wait_time(self) -> float | None:
        """Seconds until a send may start; None when only an answer to a send under way can free a place."""
        now = self.now()
        while self.answered and now - self.answered[0] >= self.window:
            self.answered.popleft()
        if self.under_way >= self.count:
            return None
        wait = max(self.not_before, self.last_start + self.spacing) - now
        surplus = self.under_way + len(self.answered) - self.count + 1  # places to be freed first
        if surplus > 0:
            wait = max(wait, self.answered[surplus - 1] + self.window - now)
        return max(0.0, wait)

    def started(self) -> None:
        self.under_way += 1
        self.last_start = self.now()

    def answered_now(self) -> None:
        self.under_way -= 1
        self.answered.append(self.now())
        self._freed.set()

    def pause(self, seconds: float) -> None:
        """The network said "too many": no send starts for ``seconds``."""
        self.not_before = max(self.not_before, self.now() + seconds)

    @asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Wait for a place, hold it while the body sends, and from its answer on for one window."""
        if self._loop is not asyncio.get_running_loop():  # (a sender may outlive an event loop)
            self._loop, self._turn, self._freed = asyncio.get_running_loop(), asyncio.Lock(), asyncio.Event()
        async with self._turn:
            while (wait := self.wait_time()) != 0:
                if wait is None:
                    self._freed.clear()
                    await self._freed.wait()
                else:
                    await asyncio.sleep(wait)
            self.started()
        try:
            yield
        finally:
            self.answered_now()
