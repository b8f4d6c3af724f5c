"""Fixtures: one migrated database per test session (SQLite, or PostgreSQL when DATABASE_URL is set),
emptied between tests; an app on a manual clock; the SCENARIOS.md cast with fresh invite codes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import demo
from bot.app import App, build
from conversations.clock import ManualClock, berlin
from conversations.settings import Settings
from storage.db import make_engine, migrate
from storage.models import Base

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db')}/test.db"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    engine.dispose()
    yield url


def empty_database(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=str(tmp_path / "data"), database_url=database_url, secret_key=TEST_SECRET,
                    log_level="WARNING")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(berlin(2027, 3, 1, 9, 0))  # Monday, 1 March 2027, 09:00 in Magdeburg


@pytest.fixture
def app(settings: Settings, clock: ManualClock, database_url: str) -> Iterator[App]:
    empty_database(database_url)
    application = build(settings, clock)
    yield application
    application.db.dispose()


@pytest.fixture
def codes(app: App) -> dict[str, str]:
    """The SCENARIOS.md cast, with one fresh invite code per person, keyed by first name."""
    with app.sessions.begin() as session:
        demo.seed(session, app.services.clock, app.settings.invite_ttl_days)
        invites = demo.fresh_invites(session, app.services.clock, app.settings.invite_ttl_days)
    return {invite.who.split()[0].replace("Dr.", "Schulz"): invite.code for invite in invites}


@pytest.fixture
def bot(app: App):  # type: ignore[no-untyped-def]
    from tests.support.harness import Bot

    return Bot(app)


def with_settings(app: App, **changes: object) -> App:
    """The same app with some settings changed (e.g. a shorter invite lifetime)."""
    settings = replace(app.settings, **changes)
    services = replace(app.services, settings=settings)
    from conversations.engine import Engine

    return App(settings=settings, db=app.db, services=services, engine=Engine(services))
