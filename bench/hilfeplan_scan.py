"""The Hilfeplan scan (conversations.hilfeplan.jobs) under a large Träger: how long one scan takes.

    .venv/bin/python bench/hilfeplan_scan.py [--cases 500] [--days 30]

A fresh SQLite database in a temporary folder, or the one in ``DATABASE_URL`` (emptied first: never point
it at real data). ``--cases`` cases, each with two of 40 Fachkräfte linked to a chat, a start of the help
spread over the past year and its first Hilfeplangespräch recorded. The scan runs every 15 minutes in
production; here it runs once at 09:00 (the day's reminders are written), once more at the same moment
(nothing new: the common case), then once a day at 09:00 for ``--days`` days. Printed: milliseconds per
scan and per case, SQL statements per case, and the messages written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build  # noqa: E402
from conversations import admin  # noqa: E402
from conversations.admin import Actor  # noqa: E402
from conversations.clock import ManualClock, berlin  # noqa: E402
from conversations.hilfeplan import core  # noqa: E402
from conversations.registry import REGISTRY  # noqa: E402
from conversations.settings import Settings  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.models import Base, ChatIdentity, OutboxMessage, Role  # noqa: E402

OPS = Actor("bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="wb-hp-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(table.delete())
    engine.dispose()
    clock = ManualClock(berlin(2027, 3, 1, 9, 0))
    app = build(Settings(data_dir=folder, database_url=url, secret_key="bench-secret-key-long-enough-0123456789",
                         log_level="WARNING"), clock)
    now = clock.now()
    with app.sessions.begin() as session:
        org = admin.add_organisation(session, OPS, now, "Bench e.V.")
        staff = [admin.add_staff(session, OPS, now, org, f"Fachkraft {i}", [Role.FACHKRAFT]) for i in range(40)]
        admin.add_staff(session, OPS, now, org, "Leitung", [Role.LEITUNG])
        session.flush()
        for person in staff:
            session.add(ChatIdentity(channel="bench", address=f"s{person.id}", staff_id=person.id, linked_at=now))
        for i in range(args.cases):
            case = admin.add_case(session, OPS, now, org, f"Familie {i}")
            for person in (staff[i % 40], staff[(i + 1) % 40]):
                admin.assign(session, OPS, now, case, person, Role.FACHKRAFT)
            start = date(2026, 3, 1) + timedelta(days=i % 365)
            core.add_talk(session, None, OPS, now, case, "hilfeplan", berlin(start.year, start.month, start.day, 10),
                          ["Bench"])
    statements = [0]

    @event.listens_for(app.db, "before_cursor_execute")
    def count(*_args):  # type: ignore[no-untyped-def]
        statements[0] += 1

    task = REGISTRY.tasks["hilfeplan"]

    def timed() -> tuple[float, int]:
        statements[0] = 0
        begin = time.perf_counter()
        task.run(app.services)
        return (time.perf_counter() - begin) * 1000, statements[0]

    first, first_sql = timed()
    again, again_sql = timed()
    daily = []
    for _ in range(args.days):
        clock.advance(timedelta(days=1))
        daily.append(timed()[0])
    with app.sessions() as session:
        written = session.scalar(select(func.count(OutboxMessage.id)))
    n = args.cases
    print(f"{n} cases, SQLite" if url.startswith("sqlite") else f"{n} cases, PostgreSQL")
    print(f"first scan (writes the day's reminders): {first:.0f} ms, {first / n:.2f} ms/case, {first_sql / n:.1f} SQL/case")
    print(f"same moment again (nothing new):         {again:.0f} ms, {again / n:.2f} ms/case, {again_sql / n:.1f} SQL/case")
    print(f"daily for {args.days} days: median {sorted(daily)[len(daily) // 2]:.0f} ms, max {max(daily):.0f} ms")
    print(f"messages written: {written}")


if __name__ == "__main__":
    main()
