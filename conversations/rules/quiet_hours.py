"""Quiet hours: routine messages wait until the morning (default 20:00–08:00 Europe/Berlin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from conversations.clock import BERLIN


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        begin, _sep, finish = text.replace(" ", "").partition("-")
        return cls(time.fromisoformat(begin), time.fromisoformat(finish))

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(BERLIN).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` itself if it is outside quiet hours, else the end of the quiet period (aware UTC)."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(BERLIN)
        end = datetime.combine(local.date(), self.end, tzinfo=BERLIN)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=BERLIN)
        return end.astimezone(moment.tzinfo)
