"""Settings and the operators' CLI: clear one-line errors, --json everywhere it matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import config
from bot.cli import cli
from conversations.settings import describe


def test_defaults_run_without_any_setting():
    settings = config.load({})
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.quiet_hours == "20:00-08:00"


@pytest.mark.parametrize(("env", "message"), [
    ({"INVITE_TTL_DAYS": "zwei"}, "INVITE_TTL_DAYS must be a whole number"),
    ({"QUIET_HOURS": "abends"}, "QUIET_HOURS must look like 20:00-08:00"),
    ({"SMTP_STARTTLS": "vielleicht"}, "SMTP_STARTTLS must be true or false"),
    ({"MATRIX_HOMESERVER": "http://127.0.0.1:8008"}, "set both MATRIX_HOMESERVER and MATRIX_USER_ID"),
    ({"WEGBEGLEITER_SECRET_KEY": "short"}, "at least 32 characters"),
    ({"WEGBEGLEITER_CONFIG": "/nonexistent.toml"}, "does not exist"),
])
def test_a_wrong_setting_names_what_to_set(env, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load(env)


def test_toml_file_is_read_and_environment_wins(tmp_path: Path):
    toml = tmp_path / "wb.toml"
    toml.write_text('invite_ttl_days = 7\nquiet_hours = "21:00-07:00"\n')
    settings = config.load({"WEGBEGLEITER_CONFIG": str(toml), "INVITE_TTL_DAYS": "3"})
    assert settings.invite_ttl_days == 3 and settings.quiet_hours == "21:00-07:00"


def test_the_readme_documents_every_setting():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [row["env"] for row in describe() if f"`{row['env']}`" not in readme]
    assert missing == []


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "WEGBEGLEITER_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}
    env["DATABASE_URL"] = ""  # empty means unset: the CLI test uses its own SQLite file
    return env


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def wegbegleiter(tmp_path: Path, *args: str) -> Run:
    """The CLI in this process (click's runner): same commands, same output, no interpreter start-up."""
    result = CliRunner().invoke(cli, list(args), env=cli_env(tmp_path), catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def test_cli_refuses_an_unmigrated_database_with_one_line(tmp_path: Path):
    # A real process once: the installed entry point, its exit status and stderr.
    result = subprocess.run([sys.executable, "-m", "bot", "case", "list"], capture_output=True, text=True,
                            env=cli_env(tmp_path), cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip() == ("Error: the database is not set up or is older than this version: "
                                     "run `wegbegleiter init`")


def test_cli_creates_a_case_with_team_and_an_invite_letter(tmp_path: Path):
    assert wegbegleiter(tmp_path, "init").returncode == 0
    org = json.loads(wegbegleiter(tmp_path, "org", "add", "Brücke e.V.", "--phone", "0391 555 0100", "--json").stdout)
    jana = json.loads(wegbegleiter(tmp_path, "staff", "add", "Jana Weber", "--role", "fachkraft", "--json").stdout)
    assert len(jana["code"]) == 12 and jana["telegram_link"].startswith("https://t.me/")
    case = json.loads(wegbegleiter(tmp_path, "case", "add", "Familie Yılmaz", "--reference", "F-2027-0001",
                                   "--fachkraft", str(jana["id"]), "--json").stdout)
    assert case["organisation"] == org["name"] and case["staff"][0]["name"] == "Jana Weber"
    letter = tmp_path / "ayse.pdf"
    ayse = json.loads(wegbegleiter(tmp_path, "member", "add", "F-2027-0001", "Ayşe", "--last-name", "Yılmaz",
                                   "--language", "tr", "--letter", str(letter), "--json").stdout)
    assert letter.read_bytes().startswith(b"%PDF") and ayse["case"] == "F-2027-0001"
    shown = json.loads(wegbegleiter(tmp_path, "case", "show", "F-2027-0001", "--json").stdout)
    assert [m["name"] for m in shown["members"]] == ["Ayşe Yılmaz"]
    wrong = wegbegleiter(tmp_path, "staff", "add", "X", "--role", "chef")
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1 and "not a role: chef" in wrong.stderr
