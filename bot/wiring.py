"""Wiring: settings → database → services → engine, shared by the CLI, the channels and the tests.

The engine is built when first used: importing it registers every job (all flows, about 0.3 s), which a
command that only reads or writes rows does without (bench/README.md, "Start-up of the command line"). Import
the app from :mod:`bot.app`, which registers the jobs first, in their order; only the command line imports
this module directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import logs
from bot.config import key_file, secret_key
from conversations import address
from conversations.clock import Clock, SystemClock
from conversations.context import Services
from conversations.settings import Settings
from storage import crypto, keys
from storage.db import (
    DatabaseNotReady,
    database_exists,
    ensure_migrated,
    make_engine,
    migrate,
    session_factory,
)
from storage.private_files import create_private

if TYPE_CHECKING:
    from sqlalchemy import Engine as DbEngine

    from conversations.engine import Engine

LOG_FORMAT = logs.TEXT_FORMAT


@contextmanager
def logging_to_file(settings: Settings) -> Iterator[Path]:
    """Log lines (and Python's warnings) go to ``<data dir>/wegbegleiter.log`` meanwhile, not to the terminal:
    the terminal chat shows the conversation and nothing else."""
    path = Path(settings.data_dir) / "wegbegleiter.log"
    create_private(path)  # names may appear in a log line
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    before = root.handlers[:]
    root.handlers[:] = [handler]
    logging.captureWarnings(True)
    try:
        yield path
    finally:
        logging.captureWarnings(False)
        root.handlers[:] = before
        handler.close()


@dataclass
class RunStatus:
    """What `/readyz` and `/metrics` report about the running service (set by :func:`bot.runner.serve`)."""

    channels: list = field(default_factory=list)  # type: ignore[type-arg]  (each may say ``connected``)
    starting: bool = False  # channels are still connecting (start-up waits for an unreachable network)


class BuiltOnFirstUse:
    """``App.engine``: the one given (tests give their own), else built from the app's services when first used."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, app: App | None, owner: type | None = None) -> Any:
        if app is None:
            return None  # the dataclass's default: nothing given
        if getattr(app, self.slot, None) is None:
            from conversations.engine import Engine

            setattr(app, self.slot, Engine(app.services))
        return getattr(app, self.slot)

    def __set__(self, app: App, engine: Engine | None) -> None:
        setattr(app, self.slot, engine)


@dataclass
class App:
    settings: Settings
    db: DbEngine
    services: Services
    engine: Engine = BuiltOnFirstUse()  # type: ignore[assignment]
    status: RunStatus = field(default_factory=RunStatus)

    @property
    def sessions(self):  # type: ignore[no-untyped-def]
        return self.services.sessions


def build(settings: Settings, clock: Clock | None = None, *, init: bool = False) -> App:
    """Connect to the database (migrating it with ``init``), refusing an unmigrated one."""
    logs.configure(settings.log_level, settings.log_format)
    url = settings.resolved_database_url
    if not init and not database_exists(url):  # a read-only command leaves no file (and no key) behind
        raise DatabaseNotReady("there is no database yet: run `wegbegleiter init` (or `wegbegleiter demo` to try "
                               "Wegbegleiter with demo data)")
    secret = secret_key(settings, create=init)
    crypto.configure(secret)
    address.configure(settings.youth_age_limit)
    db = make_engine(url)
    # Before migrations (which encrypt existing rows) and before anything else is written.
    keys.verify(db, secret, source="WEGBEGLEITER_SECRET_KEY" if settings.secret_key else str(key_file(settings)))
    if init:
        migrate(db)
    else:
        ensure_migrated(db)
    clock = clock or SystemClock()
    keys.store(db, secret, clock.now())
    services = Services(sessions=session_factory(db), clock=clock, settings=settings)
    return App(settings=settings, db=db, services=services)
