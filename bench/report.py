"""The Träger's figures (`wegbegleiter report`) for a large Träger, on PostgreSQL.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wb_report .venv/bin/python bench/report.py [--families 300]

The database is emptied first (never point it at real data). Seeded as in ``bench/console.py`` (the cast of
SCENARIOS.md, then ``--families`` cases with 100 weekly appointments each over about two years, escalations,
Nachweise, 300 complaints). Measured, best of ``--rounds``: building the year's figures
(:func:`conversations.report.figures.build`), then the XLSX and the PDF with its charts; and the number of SQL
statements one build takes (it must not grow with the number of cases).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import report_files  # noqa: E402
from bot.app import build  # noqa: E402
from conversations.clock import ManualClock  # noqa: E402
from conversations.report import figures  # noqa: E402
from conversations.settings import Settings  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.models import Organisation  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_console", ROOT / "bench" / "console.py")
assert _spec and _spec.loader
console = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(console)


def best(rounds: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("set DATABASE_URL to a PostgreSQL database you may empty (e.g. wb_report)")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    engine.dispose()
    console.FAMILIES = args.families
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp, database_url=url, secret_key="bench-secret-key-long-enough-0123456789",
                            log_level="WARNING")
        app = build(settings, ManualClock(console.NOW))
        console.seed(app)
        year = console.NOW.year - 1  # a whole year of appointments behind NOW
        with app.sessions() as session:
            org = session.scalar(select(Organisation).order_by(Organisation.id))
            period = figures.Period.of(year)
            report = figures.build(session, org, period, console.NOW)
            statements: list[int] = []

            def counted(*_args) -> None:  # type: ignore[no-untyped-def]
                statements.append(1)

            event.listen(app.db, "before_cursor_execute", counted)
            figures.build(session, org, period, console.NOW)
            event.remove(app.db, "before_cursor_execute", counted)
            count = len(statements)
            seconds = best(args.rounds, lambda: figures.build(session, org, period, console.NOW))
        print(f"{args.families} families, year {year}: {report.section('hours').get('appointments').public()} "
              f"appointments, {report.section('complaints').get('received').public()} complaints")
        print(f"build: {seconds * 1000:.0f} ms, {count} SQL statements")
        print(f"xlsx:  {best(args.rounds, lambda: report_files.xlsx(report)) * 1000:.0f} ms")
        print(f"pdf:   {best(args.rounds, lambda: report_files.pdf(report)) * 1000:.0f} ms (with charts)")


if __name__ == "__main__":
    main()
