"""The staff console's pages under a large Träger: 10,000 families, 10⁶ appointments, on PostgreSQL.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wb_console .venv/bin/python bench/console.py

The database is emptied first (never point it at real data). The cast of SCENARIOS.md is seeded, then
10,000 more cases (3 family members each, 100 appointments each: 10⁶ rows, written by PostgreSQL's own
``generate_series``), spread over 200 Fachkräfte, with open alerts, escalations, complaints, pending extra
hours and Nachweise. Each page is requested ``--rounds`` times over real HTTP by a signed-in person, after
two warm-up requests; printed: p50 and p95 in milliseconds, and the number of SQL statements per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ports import web_listen  # noqa: E402
from bot import demo  # noqa: E402
from bot.app import build  # noqa: E402
from conversations.clock import ManualClock, berlin  # noqa: E402
from conversations.settings import Settings  # noqa: E402
from conversations.webconsole import signin  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.models import Case, Complaint, StaffMember  # noqa: E402
from tests.support.web import Browser, serving  # noqa: E402

FAMILIES = 10_000
PER_CASE = 100  # appointments: 10⁶ in all
FACHKRAEFTE = 200
NOW = berlin(2027, 3, 16, 11, 0)

SEED = """
INSERT INTO staff_member (organisation_id, name, language, active, created_at)
SELECT :org, 'Fachkraft ' || g, 'de', true, :now FROM generate_series(1, :fk) g;
INSERT INTO staff_role (staff_id, role) SELECT id, 'fachkraft' FROM staff_member WHERE name LIKE 'Fachkraft %';
INSERT INTO "case" (organisation_id, reference, title, help_type, created_at)
SELECT :org, 'B-' || g, 'Familie Bench ' || g, 'SPFH § 31 SGB VIII', :now FROM generate_series(1, :families) g;
INSERT INTO family_member (case_id, first_name, last_name, kind, language, created_at)
SELECT c.id, n.first, 'Bench', n.kind, 'de', :now FROM "case" c
CROSS JOIN (VALUES ('Anna', 'parent'), ('Ben', 'parent'), ('Cem', 'child')) AS n(first, kind)
WHERE c.reference LIKE 'B-%';
INSERT INTO case_assignment (case_id, staff_id, role, since)
SELECT c.id, s.id, 'fachkraft', :now FROM "case" c
JOIN staff_member s ON s.name = 'Fachkraft ' || (1 + (c.id % :fk)) WHERE c.reference LIKE 'B-%';
INSERT INTO case_assignment (case_id, staff_id, role, since)
SELECT c.id, :jana, 'fachkraft', :now FROM "case" c WHERE c.reference LIKE 'B-%' AND c.id % 200 = 0;
INSERT INTO case_assignment (case_id, staff_id, role, since)
SELECT c.id, :schulz, 'fallfuehrend', :now FROM "case" c WHERE c.reference LIKE 'B-%' AND c.id % 100 = 0;
INSERT INTO case_budget (case_id, monthly_minutes, valid_from, created_at, created_by)
SELECT id, 1200, DATE '2026-01-01', :now, 'bench' FROM "case" WHERE reference LIKE 'B-%';
INSERT INTO appointment (case_id, kind, starts_at, duration_minutes, outcome, actual_minutes, ics_uid,
                         ics_sequence, created_at)
SELECT c.id, 'hausbesuch', :first + (g * interval '7 days') + (c.id % 5) * interval '1 day', 120,
       CASE WHEN :first + (g * interval '7 days') > :now THEN 'planned'
            WHEN g % 17 = 0 THEN 'no_show' ELSE 'took_place' END,
       CASE WHEN :first + (g * interval '7 days') > :now OR g % 17 = 0 THEN NULL ELSE 120 END,
       c.id || '-' || g || '@bench', 0, :now
FROM "case" c CROSS JOIN generate_series(0, :per_case - 1) g WHERE c.reference LIKE 'B-%';
INSERT INTO nachweis_confirmation (case_id, month, status, asked_at)
SELECT id, '2027-02', CASE WHEN id % 5 = 0 THEN 'pending' ELSE 'confirmed' END, :now FROM "case"
WHERE reference LIKE 'B-%';
INSERT INTO extra_hours_request (case_id, month, minutes, requested_by, requested_at, status)
SELECT id, '2027-03', 60, 'bench', :now, 'pending' FROM "case" WHERE reference LIKE 'B-%' AND id % 50 = 0;
INSERT INTO escalation (kind, key, case_id, facts, created_at, due_at)
SELECT 'attendance', 'bench:' || id, id, '{"appointments": []}', :now - interval '1 day', :now
FROM "case" WHERE reference LIKE 'B-%' AND id % 40 = 0;
"""


def seed(app) -> None:  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        demo.seed(session, app.services.clock, 14)
        staff = {s.name: s for s in session.scalars(select(StaffMember))}
        params = {"org": staff["Jana Weber"].organisation_id, "now": NOW, "fk": FACHKRAEFTE, "families": FAMILIES,
                  "per_case": PER_CASE, "jana": staff["Jana Weber"].id, "schulz": staff["Dr. Katrin Schulz"].id,
                  "first": NOW - timedelta(weeks=PER_CASE - 10)}
        for statement in SEED.strip().split(";\n"):
            session.execute(text(statement), params)
        org = params["org"]
        for i in range(300):  # complaints: the procedure's own rows (text is encrypted)
            session.add(Complaint(status="new" if i % 3 else "closed", organisation_id=org, category="appointments",
                                  anonymous=i % 2 == 0, reference=f"B-2027-{i + 1:04d}", created_at=NOW,
                                  submitted_at=NOW - timedelta(days=i % 20), take_up_due=NOW + timedelta(days=1 - i % 4),
                                  answer_due=NOW + timedelta(days=14 - i % 20)))
    with app.db.begin() as conn:
        conn.execute(text("ANALYZE"))


def measure(browser: Browser, engine, path: str, rounds: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    statements = []

    def count(*_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(1)

    for _ in range(2):
        assert browser.get(path).status_code == 200, path
    times = []
    event.listen(engine, "before_cursor_execute", count)
    for _ in range(rounds):
        start = time.perf_counter()
        response = browser.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, path
    event.remove(engine, "before_cursor_execute", count)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(statements) // rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("set DATABASE_URL to a PostgreSQL database you may empty (e.g. wb_console)")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp, database_url=url, secret_key="bench-secret-key-long-enough-0123456789",
                            log_level="WARNING")
        app = build(settings, ManualClock(NOW))
        started = time.perf_counter()
        seed(app)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        with serving(app, web_listen()[1]) as (served, base):
            with served.sessions.begin() as session:
                people = {s.name.split()[0]: s for s in session.scalars(select(StaffMember))}
                tokens = {who: signin.issue(session, people[name], NOW, "bench")
                          for who, name in (("Jana", "Jana"), ("Kerstin", "Kerstin"), ("Leitung", "Martina"),
                                            ("Schulz", "Dr."), ("Sabine", "Sabine"))}
                case = session.scalar(select(Case.id).join(Case.assignments)
                                      .where(Case.reference.like("B-%"), Case.assignments.any(staff_id=people["Jana"].id))
                                      .limit(1))
                complaint = session.scalar(select(Complaint.id).where(Complaint.status == "new").limit(1))
            browsers = {}
            for who, token in tokens.items():
                browsers[who] = Browser(base)
                browsers[who].sign_in(signin.link_url(base, token))
            pages = [("Jana", "/"), ("Jana", "/cases"), ("Jana", f"/cases/{case}"), ("Kerstin", "/complaints"),
                     ("Kerstin", f"/complaints/{complaint}"), ("Leitung", "/overview"), ("Schulz", "/jugendamt"),
                     ("Schulz", f"/cases/{case}"), ("Sabine", "/milestones")]
            print(f"{'who':8} {'page':22} {'p50 ms':>7} {'p95 ms':>7} {'queries':>7}")
            for who, path in pages:
                p50, p95, queries = measure(browsers[who], served.db, path, args.rounds)
                print(f"{who:8} {path:22} {p50:7.1f} {p95:7.1f} {queries:7}")
        print("load average:", " ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
