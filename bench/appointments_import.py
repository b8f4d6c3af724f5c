"""`wegbegleiter appointments import` of N rows: how long the command takes, on a fresh SQLite database.

    .venv/bin/python bench/appointments_import.py [--rows 1000] [--cases 50] [--past]

Builds a data folder in a temporary directory (one Träger, two Fachkräfte, ``--cases`` families with a
linked-up parent each and a 20-hour monthly budget), writes a CSV of ``--rows`` appointments spread over
the cases and three months (a third of them beyond the budget, so the Jugendamt is asked), and times the
import command in this process (click's runner; the interpreter's start-up is not counted). ``--past``
puts the appointments in the past (an import of last quarter: nothing is sent to the families).
With ``DATABASE_URL`` set it uses that database instead (emptied first: never point it at real data).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--past", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="wb-import-"))
    os.environ["WEGBEGLEITER_DATA_DIR"] = str(folder / "data")
    os.environ["LOG_LEVEL"] = "WARNING"
    from click.testing import CliRunner

    from bot.cli import cli

    runner = CliRunner()

    def run(*command: str) -> str:
        result = runner.invoke(cli, list(command), catch_exceptions=False)
        if result.exit_code:
            raise SystemExit(result.output)
        return result.stdout

    run("init")
    run("org", "add", "Brücke e.V.")
    run("staff", "add", "Jana Weber", "--role", "fachkraft")
    run("staff", "add", "Tom Krüger", "--role", "fachkraft")
    run("staff", "add", "Dr. Katrin Schulz", "--role", "fallfuehrend")
    now = datetime.now()
    first = (now - timedelta(days=120)) if args.past else (now + timedelta(days=30))
    months = sorted({(first + timedelta(days=d)).strftime("%Y-%m") for d in range(0, 91, 10)})
    for number in range(1, args.cases + 1):
        reference = f"F-BENCH-{number:04d}"
        run("case", "add", f"Familie {number}", "--reference", reference, "--fachkraft", "1", "--fachkraft", "2",
            "--fallfuehrend", "3")
        run("member", "add", reference, "Eltern", "--last-name", str(number))
        run("budget", "set", reference, months[0], "20")
    lines = ["case;start;minutes;kind;staff;place"]
    for row in range(args.rows):
        case = row % args.cases + 1
        day = first + timedelta(days=(row // args.cases) * 90 // max(1, args.rows // args.cases), hours=row % 8)
        lines.append(f"F-BENCH-{case:04d};{day:%Y-%m-%d} {8 + row % 9:02d}:00;120;hausbesuch;{1 + row % 2};zu Hause")
    csv_file = folder / "import.csv"
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    started, cpu = time.perf_counter(), time.process_time()
    output = run("appointments", "import", str(csv_file))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(output.strip().splitlines()[-1])
    print(f"{args.rows} rows, {args.cases} cases, {'past' if args.past else 'future'}: {seconds:.2f} s "
          f"({args.rows / seconds:.0f} rows/s), CPU {cpu:.2f} s, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
