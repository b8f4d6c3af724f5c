"""Setting up a Träger: `member import` of N families versus one `member add` call per person.

Run by hand (not by pytest); the real command line in child processes, a fresh SQLite data folder in a
temporary directory (or the database in DATABASE_URL, emptied first)::

    .venv/bin/python bench/member_import.py [--families 300] [--adds 5]

Each family is a new case (created from its `Familie` column) with a parent and a child, so 2 × N rows.
Printed: the import's wall time (and per row), reading the same file again (everything skipped), and the
mean of ``--adds`` single `member add` calls, projected to the same number of people.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wegbegleiter(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=300)
    parser.add_argument("--adds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-import-") as tmp:
        env = {**os.environ, "WEGBEGLEITER_DATA_DIR": str(Path(tmp) / "data"), "LOG_LEVEL": "WARNING",
               "WEGBEGLEITER_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789"}
        if env.get("DATABASE_URL"):
            from sqlalchemy import text

            from storage.db import make_engine

            engine = make_engine(env["DATABASE_URL"])
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        wegbegleiter(env, "init")
        wegbegleiter(env, "org", "add", "Brücke e.V.")
        wegbegleiter(env, "staff", "add", "Jana Weber", "--role", "fachkraft")
        csv = Path(tmp) / "familien.csv"
        lines = ["Fall;Familie;Fachkraft;Vorname;Nachname;Art;Sprache"]
        for i in range(1, args.families + 1):
            lines += [f"F-2027-{i:04d};Familie Muster{i};1;Anna;Muster{i};Elternteil;de",
                      f"F-2027-{i:04d};;;Ben;Muster{i};Kind;tr"]
        csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
        rows = len(lines) - 1
        imported = wegbegleiter(env, "member", "import", str(csv))
        again = wegbegleiter(env, "member", "import", str(csv))
        adds = [wegbegleiter(env, "member", "add", "F-2027-0001", f"Extra{i}") for i in range(args.adds)]
    one = statistics.mean(adds)
    print(f"member import: {rows} rows ({args.families} new cases) in {imported:.1f} s "
          f"({imported / rows * 1000:.0f} ms per row); the same file again (all skipped) {again:.1f} s")
    print(f"member add:    {one:.2f} s per call (mean of {args.adds}) → {rows} people ≈ {one * rows / 60:.0f} min")
    print(f"ratio: the import is {one * rows / imported:.0f}× faster than one call per person")


if __name__ == "__main__":
    main()
