"""Periodic work: the scans that jobs registered (due reminders, deadlines, ...), each every ``every`` seconds.

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
from concurrent.futures import Executor, ThreadPoolExecutor

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


async def run_periodically(task: PeriodicTask, services: Services, thread: Executor) -> None:
    """``task`` now and then every ``task.every`` seconds, counted from the start of the first round, in
    ``thread``. A round never overlaps the one before; rounds missed meanwhile (a scan that took longer than its
    interval, or waited for another) are made up by one round at once, not several (what APScheduler did for us
    with ``coalesce`` and ``max_instances=1``; its import cost a running bot about 1 MB, bench/footprint.py)."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    while True:
        await loop.run_in_executor(thread, run_task, task, services)
        due += task.every
        if due < loop.time():  # behind: one round now, the next ones in step from here
            due = loop.time()
        await asyncio.sleep(due - loop.time())


class Scans:
    """The running scans, one asyncio task each, taking turns in one thread of their own. All are due at start:
    in the default pool they took every thread it has (six on two cores), so a chat's turn waited behind them,
    and each of those threads kept memory of its own (1.4 MB of an idle bot, bench/footprint.py).
    :meth:`shutdown` stops them from starting another round; a round under way finishes in its thread (its
    transaction commits or rolls back as a whole)."""

    def __init__(self, services: Services) -> None:
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scans")
        self.tasks = [asyncio.create_task(run_periodically(task, services, self.thread), name=f"scan {task.name}")
                      for task in REGISTRY.tasks.values()]

    def shutdown(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.thread.shutdown(wait=False, cancel_futures=True)


def start(services: Services) -> Scans:
    """Every registered scan at once, then each at its own interval (in a running event loop)."""
    return Scans(services)
