"""Shared set-up of the Telegram benchmarks: the Bot API stand-in and a fresh app on its own database."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support is not installed

from bench.ports import web_listen  # noqa: E402
from bot.app import App, build  # noqa: E402
from conversations.settings import Settings  # noqa: E402
from storage.models import Base  # noqa: E402
from tests.support.telegram_standin import BotApiStandIn  # noqa: E402

TOKEN = "4242:BENCH"


def fresh_app(standin: BotApiStandIn) -> App:
    """SQLite in a temporary folder, or the database in DATABASE_URL (it is migrated, not emptied)."""
    data = tempfile.mkdtemp(prefix="wb-bench-")
    settings = Settings(data_dir=data, database_url=os.environ.get("DATABASE_URL", ""),
                        secret_key="bench-secret-key-that-is-long-enough-0123456789", log_level="WARNING",
                        telegram_bot_token=TOKEN, telegram_api_base_url=standin.base_url,
                        http_listen="{}:{}".format(*web_listen()))
    app = build(settings, init=True)
    logging.getLogger().setLevel(logging.WARNING)
    with app.db.begin() as conn:  # a reused DATABASE_URL starts empty, like a fresh SQLite file
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    return app
