"""Memory of a running bot, and the CPU of one engine turn.

    .venv/bin/python bench/footprint.py [--families 10000] [--turns 400] [--only rss|turn]

RSS: ``wegbegleiter run`` as its own process, connected to the Telegram stand-in (in this process), on a
fresh SQLite database: once empty, once with ``--families`` families (3 members each, two linked by
Telegram, 10 appointments each around now). The bot starts, runs every periodic scan once (the scheduler
starts them at once) and idles; printed: the resident memory (VmRSS) after 25 s, and its peak (VmHWM).

Engine turn: ``Engine.handle`` in this process on SQLite, a linked parent opening the menu and choosing its
first option by number, in turn (every turn changes the state and writes a reply); printed: the CPU time per
turn (``time.process_time``), median and p95, after 20 warm-up turns.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from bot.app import build  # noqa: E402
from conversations.clock import ManualClock, berlin  # noqa: E402
from conversations.messages import Incoming  # noqa: E402
from conversations.settings import Settings  # noqa: E402
from storage.models import (  # noqa: E402
    Appointment,
    Case,
    CaseAssignment,
    ChatIdentity,
    FamilyMember,
    Organisation,
    StaffMember,
    StaffRole,
)
from tests.support.telegram_standin import BotApiStandIn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-long-enough-0123456789"
TOKEN = "4242:FOOTPRINT"


def seed(app, families: int) -> None:  # type: ignore[no-untyped-def]
    now = app.services.clock.now()
    with app.db.begin() as conn:
        org = conn.execute(insert(Organisation).values(name="Bench e. V.", settings={}, created_at=now)
                           .returning(Organisation.id)).scalar_one()
        staff = max(1, families // 50)
        conn.execute(insert(StaffMember), [{"id": i, "organisation_id": org, "name": f"Fachkraft {i}",
                                            "language": "de", "active": True, "created_at": now}
                                           for i in range(1, staff + 1)])
        conn.execute(insert(StaffRole), [{"staff_id": i, "role": "fachkraft"} for i in range(1, staff + 1)])
        conn.execute(insert(Case), [{"id": c, "organisation_id": org, "reference": f"B-{c}", "title": f"Familie {c}",
                                     "created_at": now} for c in range(1, families + 1)])
        conn.execute(insert(FamilyMember), [{"id": 3 * c - k, "case_id": c, "first_name": f"Person {k}",
                                             "kind": "child" if k == 0 else "parent", "language": "de",
                                             "consent_at": now, "created_at": now}
                                            for c in range(1, families + 1) for k in (0, 1, 2)])
        conn.execute(insert(ChatIdentity), [{"channel": "telegram", "address": str(500_000 + m), "member_id": m,
                                             "linked_at": now} for c in range(1, families + 1)
                                            for m in (3 * c - 1, 3 * c - 2)])
        conn.execute(insert(CaseAssignment), [{"case_id": c, "staff_id": 1 + c % staff, "role": "fachkraft",
                                               "since": now} for c in range(1, families + 1)])
        for start in range(1, families + 1, 1000):
            conn.execute(insert(Appointment), [
                {"case_id": c, "kind": "hausbesuch", "starts_at": now + timedelta(weeks=w, days=c % 5),
                 "duration_minutes": 90, "outcome": "planned" if w >= 0 else "took_place",
                 "ics_uid": f"{c}-{w}@bench", "ics_sequence": 0, "created_at": now - timedelta(weeks=8)}
                for c in range(start, min(families + 1, start + 1000)) for w in range(-6, 4)])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss(families: int, standin: BotApiStandIn, seconds: float) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bot.db"
        settings = Settings(data_dir=folder, database_url=url, secret_key=SECRET, log_level="WARNING")
        app = build(settings, ManualClock(berlin(2027, 6, 1, 11, 0)), init=True)
        if families:
            seed(app, families)
        app.db.dispose()
        env = {**os.environ, "DATABASE_URL": url, "WEGBEGLEITER_DATA_DIR": folder, "WEGBEGLEITER_SECRET_KEY": SECRET,
               "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": standin.base_url, "HTTP_LISTEN": f"127.0.0.1:{free_port()}",
               "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules load from their bytecode
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(seconds)
            if bot.poll() is not None:
                sys.exit(f"the bot stopped: {bot.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            status = Path(f"/proc/{bot.pid}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024
        finally:
            bot.terminate()
            bot.wait(30)


def engine_turns(turns: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder}/turns.db", secret_key=SECRET,
                            log_level="WARNING")
        app = build(settings, ManualClock(berlin(2027, 6, 1, 11, 0)), init=True)
        seed(app, 1)
        address = "500002"  # a linked parent
        took = []
        for i in range(turns + 20):
            incoming = Incoming(channel="telegram", address=address, event_id=f"e{i}",
                                received_at=app.services.clock.now(), text="/menue" if i % 2 == 0 else "1")
            start = time.process_time()
            app.engine.handle(incoming)
            if i >= 20:
                took.append(time.process_time() - start)
        return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=25)
    parser.add_argument("--only", choices=("rss", "turn"), help="run one part of the bench (to iterate on it)")
    options = parser.parse_args()
    if options.only != "rss":
        took = sorted(engine_turns(options.turns))
        print(f"engine turn CPU: median {statistics.median(took) * 1000:.1f} ms, "
              f"p95 {took[int(len(took) * 0.95)] * 1000:.1f} ms ({len(took)} turns)", flush=True)
    if options.only == "turn":
        print(f"load average {os.getloadavg()[0]:.1f}")
        return
    standin = BotApiStandIn().start()
    for families in (0, options.families):
        now, peak = rss(families, standin, options.seconds)
        print(f"RSS with {families:>6} families: {now} MB (peak {peak} MB)", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
