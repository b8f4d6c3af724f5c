"""SQLite: the threads of one process take turns to write, waiting on a lock of ours instead of SQLite's.

SQLite lets one connection write at a time. A second writer gets "busy" and SQLite's busy handler puts it
to sleep, 1, 2, 5, 10 … 100 ms at a time, whether or not the first one finished meanwhile: under load
(a turn, an outbox claim and a sent mark at once) the writers slept while the database stood free, and a
Telegram button press took a fifth longer than its CPU. Here a writer waits on a :class:`threading.Lock`
that the one before it releases the moment it commits or rolls back, so the next one goes at once.

The lock is taken just before a transaction's first write (pysqlite begins the transaction there), so
readers never wait for it; WAL lets them read beside the writer. Other processes (a CLI command beside
the running bot) still meet SQLite's own lock and its busy timeout; PostgreSQL needs none of this.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event

WAIT_SECONDS = 30.0  # as SQLite's busy timeout: then "database is locked", as before
# The statements with which pysqlite (or SQLite itself, for a savepoint) opens a write transaction.
OPENS_WRITE = frozenset({"INSERT", "UPDATE", "DELETE", "REPLAC", "SAVEPO"})


class TakingTurnsToWrite(sqlite3.Connection):
    """A pysqlite connection that holds its engine's write lock from its first write to commit or rollback."""

    write_lock: threading.Lock  # the engine's, set when the connection is made
    holding = False

    def before_write(self) -> None:
        if self.holding or self.in_transaction:
            return  # already writing (or a transaction opened past us: SQLite's own lock guards it)
        if not self.write_lock.acquire(timeout=WAIT_SECONDS):
            raise sqlite3.OperationalError("database is locked")
        self.holding = True

    def _let_go(self) -> None:
        if self.holding:
            self.holding = False
            self.write_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go()

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or TakingTurnsCursor)


class TakingTurnsCursor(sqlite3.Cursor):
    """Takes its connection's write lock before a statement that opens a write transaction. (Here, not in a
    SQLAlchemy ``before_cursor_execute`` listener: any such listener sends every statement of every
    connection through SQLAlchemy's event dispatch; an engine turn took 1.3–1.5 ms with it, 1.2 ms this
    way, 1.1–1.2 ms with no lock at all.)"""

    connection: TakingTurnsToWrite

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        self._before(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
        self._before(sql)
        return super().executemany(sql, parameters)

    def _before(self, sql: str) -> None:
        if sql[:6].upper() in OPENS_WRITE:
            self.connection.before_write()


CONNECT_ARGS: dict[str, Any] = {"factory": TakingTurnsToWrite}


def take_turns(engine: Engine) -> None:
    """Give the engine's connections (made with :data:`CONNECT_ARGS`) one write lock between them."""
    lock = threading.Lock()

    @event.listens_for(engine, "connect")
    def _share_lock(dbapi_connection: TakingTurnsToWrite, _record: Any) -> None:
        dbapi_connection.write_lock = lock
