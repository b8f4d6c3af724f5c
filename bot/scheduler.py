"""Periodic work: APScheduler triggers the scans that jobs registered (due reminders, deadlines, ...).

The work itself is stored as rows with unique keys, so a scan that runs twice, late, or on two
instances creates nothing twice. With several instances on one PostgreSQL a scan runs in one of them at
a time (an advisory lock per task; an instance that finds it taken skips that round), so they neither
wait for each other's rows nor trip over each other's unique keys. Tests call :func:`run_all` with the
injectable clock instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from conversations.context import Services
from conversations.registry import REGISTRY, PeriodicTask
from storage.locks import exclusive

log = logging.getLogger(__name__)


def run_task(task: PeriodicTask, services: Services) -> None:
    from bot.metrics import observe_scan

    started, failed = time.perf_counter(), False
    try:
        with exclusive(services.sessions.kw["bind"], task.name) as ours:
            if ours:
                task.run(services)
            else:
                log.debug("periodic task %s runs in another instance right now", task.name)
    except Exception:  # one failing scan must not stop the others; it runs again next time
        failed = True
        log.exception("periodic task %s failed", task.name)
    finally:
        observe_scan(task.name, time.perf_counter() - started, failed=failed)


def run_all(services: Services) -> None:
    for task in REGISTRY.tasks.values():
        run_task(task, services)


class Scans:
    """The running scans: APScheduler starts each at once and then every ``task.every`` seconds, never beside
    itself, rounds missed meanwhile made up by one (``max_instances=1``, ``coalesce``). The rounds take turns in
    one thread of their own: all are due at start, and in the default pool they took every thread it has (six on
    two cores), so a chat's turn waited behind them, and each of those threads kept memory of its own (1.4 MB of
    an idle bot, bench/footprint.py). :meth:`shutdown` starts no further round; a round under way finishes in
    its thread (its transaction commits or rolls back as a whole)."""

    def __init__(self, services: Services) -> None:
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scans")
        self.stopping = False
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        now = datetime.now(UTC)  # (the scheduler's time is the machine's: this is mechanics, not the domain clock)
        for task in REGISTRY.tasks.values():
            self.scheduler.add_job(self._round, "interval", args=[task, services], seconds=task.every, id=task.name,
                                   max_instances=1, coalesce=True, next_run_time=now)
        self.scheduler.start()

    async def _round(self, task: PeriodicTask, services: Services) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self.thread, run_task, task, services)
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            log.debug("periodic task %s not started: the bot stops", task.name)  # (it was waiting its turn)

    def shutdown(self) -> None:
        self.stopping = True
        self.scheduler.shutdown(wait=False)
        self.thread.shutdown(wait=False, cancel_futures=True)


def start(services: Services) -> Scans:
    """Every registered scan at once, then each at its own interval (in a running event loop)."""
    return Scans(services)
