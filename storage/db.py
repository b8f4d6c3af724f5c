"""Engine, sessions and migrations.

SQLite by default (zero set-up), PostgreSQL by URL. The schema is owned by Alembic: the program
refuses to run against a database that is not at the newest revision and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import Explained
from storage.locks import KEEPALIVE
from storage.private_files import create_private

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseNotReady(Explained):
    """The database is missing tables or is behind the code's migrations."""


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def database_exists(url: str) -> bool:
    """False only for a SQLite file that is not there yet (asking creates nothing)."""
    path = sqlite_file(url)
    return path is None or path.exists()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            # Social data: the file is the owner's alone from its first byte. SQLite gives its -wal and
            # -shm files the mode of the database file, so they are private too.
            create_private(path)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets channel threads read while the outbox writes; foreign keys are off by default.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # Keepalives: a machine that vanishes (not just a process that dies) frees its advisory locks
    # (storage.locks) within about 25 s, so another instance takes over its role.
    return create_engine(url, pool_pre_ping=True, connect_args=KEEPALIVE)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (``wegbegleiter init``)."""
    command.upgrade(alembic_config(engine), "heads")


def pending_revisions(engine: Engine) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return set(script.get_heads()) - current


NOT_READY = "the database is not set up or is older than this version: run `wegbegleiter init`"


def ensure_migrated(engine: Engine) -> None:
    if pending_revisions(engine):
        raise DatabaseNotReady(NOT_READY)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory.begin() as session:
        yield session
