"""SQLite: a process's threads take turns to write on one lock of ours (storage.sqlite_writes)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/writes.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, words TEXT NOT NULL)"))
    yield engine
    engine.dispose()


def write_lock(engine: Engine) -> threading.Lock:
    connection = engine.raw_connection()
    try:
        return connection.driver_connection.write_lock  # type: ignore[union-attr]
    finally:
        connection.close()


def test_a_second_writer_waits_on_our_lock_and_goes_when_the_first_commits(engine):
    lock = write_lock(engine)
    first_wrote, commit_now, second_done = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO note (words) VALUES ('first')"))
            first_wrote.set()
            commit_now.wait(10)
            order.append("first commits")

    def second() -> None:
        first_wrote.wait(10)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO note (words) VALUES ('second')"))
            order.append("second wrote")
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_wrote.wait(10)
    assert lock.locked()
    assert not second_done.wait(0.2), "the second writer must wait while the first one's transaction is open"
    # Readers do not wait for writers (WAL): the first one's row is not committed, so not seen yet.
    with engine.connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM note")).scalar_one() == 0
    commit_now.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first commits", "second wrote"]
    assert not lock.locked()
    with engine.connect() as reader:
        assert reader.execute(text("SELECT words FROM note ORDER BY id")).scalars().all() == ["first", "second"]


def test_the_lock_is_let_go_after_a_failed_write_and_after_a_rollback(engine):
    lock = write_lock(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO note (id, words) VALUES (1, 'one')"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO note (id, words) VALUES (1, 'twice')"))
    assert not lock.locked()
    with engine.connect() as connection:
        connection.execute(text("UPDATE note SET words = 'changed'"))
        assert lock.locked()
        connection.rollback()
    assert not lock.locked()
    with engine.connect() as reader:
        assert reader.execute(text("SELECT words FROM note")).scalars().all() == ["one"]


def test_many_threads_writing_at_once_all_get_their_rows_in(engine):
    def write(number: int) -> None:
        for row in range(25):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO note (words) VALUES (:words)"), {"words": f"{number}-{row}"})

    threads = [threading.Thread(target=write, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with engine.connect() as reader:
        assert reader.execute(text("SELECT count(DISTINCT words) FROM note")).scalar_one() == 200
    assert not write_lock(engine).locked()


def test_a_connection_dropped_in_the_middle_of_a_write_lets_the_lock_go(engine):
    lock = write_lock(engine)
    connection = engine.connect()
    connection.execute(text("INSERT INTO note (words) VALUES ('half')"))
    assert lock.locked()
    connection.invalidate()  # e.g. the thread's work failed and the pool throws the connection away
    connection.close()
    assert not lock.locked()
    with engine.begin() as writer:  # the next writer goes at once, and nothing half-written is there
        writer.execute(text("INSERT INTO note (words) VALUES ('whole')"))
    with engine.connect() as reader:
        assert reader.execute(text("SELECT words FROM note")).scalars().all() == ["whole"]
