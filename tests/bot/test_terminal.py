"""The terminal chat as a newcomer meets it: `demo`, `chat --as NAME`, messages that arrive while nobody types,
and no log line in the conversation."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from bot.channels import console
from conversations import admin
from conversations import appointments as appts
from conversations.clock import ManualClock, berlin
from storage.models import Case
from tests.support.cli import cli_env, wegbegleiter


def test_chat_as_a_name_opens_that_persons_chat_and_links_it_the_first_time(tmp_path: Path):
    assert wegbegleiter(tmp_path, "demo", "--no-chat").returncode == 0
    # Ayşe's chat does not exist yet: her code is sent for her, she picks Türkçe and accepts the notice.
    linking = wegbegleiter(tmp_path, "chat", "--as", "ayse", input="4\n1\n")
    assert linking.returncode == 0, linking.stderr
    assert "Merhaba Ayşe" in linking.stdout and "Bu sohbet artık bağlı" in linking.stdout
    # Next time the same chat opens at once, whichever way her name is typed.
    again = wegbegleiter(tmp_path, "chat", "--as", "Ayşe Yılmaz", input="/yardım\n")
    assert "Merhaba Ayşe" not in again.stdout and "/verilerim" in again.stdout
    # demo again: the same people, nothing twice, and the way back into Ayşe's chat.
    second = json.loads(wegbegleiter(tmp_path, "demo", "--no-chat", "--json").stdout)
    assert second["linked"] == [{"who": "Ayşe Yılmaz", "chat": "wegbegleiter chat --as 'Ayşe Yılmaz'"}]
    assert not any(invite["who"].startswith("Ayşe") for invite in second["invites"])
    assert len(json.loads(wegbegleiter(tmp_path, "case", "list", "--json").stdout)) == 2
    assert "wegbegleiter chat --as 'Ayşe Yılmaz'" in wegbegleiter(tmp_path, "demo", "--no-chat").stdout


def test_a_name_that_fits_several_people_or_nobody_gets_the_names(tmp_path: Path):
    wegbegleiter(tmp_path, "demo", "--no-chat")
    several = wegbegleiter(tmp_path, "chat", "--as", "Yilmaz")
    assert several.returncode == 1 and several.stderr.count("\n") == 1
    assert all(name in several.stderr for name in ("Ayşe Yılmaz", "Murat Yılmaz", "Emre Yılmaz", "Leyla Yılmaz"))
    nobody = wegbegleiter(tmp_path, "chat", "--as", "Zoe", WEGBEGLEITER_CLI_LANGUAGE="en")
    assert nobody.returncode == 1 and nobody.stderr.startswith("Error: nobody here is called 'Zoe'; people: ")
    assert "Jana Weber" in nobody.stderr and "Olga Petrenko" in nobody.stderr


async def until(seen: Callable[[], bool]) -> None:
    async def wait() -> None:
        while not seen():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout=20)


async def test_what_others_send_appears_while_nobody_types(app, codes, clock: ManualClock):
    shown: list[str] = []
    linking = console.ConsoleSession(app, "Ayşe", shown.append)
    for typed in (codes["Ayşe"], "1", "1"):  # her code, Deutsch, accept
        await linking.say(typed)
    waiting, stop_reading = threading.Event(), threading.Event()

    def reads_but_does_not_type(_prompt: str) -> str:
        waiting.set()
        stop_reading.wait(30)
        raise EOFError

    chat = asyncio.create_task(console.chat_loop(app, "Ayşe", read=reads_but_does_not_type, write=shown.append,
                                                 prompt=lambda: None, poll=0.01, tasks_every=0))
    await until(waiting.is_set)  # the terminal waits for Ayşe to type, and she does not
    # Jana enters a visit for Wednesday 11:00 (CLI or chat): Ayşe is told at once.
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        appts.create_appointment(session, app.services, admin.Actor("cli"), case, "hausbesuch",
                                 berlin(2027, 3, 3, 11, 0), 60, admin.team(case), appts.default_members(case))
    await until(lambda: any("Neuer Termin: Hausbesuch" in text for text in shown))
    # Two days before, the scheduler's reminder arrives too, still without her typing.
    clock.set(berlin(2027, 3, 1, 11, 5))
    await until(lambda: any("Zur Erinnerung an Ihren Termin: Hausbesuch" in text for text in shown))
    stop_reading.set()
    await chat


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_log_lines_stay_out_of_the_terminal_chat(tmp_path: Path):
    # The real program, as a newcomer starts it: the demo also serves the staff console, which logs at INFO.
    env = cli_env(tmp_path, LOG_LEVEL="INFO", HTTP_LISTEN=f"127.0.0.1:{free_port()}")
    result = subprocess.run([sys.executable, "-m", "bot", "demo"], input="/hilfe\n", capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "/hilfe" in result.stdout  # the chat ran
    assert " INFO " not in result.stdout and result.stderr == ""
    assert "web endpoint on" in (tmp_path / "data" / "wegbegleiter.log").read_text()
    assert os.stat(tmp_path / "data" / "wegbegleiter.log").st_mode & 0o077 == 0


def test_the_demo_brings_a_month_to_try_once(tmp_path: Path):
    """The demo is a month in the Yılmaz family's help around today: Tuesday visits (past ones recorded),
    a budget, goals and a Meilensteingespräch with Sabine Roth; running demo again adds nothing twice."""
    wegbegleiter(tmp_path, "demo", "--no-chat")
    wegbegleiter(tmp_path, "demo", "--no-chat")
    murat = wegbegleiter(tmp_path, "chat", "--as", "Murat", input="1\n1\nMeine Termine\n")
    listed = murat.stdout.split("Ihre nächsten Termine", 1)[1]
    assert listed.count(", 10:00 Hausbesuch") == 6 and ", 14:00 Meilensteingespräch" in listed
    appointments = json.loads(wegbegleiter(tmp_path, "appointments", "list", "F-2026-0001", "--json").stdout)
    assert sum(1 for a in appointments if a["outcome"] == "took_place") == 2
