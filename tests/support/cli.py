"""The operators' CLI in tests: the real command tree through click's runner, its own SQLite data folder."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import bot.wiring
from bot.cli import cli
from conversations.clock import ManualClock, berlin


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "WEGBEGLEITER_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}
    env["DATABASE_URL"] = ""  # empty means unset: the CLI test uses its own SQLite file
    env.pop("WEGBEGLEITER_CLI_LANGUAGE", None)  # German, the default, unless a test asks otherwise
    return {**env, **extra}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def wegbegleiter(tmp_path: Path, *args: str, input: str | None = None, **env: str) -> Run:  # noqa: A002
    """The CLI in this process (click's runner): same commands, same output, no interpreter start-up.
    ``input`` is what is typed (the terminal chat reads it line by line); keywords are settings."""
    result = CliRunner().invoke(cli, list(args), input=input, env=cli_env(tmp_path, **env), catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


Invoke = Callable[..., Any]  # invoke(*args, ok=True): the parsed --json output, or click's result


def cli_clock_at_start(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """Monday 1 March 2027, 09:00 Berlin, as the command line's clock (tests move it)."""
    clock = ManualClock(berlin(2027, 3, 1, 9, 0))
    monkeypatch.setattr(bot.wiring, "SystemClock", lambda: clock)
    return clock


def operator_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``invoke("case", "list", "--json")`` in the settings of :func:`cli_env`, from ``tmp_path``: asserts the
    exit code (``ok``) and parses ``--json`` output."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(cli, list(args), env=cli_env(tmp_path), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.stdout) if "--json" in args and ok else result

    return invoke


def yilmaz_case(invoke: Invoke) -> None:
    """A fresh database with Brücke e.V., Jana Weber and Familie Yılmaz (F-2027-0001) on her caseload."""
    invoke("init")
    invoke("org", "add", "Brücke e.V.")
    jana = invoke("staff", "add", "Jana Weber", "--role", "fachkraft", "--json")
    invoke("case", "add", "Familie Yılmaz", "--reference", "F-2027-0001", "--fachkraft", str(jana["id"]))
