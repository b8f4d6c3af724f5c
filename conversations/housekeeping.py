"""Keeping only what is needed: processed event ids are forgotten after two weeks (no network redelivers
that late), failed invite attempts after a day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from conversations.context import Services
from conversations.registry import REGISTRY, PeriodicTask
from storage.models import InviteAttempt, ProcessedEvent

EVENT_MEMORY = timedelta(days=14)


def forget_old_events(services: Services) -> None:
    now = services.clock.now()
    with services.sessions.begin() as session:
        session.execute(delete(ProcessedEvent).where(ProcessedEvent.at < now - EVENT_MEMORY))
        session.execute(delete(InviteAttempt).where(InviteAttempt.at < now - timedelta(days=1)))


REGISTRY.tasks["housekeeping"] = PeriodicTask("housekeeping", 3600, forget_old_events)
