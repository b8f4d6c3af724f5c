"""What the periodic scans and the outbox claim cost as the stored history grows.

    .venv/bin/python bench/scans.py                       # SQLite, in a temporary folder
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wb_perf .venv/bin/python bench/scans.py

The same Träger twice: 1,000 open cases (2 linked parents each, 20 Fachkräfte), each with the same recent
appointments (six weeks back, four ahead, a Meilensteingespräch in the window) and the same messages
waiting. The small database holds 10⁴ appointments and 10⁴ outbox rows, the big one 10⁶ appointments (years
of weekly history, 990 per case) and 10⁵ outbox rows (sent long ago), plus as many older Meilensteine.
The moment is the first working day of a month at 18:30 Berlin, when every scan has work: reminders, the
"what happened?" questions, the next-day agenda, the Nachweis, the Meilenstein invitations.

Each scan runs once (it writes its messages; their keys make the next runs write nothing), then ``--runs``
times; printed: the median time and the statements per run, small and big, and big ÷ small. ``--explain``
prints the query plan of each scan's slowest statement in the big database.
A database in ``DATABASE_URL`` is emptied first: never point it at real data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import conversations.jobs  # noqa: E402,F401  (every scan registers)
from bot.app import build  # noqa: E402
from bot.outbox import ChannelSender  # noqa: E402
from bot.ratelimit import TokenBucket  # noqa: E402
from conversations.clock import ManualClock, berlin  # noqa: E402
from conversations.registry import REGISTRY  # noqa: E402
from conversations.settings import Settings  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.models import (  # noqa: E402
    Appointment,
    AppointmentMember,
    AppointmentStaff,
    Case,
    CaseAssignment,
    ChatIdentity,
    FamilyMember,
    Milestone,
    Organisation,
    OutboxMessage,
    StaffMember,
    StaffRole,
)

NOW = berlin(2027, 6, 1, 18, 30)  # Tuesday, the first working day of June: the Nachweis for May is due
CASES = 1_000
FACHKRAEFTE = 20
RECENT_WEEKS = range(-6, 4)  # ten appointments per case in both databases: 10⁴
SECRET = "bench-secret-key-long-enough-0123456789"


class Transport:
    """Takes the claimed messages nowhere: only the claim is measured."""

    channel = "telegram"

    class limits:  # noqa: N801
        per_second = 0
        per_chat_per_second = 0
        per_chat_burst = 1


def seed(app, history_weeks: int, old_outbox: int) -> None:  # type: ignore[no-untyped-def]
    now = NOW
    with app.db.begin() as conn:
        org = conn.execute(insert(Organisation).values(name="Bench e. V.", settings={}, created_at=now)
                           .returning(Organisation.id)).scalar_one()
        conn.execute(insert(StaffMember), [{"id": i, "organisation_id": org, "name": f"Fachkraft {i}", "language": "de",
                                            "active": True, "created_at": now} for i in range(1, FACHKRAEFTE + 2)])
        conn.execute(insert(StaffRole), [{"staff_id": i, "role": "fachkraft"} for i in range(1, FACHKRAEFTE + 1)]
                     + [{"staff_id": FACHKRAEFTE + 1, "role": "gespraechsfuehrung"}])
        conn.execute(insert(ChatIdentity), [{"channel": "telegram", "address": str(900_000 + i), "staff_id": i,
                                             "linked_at": now} for i in range(1, FACHKRAEFTE + 2)])
        conn.execute(insert(Case), [{"id": c, "organisation_id": org, "reference": f"B-{c}", "title": f"Familie {c}",
                                     "created_at": now - timedelta(weeks=history_weeks + 10)}
                                    for c in range(1, CASES + 1)])
        conn.execute(insert(FamilyMember), [{"id": 2 * c - k, "case_id": c, "first_name": "Anna" if k else "Ben",
                                             "kind": "parent", "language": "de", "created_at": now}
                                            for c in range(1, CASES + 1) for k in (0, 1)])
        conn.execute(insert(ChatIdentity), [{"channel": "telegram", "address": str(m), "member_id": m,
                                             "linked_at": now} for m in range(1, 2 * CASES + 1)])
        conn.execute(insert(CaseAssignment), [{"case_id": c, "staff_id": 1 + c % FACHKRAEFTE, "role": "fachkraft",
                                               "since": now - timedelta(weeks=history_weeks + 10)}
                                              for c in range(1, CASES + 1)])
        next_id = 1
        recent: list[dict] = []
        for c in range(1, CASES + 1):
            rows = []
            for k in range(history_weeks):  # years of weekly visits before the window, oldest first
                rows.append(_appointment(next_id, c, RECENT_WEEKS.start - history_weeks + k, "took_place"))
                next_id += 1
            if rows:
                conn.execute(insert(Appointment), rows)
            for week in RECENT_WEEKS:
                # last week's visit has no outcome yet ("what happened?"), later ones are planned
                outcome = "took_place" if week < -1 else "planned"
                row = _appointment(next_id, c, week, outcome, hours=(c % 48) - 24 if week == 0 else 0)
                recent.append(row)
                next_id += 1
        conn.execute(insert(Appointment), recent)
        conn.execute(insert(AppointmentMember), [{"appointment_id": r["id"], "member_id": 2 * r["case_id"] - k}
                                                 for r in recent for k in (0, 1)])
        conn.execute(insert(AppointmentStaff), [{"appointment_id": r["id"], "staff_id": 1 + r["case_id"] % FACHKRAEFTE}
                                                for r in recent])
        # Meilensteingespräche: one per case a week ahead (invitations due), and as many long past per case
        # as the history holds half-years.
        milestones = []
        for c in range(1, CASES + 1):
            milestones.append({"appointment_id": next((r["id"] for r in recent if r["case_id"] == c
                                                       and r["starts_at"] > now + timedelta(days=6)), None)})
        ms_rows = [{"appointment_id": m["appointment_id"], "case_id": c, "leader_id": FACHKRAEFTE + 1,
                    "created_at": now} for c, m in zip(range(1, CASES + 1), milestones, strict=True)
                   if m["appointment_id"] and c % 10 == 0]
        old_per_case = history_weeks // 26
        for c in range(10, CASES + 1, 10):
            first_old = 1 + (c - 1) * (history_weeks + len(RECENT_WEEKS))  # the case's oldest appointment
            ms_rows += [{"appointment_id": first_old + 26 * k, "case_id": c, "leader_id": FACHKRAEFTE + 1,
                         "created_at": now, "summary_sent_at": now, "evaluation_requested_at": now}
                        for k in range(old_per_case)]
        conn.execute(insert(Milestone), ms_rows)
        for start in range(0, old_outbox, 10_000):
            conn.execute(insert(OutboxMessage), [
                {"channel": "telegram", "address": str(1 + i % (2 * CASES)), "kind": "reply", "text": "Alte Antwort",
                 "choices": [], "language": "de", "urgent": False, "status": "sent", "attempts": 1,
                 "dedupe_key": f"old:{i}" if i % 3 == 0 else None,
                 "next_attempt_at": now - timedelta(days=2, seconds=i), "created_at": now - timedelta(days=2, seconds=i),
                 "sent_at": now - timedelta(days=2, seconds=i)}
                for i in range(start, min(old_outbox, start + 10_000))])
    with app.db.begin() as conn:
        conn.execute(text("ANALYZE"))


def _appointment(id_: int, case: int, week: int, outcome: str, hours: int = 0) -> dict:
    starts = NOW + timedelta(weeks=week, hours=hours) + timedelta(days=case % 3)
    return {"id": id_, "case_id": case, "kind": "hausbesuch", "starts_at": starts, "duration_minutes": 90,
            "outcome": outcome, "actual_minutes": 90 if outcome == "took_place" else None,
            "ics_uid": f"{id_}@bench", "ics_sequence": 0, "created_at": starts - timedelta(days=20)}


def scans(app) -> dict[str, Callable[[], object]]:  # type: ignore[no-untyped-def]
    found: dict[str, Callable[[], object]] = {
        name: (lambda task=task: task.run(app.services)) for name, task in REGISTRY.tasks.items()}
    sender = ChannelSender(app.sessions, app.services.clock, Transport())  # type: ignore[arg-type]
    sender.overall = TokenBucket(1000, 1000)

    def claim() -> object:
        # Claim what is due (at most one paced round), then hand it back: the next run finds the same.
        claimed = sender._claim_due(120)
        with app.db.begin() as conn:
            conn.execute(text("UPDATE outbox_message SET status = 'pending', next_attempt_at = :now "
                              "WHERE status = 'sending'"), {"now": NOW})
        return claimed

    found["outbox claim"] = claim
    return found


def measure(app, runs: int, explain: bool) -> dict[str, tuple[float, float, str]]:  # type: ignore[no-untyped-def]
    results = {}
    statements: list[tuple[str, object, float]] = []
    started: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters, time.perf_counter() - started.pop(id(cursor), time.perf_counter())))

    for name, run in scans(app).items():
        run()  # writes what is due; the next runs find it written
        event.listen(app.db, "before_cursor_execute", before)
        event.listen(app.db, "after_cursor_execute", after)
        statements.clear()
        took = []
        for _ in range(runs):
            start = time.perf_counter()
            run()
            took.append(time.perf_counter() - start)
        event.remove(app.db, "before_cursor_execute", before)
        event.remove(app.db, "after_cursor_execute", after)
        slowest: dict[str, list] = defaultdict(lambda: [0.0, None])
        for statement, parameters, seconds in statements:
            slowest[statement][0] += seconds
            slowest[statement][1] = parameters
        plan = ""
        if explain and slowest:
            statement, (_seconds, parameters) = max(slowest.items(), key=lambda item: item[1][0])
            plan = explain_plan(app, statement, parameters)
        results[name] = (statistics.median(took), len(statements) / runs, plan)
    return results


def explain_plan(app, statement: str, parameters) -> str:  # type: ignore[no-untyped-def]
    postgres = app.db.dialect.name == "postgresql"
    prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    if statement.lstrip().upper().startswith(("UPDATE", "DELETE", "INSERT")) and postgres:
        prefix = "EXPLAIN "
    raw = app.db.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(prefix + statement, parameters)
        rows = cursor.fetchall()
        raw.rollback()
    finally:
        raw.close()
    lines = [r[0] if postgres else f"{'  ' * 0}{r[-1]}" for r in rows]
    return " ".join(statement.split())[:300] + "\n      " + "\n      ".join(lines)


def database(url: str | None, folder: str, label: str) -> str:
    if not url:
        return f"sqlite:///{folder}/{label}.db"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--big-weeks", type=int, default=990, help="history per case in the big database")
    parser.add_argument("--big-outbox", type=int, default=100_000)
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or None
    sizes = {"small": (0, 10_000), "big": (options.big_weeks, options.big_outbox)}
    figures: dict[str, dict[str, tuple[float, float, str]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, (weeks, outbox) in sizes.items():
            db_url = database(url, folder, label)
            settings = Settings(data_dir=folder, database_url=db_url, secret_key=SECRET, log_level="WARNING")
            engine = make_engine(db_url)
            migrate(engine)
            engine.dispose()
            app = build(settings, ManualClock(NOW))
            started = time.perf_counter()
            seed(app, weeks, outbox)
            with app.db.connect() as conn:
                appointments = conn.execute(text("SELECT count(*) FROM appointment")).scalar_one()
                messages = conn.execute(text("SELECT count(*) FROM outbox_message")).scalar_one()
            print(f"{label}: {appointments:,} appointments, {messages:,} outbox rows "
                  f"(seeded in {time.perf_counter() - started:.0f} s)", flush=True)
            figures[label] = measure(app, options.runs, options.explain and label == "big")
            app.db.dispose()
    print(f"\n{app.db.dialect.name}, {options.runs} runs, load {os.getloadavg()[0]:.1f}")
    print(f"{'scan':22} {'small ms':>9} {'big ms':>9} {'ratio':>6} {'statements':>12}")
    for name, (small, small_statements, _plan) in figures["small"].items():
        big, big_statements, plan = figures["big"][name]
        ratio = big / small if small else float("nan")
        print(f"{name:22} {small * 1000:9.1f} {big * 1000:9.1f} {ratio:6.2f} "
              f"{small_statements:5.0f} →{big_statements:5.0f}")
        if plan:
            print(f"    slowest statement: {plan}")


if __name__ == "__main__":
    main()
