"""Coordination between several instances on one PostgreSQL, with PostgreSQL's own advisory locks.

No home-made coordination service: PostgreSQL is already shared by every instance.

- :func:`lock_chat` serializes the turns of one chat across processes (a transaction-level lock, released
  at commit or rollback).
- :class:`Leadership` is a session-level lock held on a connection of its own, for work that exactly one
  instance does (the Telegram poller, the Matrix sync). When the holder dies, its connection closes and
  PostgreSQL releases the lock at once; a waiting instance takes over at its next try (every few seconds).
  TCP keepalives make a vanished machine (not just a dead process) lose its lock within about 25 s.
- :func:`exclusive` runs a periodic scan in one instance at a time (the others skip that round).
- Every running instance holds :func:`instance_lock` on its own id: an outbox claim whose instance no
  longer holds it was left by a dead process and is taken back at once (see ``bot.outbox``).
- :class:`Share` is held by every instance doing one kind of work side by side (sending to Telegram), so
  that each can count the others and take its share of a limit they must keep together.

SQLite serves one instance: there every lock is granted at once.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# This process, as named in outbox claims: host, pid and a random part (pids repeat across restarts).
INSTANCE_ID = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"
LEADER_RETRY = 2.0  # seconds between tries of a waiting instance to take over a role
LEADER_CHECK = 5.0  # seconds between checks of the holder that it still holds it
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


def key(name: str) -> int:
    """A stable signed 64-bit lock key for a name (PostgreSQL's advisory locks take a bigint)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def is_postgres(bind: Engine | Connection | Session) -> bool:
    return bind.get_bind().dialect.name == "postgresql" if isinstance(bind, Session) else \
        bind.dialect.name == "postgresql"


def lock_chat(session: Session, channel: str, address: str) -> None:
    """Wait until no other transaction (in any process) works on this chat; held until this one ends."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key(f"chat:{channel}:{address}")})


def _unlock_and_close(connection: Connection | None, unlock: str, lock_key: int) -> None:
    """Let go of a lock held on a connection of its own; a broken connection is dropped (the server has let go)."""
    if connection is None:
        return
    try:
        connection.execute(text(unlock), {"k": lock_key})
        connection.commit()
        connection.close()
    except Exception:
        connection.invalidate()


class Leadership:
    """One holder at a time, across processes, of a named role; :meth:`try_acquire` again and again."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = key(f"role:{name}")
        self.connection: Connection | None = None

    @property
    def held(self) -> bool:
        return self.connection is not None

    def try_acquire(self) -> bool:
        """True when this process holds the role (now, or still: a lost connection means lost)."""
        if not is_postgres(self.engine):
            return True
        if self.connection is not None:
            if self.still_held():
                return True
            self.release()
        connection = self.engine.connect()
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            connection.commit()
        except Exception:
            connection.invalidate()
            connection.close()
            raise
        if got:
            self.connection = connection
            log.info("this instance now does %s", self.name)
            return True
        connection.close()
        return False

    def still_held(self) -> bool:
        if self.connection is None:
            return not is_postgres(self.engine)
        try:
            # A session-level lock lasts as long as its connection: alive means held.
            self.connection.execute(text("SELECT 1"))
            self.connection.commit()
            return True
        except Exception:
            log.warning("lost the database connection that holds %s", self.name)
            return False

    def release(self) -> None:
        connection, self.connection = self.connection, None
        _unlock_and_close(connection, "SELECT pg_advisory_unlock(:k)", self.key)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Yield True if this instance may run ``name`` now (no other instance runs it), False otherwise."""
    if not is_postgres(engine):
        yield True
        return
    k = key(f"task:{name}")
    with engine.connect() as connection:
        got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": k}).scalar())
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": k})
                connection.commit()


class InstanceLock(Leadership):
    """Held by every running instance on its own id, for as long as it lives."""

    def __init__(self, engine: Engine, instance_id: str = INSTANCE_ID) -> None:
        super().__init__(engine, f"instance:{instance_id}")
        self.key = key(f"instance:{instance_id}")


class Share:
    """A role any number of instances hold at once (a shared advisory lock on a connection of its own);
    :meth:`holders` counts them as PostgreSQL's lock table does, so an instance that dies stops counting the
    moment its connection closes. On SQLite (one instance) this process is the only holder."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = key(f"share:{name}")
        self.connection: Connection | None = None
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        # pg_locks shows a bigint key as its high half (classid) and low half (objid), objsubid 1.
        self._halves = {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}
        self.counted = 1  # the holders last counted

    def join(self) -> None:
        if not is_postgres(self.engine) or self.connection is not None:
            return
        connection = _side_engine(self.engine).connect()
        try:
            connection.execute(text("SELECT pg_advisory_lock_shared(:k)"), {"k": self.key})
            connection.commit()
        except Exception:
            connection.invalidate()
            connection.close()
            raise
        self.connection = connection

    def leave(self) -> None:
        connection, self.connection = self.connection, None
        _unlock_and_close(connection, "SELECT pg_advisory_unlock_shared(:k)", self.key)

    def holders(self) -> int:
        """How many instances hold the share now (at least 1: this one, which is about to act on it). With
        its connection lost, the count last seen: :meth:`join` again connects anew."""
        if self.connection is None:
            return self.counted
        try:
            count = self.connection.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND mode = 'ShareLock'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"), self._halves).scalar()
            self.connection.commit()
        except Exception:
            log.warning("lost the database connection that holds the share %s; it joins again", self.name)
            self.connection.invalidate()
            self.connection = None
            return self.counted
        self.counted = max(1, int(count or 0))
        return self.counted


_side_engines: dict[str, Engine] = {}
_instance_locks: dict[str, InstanceLock] = {}
_instance_guard = threading.Lock()


def _side_engine(engine: Engine) -> Engine:
    """An engine of the same database for connections held as long as the process lives, outside the
    application's pool, so that disposing of the application's engine (tests do, for every test) does not
    end the process's life as others see it; TCP keepalives so a vanished machine's locks go too."""
    url = engine.url.render_as_string(hide_password=False)
    with _instance_guard:
        side = _side_engines.get(url)
        if side is None:
            side = _side_engines[url] = create_engine(url, poolclass=NullPool, connect_args=KEEPALIVE)
        return side


def announce_instance(engine: Engine, *, check: bool = False) -> None:
    """Hold this process's instance lock on this database (once; with ``check`` again if its connection
    was lost: a round trip, so only now and then), on a connection of its own (:func:`_side_engine`)."""
    if not is_postgres(engine):
        return
    side = _side_engine(engine)
    url = engine.url.render_as_string(hide_password=False)
    with _instance_guard:
        lock = _instance_locks.get(url)
        if lock is None:
            lock = _instance_locks[url] = InstanceLock(side)
        if lock.connection is None or (check and not lock.still_held()):
            lock.release()
            lock.try_acquire()


def instance_alive(connection: Connection, instance_id: str) -> bool:
    """Whether the instance of this id still runs (holds its lock). Asked on PostgreSQL only."""
    k = key(f"instance:{instance_id}")
    free = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": k}).scalar()
    if free:
        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": k})
    return not free


@atexit.register
def _let_go() -> None:
    """Close the instance locks' connections before the interpreter tears down their driver."""
    for lock in _instance_locks.values():
        lock.release()
    for side in _side_engines.values():
        side.dispose()
