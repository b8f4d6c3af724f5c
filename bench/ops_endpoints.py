"""What a scrape costs: /healthz, /readyz and /metrics over real HTTP with a large outbox.

    .venv/bin/python bench/ops_endpoints.py [--outbox 100000] [--requests 20]

Builds a fresh SQLite database (or empties DATABASE_URL's) with the demo and ``--outbox`` outbox rows
(one in ten still waiting, the rest sent), serves the web application on a free port and prints the
median and worst time of each endpoint, measured from the client.
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

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import demo  # noqa: E402
from bot.app import build  # noqa: E402
from conversations.clock import SystemClock  # noqa: E402
from conversations.settings import Settings  # noqa: E402
from storage import crypto  # noqa: E402
from storage.models import OutboxMessage, OutboxStatus  # noqa: E402
from tests.conftest import empty_database  # noqa: E402
from tests.support.web import serving  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outbox", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db"
    settings = Settings(data_dir=folder, database_url=url, secret_key="bench-secret-key-that-is-long-enough-0123",
                        log_level="WARNING")
    app = build(settings, SystemClock(), init=True)
    empty_database(url)
    now = app.services.clock.now()
    with app.sessions.begin() as session:
        demo.seed(session, app.services.clock, settings.invite_ttl_days)
    sealed = crypto.encrypt("Erinnerung")  # the column holds ciphertext
    rows = [{"channel": "telegram", "address": str(1000 + i % 5000), "kind": "reminder", "text": sealed,
             "choices": [], "language": "de", "urgent": False, "attempts": 0,
             "status": OutboxStatus.PENDING if i % 10 == 0 else OutboxStatus.SENT,
             "next_attempt_at": now - timedelta(minutes=i % 60), "created_at": now - timedelta(hours=1)}
            for i in range(args.outbox)]
    with app.db.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(OutboxMessage.__table__), rows[start:start + 10_000])
    print(f"{app.db.dialect.name}, {args.outbox} outbox rows ({args.outbox // 10} waiting), {args.requests} requests each")
    with serving(app) as (_served, base), httpx.Client(base_url=base, timeout=30) as http:
        for path in ("/healthz", "/readyz", "/metrics"):
            http.get(path)  # warm up (the migrations' heads are read once)
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                answer = http.get(path)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
            print(f"{path:9} median {statistics.median(times) * 1000:6.1f} ms   worst {max(times) * 1000:6.1f} ms")
    app.db.dispose()


if __name__ == "__main__":
    main()
