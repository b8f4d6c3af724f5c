"""SQLite side by side: a `wegbegleiter run` process answers a Telegram chat while `appointments import` writes.

    .venv/bin/python bench/sqlite_side_by_side.py [APPOINTMENTS]

Prints the reply time alone, the import's duration, the reply times while it runs (one question a
second, from 8 s after the import started, when it is writing), and how many of the bot's log lines
said "database is locked". The bot talks to the Telegram stand-in of the tests.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.forward import free_port  # noqa: E402
from tests.support.telegram_standin import BotApiStandIn  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    standin = BotApiStandIn().start()
    folder = tempfile.mkdtemp()
    env = {**os.environ, "WEGBEGLEITER_DATA_DIR": f"{folder}/data", "DATABASE_URL": "", "LOG_FORMAT": "json",
           "LOG_LEVEL": "WARNING", "TELEGRAM_BOT_TOKEN": "4242:T", "TELEGRAM_API_BASE_URL": standin.base_url,
           "HTTP_LISTEN": f"127.0.0.1:{free_port()}"}
    for args in (["init"], ["demo", "--no-chat", "--json"]):
        subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=folder, check=True, capture_output=True)
    csv = Path(folder) / "appointments.csv"
    first = datetime.datetime(2027, 4, 1, 9)
    csv.write_text("case,start,minutes\n" + "".join(
        f"F-2026-0001,{first + datetime.timedelta(days=i):%Y-%m-%d %H:%M},60\n" for i in range(count)))
    with open(f"{folder}/bot.log", "w") as log:
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=folder, stderr=log)
    while not standin.calls_of("getUpdates"):
        time.sleep(0.1)

    def ask(chat: int) -> float:
        started, before = time.monotonic(), len(standin.messages(chat))
        standin.say(chat, "hallo")
        while len(standin.messages(chat)) == before:
            time.sleep(0.01)
        return time.monotonic() - started

    print(f"reply alone: {ask(9001):.2f} s")
    started = time.monotonic()
    importing = subprocess.Popen([sys.executable, "-m", "bot", "appointments", "import", str(csv), "--json"],
                                 env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(8)  # the CLI has started and is writing
    waits: list[float] = []
    while importing.poll() is None and len(waits) < 8:
        waits.append(ask(9002 + len(waits)))
        time.sleep(1)
    importing.wait()
    print(f"import of {count} appointments: {time.monotonic() - started:.1f} s, exit {importing.returncode}")
    print("replies during the import: " + ", ".join(f"{w:.2f} s" for w in waits))
    bot.terminate()
    bot.wait(30)
    lines = Path(f"{folder}/bot.log").read_text().splitlines()
    locked = sum("database is locked" in line for line in lines)
    print(f"bot log lines at WARNING or above: {len(lines)}, 'database is locked': {locked}")


if __name__ == "__main__":
    main()
