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


def start(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for task in REGISTRY.tasks.values():
        scheduler.add_job(asyncio.to_thread, "interval", args=[run_task, task, services], seconds=task.every,
                          id=task.name, max_instances=1, coalesce=True, next_run_time=None)
        scheduler.get_job(task.name).modify(next_run_time=services.clock.now())  # type: ignore[union-attr]
    scheduler.start()
    return scheduler
