"""Token buckets for pacing delivery (real time, not the domain clock: this is mechanics)."""

from __future__ import annotations

import time
from collections import deque


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


class SlidingWindow:
    """At most ``count`` starts in any ``window`` seconds, each at least ``spacing`` after the one before.

    Telegram counts its 30 messages per second strictly in every second, so a token bucket has to run
    below the limit (its burst could exceed it in some second); this paces to the limit itself. The
    spacing keeps a window's sends from leaving all at once (they would arrive bunched).
    """

    def __init__(self, count: int, window: float = 1.0, spacing: float = 0.0) -> None:
        self.count = count
        self.window = window
        self.spacing = spacing
        self.rate = count / window
        self.starts: deque[float] = deque()

    def wait_time(self) -> float:
        now = time.monotonic()
        while self.starts and now - self.starts[0] >= self.window:
            self.starts.popleft()
        wait = self.starts[0] + self.window - now if len(self.starts) >= self.count else 0.0
        if self.starts:
            wait = max(wait, self.starts[-1] + self.spacing - now)
        return max(0.0, wait)

    def try_take(self) -> bool:
        if self.wait_time() > 0:
            return False
        self.starts.append(time.monotonic())
        return True
