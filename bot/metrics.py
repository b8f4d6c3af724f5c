"""Prometheus metrics for `/metrics` (prometheus-client): what an operator watches.

Two kinds. Counters and histograms of this process (turns and their latency, deliveries by result,
scan durations) live in :data:`REGISTRY`; they count what this instance did since it started. Gauges
read from the database at scrape time (:class:`DatabaseCollector`: outbox depth and oldest age,
unacknowledged alerts and escalations) are the same in every instance of one installation: aggregate
them with ``max``, not ``sum``.

Nothing here carries personal data: only channels, outcomes, task names and counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, or_, select

if TYPE_CHECKING:
    from bot.app import App
    from bot.channels.base import OutgoingMessage, Transport
    from conversations.engine import Engine, TurnResult
    from conversations.messages import Incoming

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # memory, CPU, open files of this process
PlatformCollector(registry=REGISTRY)

TURNS = Counter("wegbegleiter_turns", "Turns (one inbound chat event each) by channel and outcome: answered, "
                "duplicate (a redelivered event), error (the database was away; the channel hands it in again).",
                ["channel", "outcome"], registry=REGISTRY)
TURN_SECONDS = Histogram("wegbegleiter_turn_seconds", "Time of one turn (engine and its transaction), by channel.",
                         ["channel"], registry=REGISTRY,
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
DELIVERIES = Counter("wegbegleiter_deliveries", "Messages handed to a network, by channel and result: sent, retry "
                     "(a temporary failure, tried again), rate_limited, blocked (the person blocked the bot or left), "
                     "failed (refused for good), error (a bug in the transport; tried again).",
                     ["channel", "result"], registry=REGISTRY)
DELIVERY_SECONDS = Histogram("wegbegleiter_delivery_seconds", "Time one send to a network took, by channel.",
                             ["channel"], registry=REGISTRY,
                             buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SCAN_SECONDS = Histogram("wegbegleiter_scan_seconds", "Duration of one periodic scan, by task.", ["task"],
                         registry=REGISTRY, buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
SCAN_FAILURES = Counter("wegbegleiter_scan_failures", "Periodic scans that failed (they run again next time).",
                        ["task"], registry=REGISTRY)
CHANNEL_CONNECTED = Gauge("wegbegleiter_channel_connected",
                          "1 while the channel is connected to its network, 0 while it is not (yet).",
                          ["channel"], registry=REGISTRY)


def observe_scan(task: str, seconds: float, *, failed: bool) -> None:
    SCAN_SECONDS.labels(task).observe(seconds)
    if failed:
        SCAN_FAILURES.labels(task).inc()


class MeteredEngine:
    """The engine with each turn counted and timed; everything else is the engine's own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def handle(self, incoming: Incoming) -> TurnResult:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = self.engine.handle(incoming)
            outcome = "duplicate" if result.duplicate else "answered"
            return result
        finally:
            TURN_SECONDS.labels(incoming.channel).observe(time.perf_counter() - started)
            TURNS.labels(incoming.channel, outcome).inc()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def meter_engine(app: App) -> None:
    """Count the turns of ``app`` (the channels look ``app.engine`` up at each event)."""
    if not isinstance(app.engine, MeteredEngine):
        app.engine = MeteredEngine(app.engine)  # type: ignore[assignment]


class MeteredTransport:
    """A channel's transport with every send counted by its result (the outbox maps the exceptions)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.channel = transport.channel

    @property
    def limits(self):  # type: ignore[no-untyped-def]
        return self.transport.limits

    async def send(self, message: OutgoingMessage) -> str | None:
        from bot.channels.base import PermanentFailure, RecipientGone, RetryLater, TemporaryFailure

        started = time.perf_counter()
        result = "error"
        try:
            external_id = await self.transport.send(message)
            result = "sent"
            return external_id
        except RetryLater:
            result = "rate_limited"
            raise
        except TemporaryFailure:
            result = "retry"
            raise
        except RecipientGone:
            result = "blocked"
            raise
        except PermanentFailure:
            result = "failed"
            raise
        finally:
            DELIVERY_SECONDS.labels(self.channel).observe(time.perf_counter() - started)
            DELIVERIES.labels(self.channel, result).inc()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class DatabaseCollector(Collector):
    """Gauges read from the database at each scrape (shared by all instances of one installation)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from storage.models import Escalation, OutboxMessage, OutboxStatus

        now: datetime = self.app.services.clock.now()
        depth = GaugeMetricFamily("wegbegleiter_outbox_depth",
                                  "Messages waiting for delivery (due now, being sent, or waiting for a retry), "
                                  "by channel.", labels=["channel"])
        oldest = GaugeMetricFamily("wegbegleiter_outbox_oldest_age_seconds",
                                   "How long the longest-waiting message has been due without being delivered, "
                                   "by channel (0 when nothing waits).", labels=["channel"])
        deferred = GaugeMetricFamily("wegbegleiter_outbox_deferred",
                                     "Messages that wait on purpose (quiet hours, a reminder's time), by channel.",
                                     labels=["channel"])
        failed = GaugeMetricFamily("wegbegleiter_outbox_failed",
                                   "Messages given up on (refused or too many failures), by channel.",
                                   labels=["channel"])
        open_escalations = GaugeMetricFamily(
            "wegbegleiter_unacknowledged_escalations",
            "Escalations nobody has acknowledged yet, by kind (child_protection: alerts; attendance: three "
            "appointments without participation).", labels=["kind"])
        overdue = GaugeMetricFamily("wegbegleiter_overdue_escalations",
                                    "Unacknowledged escalations past their reminder time, by kind.", labels=["kind"])
        waiting = OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
        is_due = or_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.attempts > 0,
                     OutboxMessage.next_attempt_at <= now)
        # A message never tried became due at its next_attempt_at (after quiet hours, say); a retried one
        # has waited since it was written.
        due_since = case((OutboxMessage.attempts == 0, OutboxMessage.next_attempt_at), else_=OutboxMessage.created_at)
        with self.app.sessions() as session:
            rows = session.execute(
                select(OutboxMessage.channel, func.count(), func.min(due_since))
                .where(waiting, is_due).group_by(OutboxMessage.channel)).all()
            later = session.execute(
                select(OutboxMessage.channel, func.count())
                .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts == 0,
                       OutboxMessage.next_attempt_at > now).group_by(OutboxMessage.channel)).all()
            gave_up = session.execute(
                select(OutboxMessage.channel, func.count())
                .where(OutboxMessage.status == OutboxStatus.FAILED).group_by(OutboxMessage.channel)).all()
            escalations = session.execute(
                select(Escalation.kind, func.count(), func.count(case((Escalation.due_at <= now, 1))))
                .where(Escalation.acknowledged_at.is_(None)).group_by(Escalation.kind)).all()
        channels = {c for c in self._channels()} | {r[0] for r in rows} | {r[0] for r in later}
        by_channel = {channel: (count, since) for channel, count, since in rows}
        for channel in sorted(channels):
            count, since = by_channel.get(channel, (0, None))
            depth.add_metric([channel], count)
            oldest.add_metric([channel], max(0.0, (now - since).total_seconds()) if since is not None else 0.0)
        for channel, count in later:
            deferred.add_metric([channel], count)
        for channel, count in gave_up:
            failed.add_metric([channel], count)
        kinds = {"attendance": (0, 0), "child_protection": (0, 0)}
        kinds.update({kind: (count, late) for kind, count, late in escalations})
        for kind, (count, late) in sorted(kinds.items()):
            open_escalations.add_metric([kind], count)
            overdue.add_metric([kind], late)
        yield from (depth, oldest, deferred, failed, open_escalations, overdue)

    def _channels(self) -> list[str]:
        return [channel.name for channel in self.app.status.channels]
