"""Real `wegbegleiter run` processes for tests that kill them: started, killed with SIGKILL, started again.

Each instance gets its own data folder and log file; they share the test database and the Telegram stand-in.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import TEST_SECRET

TOKEN = "4242:TEST-TOKEN"


_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, and not handed out before (the processes bind them only later)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


@dataclass
class Instance:
    name: str
    folder: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    logs: list[Path] = field(default_factory=list)

    def start(self) -> Instance:
        assert self.process is None or self.process.poll() is not None
        self.starts += 1
        log = self.folder / f"run-{self.starts}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, cwd=self.folder)
        return self

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.kills += 1

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace") for p in self.logs if p.exists())

    def wait_for_log(self, words: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while words not in (self.logs[-1].read_text(errors="replace") if self.logs[-1].exists() else ""):
            if not self.alive:
                raise AssertionError(f"{self.name} exited:\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not log {words!r}:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)


def instance(name: str, tmp: Path, database_url: str, telegram_base_url: str, **extra: str) -> Instance:
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TELEGRAM_", "MATRIX_", "SMTP_", "WEGBEGLEITER_"))}
    env.update({
        "DATABASE_URL": database_url, "WEGBEGLEITER_DATA_DIR": str(folder / "data"),
        "WEGBEGLEITER_SECRET_KEY": TEST_SECRET, "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram_base_url, "HTTP_LISTEN": f"127.0.0.1:{free_port()}",
        "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", **extra,
    })
    return Instance(name, folder, env)
