"""`wegbegleiter run` as a real process, the way an operator starts it: JSON log lines, the start line,
/healthz, and the CLI writing to the same SQLite file while the bot answers a chat.

The bot talks to the Telegram stand-in of this test session; its data folder is the test's own (SQLite,
also in the PostgreSQL run: side by side on one SQLite file is what is tested here).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.bot.test_telegram import TOKEN, shared_standin
from tests.support.cli import cli_env
from tests.support.forward import free_port

STRANGER = 7301


class Process:
    """A `wegbegleiter` process; its stderr lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, cwd=cwd, text=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, fragment: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if fragment in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line with {fragment!r}; got:\n" + "\n".join(self.lines[-20:]))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        self._reader.join(5)
        return code


def wait_until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="about SQLite: run once, in the SQLite pass")
def test_run_logs_json_names_its_bot_and_shares_the_sqlite_file_with_the_cli(tmp_path: Path):
    standin = shared_standin()
    standin.reset()
    port = free_port()
    env = cli_env(tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO", TELEGRAM_BOT_TOKEN=TOKEN,
                  TELEGRAM_API_BASE_URL=standin.base_url, HTTP_LISTEN=f"127.0.0.1:{port}")
    for setup in (["init"], ["demo", "--no-chat", "--json"]):
        subprocess.run([sys.executable, "-m", "bot", *setup], env=env, cwd=tmp_path, check=True,
                       capture_output=True, timeout=120)
    bot = Process(["run"], env, tmp_path)
    try:
        start = json.loads(bot.wait_for_line("serving"))
        assert start["level"] == "INFO" and start["logger"] == "bot.runner"
        assert start["channels"] == ["telegram"]
        assert start["telegram_bot"] == "@WegbegleiterBot" and start["telegram_mode"] == "polling"
        assert start["http_listen"] == f"127.0.0.1:{port}"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json() == {"status": "alive"}
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200)

        # The CLI writes (a series of appointments: one transaction of some seconds) while a person chats.
        csv = tmp_path / "appointments.csv"
        csv.write_text("case,start,minutes\n" + "".join(
            f"F-2026-0001,2027-05-{day:02d} 10:00,60\n" for day in range(1, 29)))
        importing = subprocess.Popen([sys.executable, "-m", "bot", "appointments", "import", str(csv), "--json"],
                                     env=env, cwd=tmp_path, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        for n in range(3):
            standin.say(STRANGER, f"Hallo {n}")
            wait_until(lambda n=n: len(standin.messages(STRANGER)) > n)
        out, err = importing.communicate(timeout=120)
        assert importing.returncode == 0, err
        assert len(json.loads(out)) == 28
        assert all("Code" in text for text in standin.texts(STRANGER)[:1])
    finally:
        code = bot.stop()
    assert code == 0
    for line in bot.lines:  # every line is one JSON object, nothing else on stderr
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(record)
    assert not [line for line in bot.lines if "database is locked" in line]
    assert not [line for line in bot.lines if json.loads(line)["level"] in ("ERROR", "CRITICAL")]
