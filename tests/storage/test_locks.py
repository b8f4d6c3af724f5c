"""PostgreSQL's advisory locks as the instances use them (on SQLite, one instance: always granted)."""

from __future__ import annotations

import threading
import time

import pytest

from storage import locks
from storage.db import make_engine


@pytest.fixture
def two_engines(app, database_url):  # type: ignore[no-untyped-def]
    """Two connection pools, as two processes have."""
    if app.db.dialect.name != "postgresql":
        pytest.skip("several instances share PostgreSQL; SQLite serves one")
    other = make_engine(database_url)
    yield app.db, other
    other.dispose()


def test_turns_of_one_chat_wait_for_each_other_across_connection_pools(two_engines):
    from sqlalchemy.orm import Session

    first, second = two_engines
    waited: list[float] = []
    holding = threading.Event()

    def hold() -> None:
        with Session(first) as session, session.begin():
            locks.lock_chat(session, "telegram", "5001")
            holding.set()
            time.sleep(0.4)

    def wait() -> None:
        holding.wait(5)
        started = time.monotonic()
        with Session(second) as session, session.begin():
            locks.lock_chat(session, "telegram", "5001")
            waited.append(time.monotonic() - started)
        with Session(second) as session, session.begin():  # another chat does not wait
            started = time.monotonic()
            locks.lock_chat(session, "telegram", "5002")
            waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=hold), threading.Thread(target=wait)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert waited[0] >= 0.3 and waited[1] < 0.3


def test_a_role_has_one_holder_and_passes_on_when_its_connection_ends(two_engines):
    first, second = two_engines
    one, two = locks.Leadership(first, "telegram-poller:test"), locks.Leadership(second, "telegram-poller:test")
    assert one.try_acquire() and one.still_held()
    assert not two.try_acquire()
    assert one.connection is not None
    one.connection.invalidate()  # the process died: its connection is gone
    one.connection = None
    assert two.try_acquire()
    two.release()


def test_a_periodic_scan_runs_in_one_instance_at_a_time(two_engines):
    first, second = two_engines
    with locks.exclusive(first, "appointment-reminders") as mine, \
            locks.exclusive(second, "appointment-reminders") as theirs:
        assert mine and not theirs
    with locks.exclusive(second, "appointment-reminders") as theirs:
        assert theirs


def test_instances_doing_the_same_work_count_each_other_and_stop_counting_one_that_died(two_engines):
    first, second = two_engines
    one, two = locks.Share(first, "send:test"), locks.Share(second, "send:test")
    one.join()
    assert one.holders() == 1
    two.join()
    assert one.holders() == two.holders() == 2
    assert locks.Share(first, "send:another").holders() == 1  # (not joined: only itself)
    assert one.connection is not None
    one.connection.connection.dbapi_connection.close()  # the connection broke: the count last seen, until
    assert one.holders() == 2 and one.connection is None  # it joins again
    one.join()
    deadline = time.monotonic() + 10  # (the server ends the broken connection's backend a moment later)
    while one.holders() != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert one.holders() == 2
    assert two.connection is not None
    two.connection.invalidate()  # the process died: its connection is gone
    two.connection = None
    deadline = time.monotonic() + 10  # the server ends the closed connection's backend a moment later
    while one.holders() != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert one.holders() == 1
    one.leave()


def test_a_message_being_claimed_is_not_withdrawn_from_under_the_claim(two_engines, app):
    # The help ends (`case close`) at the moment the outbox takes the chat's waiting appointment notice: the
    # notice is on its way and must stay in the outbox, or the goodbye queued behind it overtakes it.
    from datetime import UTC, datetime

    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from conversations.messages import Reply
    from conversations.outbox import enqueue
    from storage.chats import withdraw_pending
    from storage.models import OutboxMessage, OutboxStatus

    first, second = two_engines
    with app.sessions.begin() as session:
        row = enqueue(session, channel="telegram", address="7301", reply=Reply("Neuer Termin"),
                      now=datetime.now(UTC), language="de")
        session.flush()
        notice = row.id
    withdrawn: list[int] = []
    with Session(first) as claim, claim.begin():
        claim.execute(update(OutboxMessage).where(OutboxMessage.id == notice).values(status=OutboxStatus.SENDING))

        def close_case() -> None:
            with Session(second) as session, session.begin():
                withdrawn.append(withdraw_pending(session, "telegram", "7301"))

        closing = threading.Thread(target=close_case)
        closing.start()
        closing.join(0.5)  # it waits for the claim
    closing.join(10)
    assert withdrawn == [0]
    with Session(first) as session:
        assert session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == notice)) == OutboxStatus.SENDING
