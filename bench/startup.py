"""How long the command line takes to start: `wegbegleiter --help` and light commands, wall clock and CPU.

    .venv/bin/python bench/startup.py [--runs 10] [--imports] [--steps]

Each command runs ``--runs`` times as a fresh process (``python -m bot ...``, the same as the
``wegbegleiter`` script); printed: the median and the best wall-clock time, the median CPU time of the
process (user + system, less disturbed by other work on a shared machine), and the bare interpreter's
start for comparison. Each command runs once untimed first, with bytecode caching on even where
``PYTHONDONTWRITEBYTECODE`` is set (an installed ``wegbegleiter`` has its bytecode; without it every start
compiles some 50 of the project's modules again, about 0.1 s). A light command that needs a database gets
a fresh SQLite one (``init`` first, not timed). ``--imports`` also prints the ten slowest imports of
``--help`` (``python -X importtime``); ``--steps`` the CPU time of each step of ``staff list``, taken one
by one in a fresh process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(args: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run."""
    wall, cpu = [], []
    for _ in range(runs):
        start, cpu_before = time.perf_counter(), children_cpu()
        subprocess.run(args, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall.append(time.perf_counter() - start)
        cpu.append(children_cpu() - cpu_before)
    return wall, cpu


def slowest_imports(env: dict[str, str], top: int = 10) -> list[tuple[float, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", "--help"], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line.split(":", 1)[1].split("|")
        if len(name) - len(name.lstrip()) == 3:  # what bot.cli pulls in directly
            rows.append((int(cumulative) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:top]


def steps() -> None:
    """``staff list`` step by step, in this (fresh) process: CPU seconds of each import and of the work."""
    last = [time.process_time()]

    def lap(label: str) -> None:
        now = time.process_time()
        print(f"  {label:42} {now - last[0]:6.3f}")
        last[0] = now

    print(f"  {'interpreter':42} {last[0]:6.3f}")
    import bot.cli  # noqa: F401  (click, babel, the command line)
    from bot.cli_language import t, use

    use("de")
    t("No staff yet.")
    lap("click, babel, bot.cli, the catalog")
    import sqlalchemy  # noqa: F401
    import sqlalchemy.orm  # noqa: F401

    lap("SQLAlchemy and its ORM")
    from storage.models import StaffMember

    lap("the models")
    from bot import config, wiring

    app = wiring.build(config.load())
    lap("connect, migration and key check")
    with app.sessions.begin() as session:
        list(session.scalars(sqlalchemy.select(StaffMember)))
    lap("the first query (configures the mappers)")
    print(f"  {'total':42} {time.process_time():6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--imports", action="store_true")
    parser.add_argument("--steps", action="store_true")
    parser.add_argument("--steps-here", action="store_true", help=argparse.SUPPRESS)  # the child of --steps
    options = parser.parse_args()
    if options.steps_here:
        steps()
        return
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/bench.db", "WEGBEGLEITER_DATA_DIR": folder,
               "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "bot", "init"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "wegbegleiter --help": [sys.executable, "-m", "bot", "--help"],
            "wegbegleiter --version": [sys.executable, "-m", "bot", "--version"],
            "wegbegleiter case --help": [sys.executable, "-m", "bot", "case", "--help"],
            "wegbegleiter outbox status": [sys.executable, "-m", "bot", "outbox", "status"],
            "wegbegleiter staff list": [sys.executable, "-m", "bot", "staff", "list"],
        }
        load = os.getloadavg()[0]
        print(f"{'command':30} {'median':>8} {'best':>8} {'CPU':>8}   ({options.runs} runs, load {load:.1f})")
        for label, args in commands.items():
            timed(args, env, 1)  # writes the bytecode
            wall, cpu = timed(args, env, options.runs)
            print(f"{label:30} {statistics.median(wall):7.2f}s {min(wall):7.2f}s {statistics.median(cpu):7.2f}s")
        if options.steps:
            print(f"\nstaff list step by step, CPU s (load {os.getloadavg()[0]:.1f}):", flush=True)
            subprocess.run([sys.executable, __file__, "--steps-here"], env=env, cwd=ROOT, check=True)
        if options.imports:
            print("\nslowest imports of --help (cumulative s):")
            for seconds, name in slowest_imports(env):
                print(f"  {seconds:6.3f}  {name}")


if __name__ == "__main__":
    main()
