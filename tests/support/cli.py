"""The operators' CLI in tests: the real command tree through click's runner, its own SQLite data folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli


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
