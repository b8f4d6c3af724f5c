"""Engine, sessions and migrations.

SQLite by default (zero set-up), PostgreSQL by URL. The schema is owned by Alembic: the program
refuses to run against a database that is not at the newest revision and says how to fix it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from storage import sqlite_writes
from storage.errors import Explained
from storage.locks import KEEPALIVE
from storage.private_files import create_private

if TYPE_CHECKING:  # alembic is imported where it is used: `wegbegleiter --help` starts without it
    from alembic.config import Config

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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30,
                                                  **sqlite_writes.CONNECT_ARGS})
        sqlite_writes.take_turns(engine)  # threads wait for each other's commit, not in SQLite's sleeps

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
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (``wegbegleiter init``)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "heads")


def code_heads() -> set[str] | None:
    """The newest revisions of the code's migrations, read from the files without importing alembic or them
    (a light command starts about 0.2 s sooner); None when a file is not in the plain form alembic writes."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id in ("revision", "down_revision", "depends_on")):
                try:
                    found[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    return None
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str) or found.get("depends_on") is not None:
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(down)
        elif down is not None:
            return None
    return revisions - parents


def pending_revisions(engine: Engine) -> set[str]:
    heads = code_heads()
    if heads is not None:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return heads
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        return heads - current
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

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
