"""What the periodic scans and the outbox claim cost as the stored history grows.

    nice -n 10 .venv/bin/python bench/scans.py --runs 3 --explain                  # SQLite, in a temporary folder
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wb_scans nice -n 10 .venv/bin/python bench/scans.py --explain

The same Träger twice: 1,000 open cases (2 linked parents each, 20 Fachkräfte), each with the same recent
appointments (six weeks back, four ahead, a Meilensteingespräch in the window) and the same messages
waiting. The small database holds 10⁴ appointments and 10⁴ outbox rows, the big one 10⁶ appointments (years
of weekly history, 990 per case) and 10⁵ outbox rows, plus as many older Meilensteine. The outbox rows are
the messages of the past, one every ten minutes (70 days back in the small database, two years in the big
one); those older than ``OUTBOX_TEXT_DAYS`` are blanked, as the privacy purge leaves them. Every month
before last has its confirmed Nachweis per case (1 month in the small database, 229 in the big one).
The moment is the first working day of a month at 18:30 Berlin, when every scan has work: reminders, the
"what happened?" questions, the next-day agenda, the Nachweis, the Meilenstein invitations.

Both databases are built first (on PostgreSQL as two schemas, ``bench_small`` and ``bench_big``). Each scan
runs once in each (it writes its messages; their keys make the next runs write nothing), then in the small
and the big one by turns, at least ``--runs`` times each (a cheap one until two seconds went by), so a
neighbour's load falls on both alike. Printed per run, small and big and big ÷ small: the CPU time (median;
this process and, on PostgreSQL, the server processes of its connections, read from /proc: wall time on a
shared machine measures the neighbours), the wall time (median) and the statements.
``--explain`` prints the query plan of each scan's slowest statement in the big database.
The two schemas in ``DATABASE_URL``'s database are dropped first: never point it at real data.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import conversations.jobs  # noqa: E402,F401  (every scan registers)
from bot.app import build  # noqa: E402
from bot.outbox import ChannelSender  # noqa: E402
from bot.ratelimit import TokenBucket  # noqa: E402
from conversations.clock import ManualClock, berlin  # noqa: E402
from conversations.registry import REGISTRY  # noqa: E402
from conversations.rules.billing import Month  # noqa: E402
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
    NachweisConfirmation,
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
OLD_MESSAGE_EVERY = timedelta(minutes=10)
MIN_SECONDS = 2.0  # a cheap scan runs until this much time went by, for a CPU figure finer than its clock


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
        # The Nachweis of every month before last, confirmed (last month's is what the scan asks for).
        months = past_months(NOW + timedelta(weeks=RECENT_WEEKS.start - history_weeks))
        for start in range(0, len(months), 10):
            conn.execute(insert(NachweisConfirmation), [
                {"case_id": c, "month": month, "status": "confirmed", "asked_at": now}
                for month in months[start:start + 10] for c in range(1, CASES + 1)])
        # The messages of the past, one every ten minutes (both databases alike; the big one goes back two
        # years): those older than the texts' period were blanked by the privacy purge, as it leaves them.
        text_days = timedelta(days=app.settings.outbox_text_days)
        marks_blanked = hasattr(OutboxMessage, "blanked_at")  # the column came with scan1 (before/after runs)
        for start in range(0, old_outbox, 10_000):
            rows = []
            for i in range(start, min(old_outbox, start + 10_000)):
                sent = now - timedelta(days=2) - OLD_MESSAGE_EVERY * i
                blanked = sent + text_days < now
                row = {"channel": "telegram", "address": str(1 + i % (2 * CASES)), "kind": "reply",
                       "text": "" if blanked else "Alte Antwort", "choices": [], "language": "de", "urgent": False,
                       "status": "sent", "attempts": 1, "dedupe_key": f"old:{i}" if i % 3 == 0 else None,
                       "next_attempt_at": sent, "created_at": sent, "sent_at": sent}
                if marks_blanked:
                    row["blanked_at"] = sent + text_days if blanked else None
                rows.append(row)
            conn.execute(insert(OutboxMessage), rows)
    # As a database that has run a while: its statistics taken and, on PostgreSQL, vacuumed (autovacuum
    # would do it after such a load anyway, only in the middle of the measurement).
    postgres = app.db.dialect.name == "postgresql"
    with app.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def past_months(since: datetime) -> list[str]:
    """The months from ``since`` to the one before last month (``YYYY-MM``)."""
    last = Month.of(NOW).previous()
    month, months = Month.of(since), []
    while month.first_day < last.first_day:
        months.append(str(month))
        month = month.next()
    return months


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


class CpuClock:
    """CPU seconds spent on the scans: this process's and, on PostgreSQL, those of the server processes behind
    one app's pooled connections (their ``/proc/<pid>/schedstat``: the server runs on this machine). On a shared,
    busy machine wall time tells more about the neighbours than about the queries."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.backends: list[int] = []

    def watch(self) -> None:
        """Find the server processes of the connections the pool holds (a warm-up run has opened them)."""
        if self.app.db.dialect.name != "postgresql":
            return
        with self.app.db.connect() as conn:
            self.backends = list(conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = current_setting('application_name')")).scalars())

    def __call__(self) -> float:
        seconds = time.process_time()
        for pid in self.backends:
            with contextlib.suppress(FileNotFoundError):  # a connection the pool closed meanwhile
                seconds += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        return seconds


@dataclass
class Figure:
    cpu: float  # seconds per run, median
    wall: float  # seconds per run, median
    runs: int
    statements: float  # per run
    plan: str


class Statements:
    """The statements one app's engine runs, with their time, to count them and explain the slowest."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.seen: list[tuple[str, object, float]] = []
        self.started: dict[int, float] = {}

    def before(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        self.started[id(cursor)] = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        self.seen.append((statement, parameters, time.perf_counter() - self.started.pop(id(cursor), time.perf_counter())))

    def __enter__(self) -> Statements:
        event.listen(self.app.db, "before_cursor_execute", self.before)
        event.listen(self.app.db, "after_cursor_execute", self.after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.app.db, "before_cursor_execute", self.before)
        event.remove(self.app.db, "after_cursor_execute", self.after)

    def slowest_plan(self) -> str:
        total: dict[str, list] = defaultdict(lambda: [0.0, None])
        for statement, parameters, seconds in self.seen:
            total[statement][0] += seconds
            total[statement][1] = parameters
        if not total:
            return ""
        statement, (_seconds, parameters) = max(total.items(), key=lambda item: item[1][0])
        return explain_plan(self.app, statement, parameters)


def measure(apps: dict, runs: int, explain: bool) -> dict[str, dict[str, Figure]]:  # type: ignore[type-arg]
    """Each scan in the small and the big database by turns, run for run: a neighbour's load falls on both."""
    results: dict[str, dict[str, Figure]] = {label: {} for label in apps}
    tasks = {label: scans(app) for label, app in apps.items()}
    clocks = {label: CpuClock(app) for label, app in apps.items()}
    for name in tasks["small"]:
        for label in apps:
            tasks[label][name]()  # writes what is due; the next runs find it written
            clocks[label].watch()
        cpu: dict[str, list[float]] = {label: [] for label in apps}
        wall: dict[str, list[float]] = {label: [] for label in apps}
        watched = {label: Statements(app) for label, app in apps.items()}
        first = time.perf_counter()
        while len(cpu["small"]) < runs or (time.perf_counter() - first < MIN_SECONDS and len(cpu["small"]) < 100):
            for label in apps:
                with watched[label]:
                    cpu_start, start = clocks[label](), time.perf_counter()
                    tasks[label][name]()
                    wall[label].append(time.perf_counter() - start)
                    cpu[label].append(clocks[label]() - cpu_start)
        for label in apps:
            plan = watched[label].slowest_plan() if explain and label == "big" else ""
            results[label][name] = Figure(statistics.median(cpu[label]), statistics.median(wall[label]),
                                          len(cpu[label]), len(watched[label].seen) / len(cpu[label]), plan)
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
    """SQLite: a file in the folder. PostgreSQL: a schema of its own in the database (both databases stay
    open, so their runs can take turns), its connections named after it (their server processes are found
    by that name)."""
    if not url:
        return f"sqlite:///{folder}/{label}.db"
    schema = f"bench_{label}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return make_url(url).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--big-weeks", type=int, default=990, help="history per case in the big database")
    parser.add_argument("--big-outbox", type=int, default=100_000)
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or None
    sizes = {"small": (0, 10_000), "big": (options.big_weeks, options.big_outbox)}
    apps = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, (weeks, outbox) in sizes.items():
            db_url = database(url, folder, label)
            settings = Settings(data_dir=folder, database_url=db_url, secret_key=SECRET, log_level="WARNING")
            engine = make_engine(db_url)
            migrate(engine)
            engine.dispose()
            app = apps[label] = build(settings, ManualClock(NOW))
            started = time.perf_counter()
            seed(app, weeks, outbox)
            with app.db.connect() as conn:
                appointments = conn.execute(text("SELECT count(*) FROM appointment")).scalar_one()
                messages = conn.execute(text("SELECT count(*) FROM outbox_message")).scalar_one()
            print(f"{label}: {appointments:,} appointments, {messages:,} outbox rows "
                  f"(seeded in {time.perf_counter() - started:.0f} s)", flush=True)
        load = os.getloadavg()[0]
        figures = measure(apps, options.runs, options.explain)
        for app in apps.values():
            app.db.dispose()
    print(f"\n{app.db.dialect.name}, small and big by turns, at least {options.runs} runs each (a cheap scan until "
          f"{MIN_SECONDS:.0f} s), load {load:.1f} → {os.getloadavg()[0]:.1f}; per run, medians: CPU ms, wall ms")
    print(f"{'scan':22} {'small CPU':>9} {'big CPU':>9} {'ratio':>6} {'small wall':>10} {'big wall':>9} {'ratio':>6} "
          f"{'runs':>5} {'statements':>12}")
    for name, small in figures["small"].items():
        big = figures["big"][name]
        print(f"{name:22} {small.cpu * 1000:9.1f} {big.cpu * 1000:9.1f} {ratio(big.cpu, small.cpu):6.2f} "
              f"{small.wall * 1000:10.1f} {big.wall * 1000:9.1f} {ratio(big.wall, small.wall):6.2f} "
              f"{small.runs:5} {small.statements:5.0f} →{big.statements:5.0f}")
        if big.plan:
            print(f"    slowest statement: {big.plan}")


def ratio(big: float, small: float) -> float:
    return big / small if small else float("nan")

if __name__ == "__main__":
    main()
