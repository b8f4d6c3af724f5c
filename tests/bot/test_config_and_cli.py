"""Settings and the operators' CLI: clear one-line errors, --json everywhere it matters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import config
from conversations.settings import describe
from tests.support.cli import cli_env, wegbegleiter


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
    ({"DATABASE_URL": "bogus"}, "DATABASE_URL must be a database URL"),
    ({"DATABASE_URL": "mysql://root@db/wb"}, "DATABASE_URL must name PostgreSQL or SQLite"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of DEBUG, INFO"),
    ({"HTTP_LISTEN": "8080"}, "HTTP_LISTEN must be host:port"),
    ({"HTTP_LISTEN": "127.0.0.1:99999"}, "HTTP_LISTEN must be host:port"),
    ({"TELEGRAM_WEBHOOK_LISTEN": "0.0.0.0"}, "TELEGRAM_WEBHOOK_LISTEN must be host:port"),
    ({"PUBLIC_BASE_URL": "wegbegleiter.example.org"}, "PUBLIC_BASE_URL must be a URL starting with http"),
    ({"TELEGRAM_WEBHOOK_URL": "http://bot.example.org/hook"}, "TELEGRAM_WEBHOOK_URL must be a URL starting with https://"),
    ({"TELEGRAM_API_BASE_URL": "127.0.0.1:8081/bot"}, "TELEGRAM_API_BASE_URL must be a URL"),
    ({"MATRIX_HOMESERVER": "matrix.example.org", "MATRIX_USER_ID": "@bot:example.org", "MATRIX_PASSWORD": "x"},
     "MATRIX_HOMESERVER must be a URL"),
    ({"SMTP_PORT": "0"}, "SMTP_PORT must be a port"),
    ({"WEGBEGLEITER_CLI_LANGUAGE": "fr"}, "WEGBEGLEITER_CLI_LANGUAGE must be one of de, en"),
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


def test_cli_refuses_an_unmigrated_database_with_one_line(tmp_path: Path):
    # A real process once: the installed entry point, its exit status and stderr.
    result = subprocess.run([sys.executable, "-m", "bot", "case", "list"], capture_output=True, text=True,
                            env=cli_env(tmp_path), cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip() == ("Fehler: es gibt noch keine Datenbank: `wegbegleiter init` ausführen (oder "
                                     "`wegbegleiter demo`, um Wegbegleiter mit Demo-Daten auszuprobieren)")


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
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1 and "keine Rolle: chef" in wrong.stderr


@pytest.mark.parametrize(("setting", "variable"), [("DATABASE_URL=bogus", "DATABASE_URL"),
                                                   ("LOG_LEVEL=LOUD", "LOG_LEVEL"),
                                                   ("HTTP_LISTEN=irgendwo", "HTTP_LISTEN"),
                                                   ("PUBLIC_BASE_URL=http://bot.example:99999", "PUBLIC_BASE_URL"),
                                                   ("CONSOLE_IDLE_MINUTES=-5", "CONSOLE_IDLE_MINUTES"),
                                                   ("MILESTONE_YOUTH_AGE=0", "MILESTONE_YOUTH_AGE"),
                                                   ("SMTP_FROM=niemand", "SMTP_FROM")])
def test_a_wrong_setting_is_one_line_naming_its_variable(tmp_path: Path, setting: str, variable: str):
    name, _, value = setting.partition("=")
    result = wegbegleiter(tmp_path, "init", **{name: value})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"Fehler: {variable} muss")


def test_config_shows_the_values_in_effect_where_they_came_from_and_masks_secrets(tmp_path: Path):
    toml = tmp_path / "wb.toml"
    toml.write_text('invite_ttl_days = 7\nsmtp_password = "geheim-und-lang"\n')
    shown = json.loads(wegbegleiter(
        tmp_path, "config", "--json", WEGBEGLEITER_CONFIG=str(toml), QUIET_HOURS="21:00-07:00",
        WEGBEGLEITER_SECRET_KEY="k" * 40, DATABASE_URL="postgresql://wb:s3cret@db.example/wb").stdout)
    by_env = {row["env"]: row for row in shown}
    assert by_env["QUIET_HOURS"]["value"] == "21:00-07:00" and by_env["QUIET_HOURS"]["origin"] == "environment"
    assert by_env["INVITE_TTL_DAYS"]["value"] == 7 and by_env["INVITE_TTL_DAYS"]["origin"] == str(toml)
    assert by_env["SMTP_PORT"]["value"] == 587 and by_env["SMTP_PORT"]["origin"] == "default"
    assert by_env["WEGBEGLEITER_SECRET_KEY"]["value"] == "********"
    assert by_env["SMTP_PASSWORD"]["value"] == "********"
    assert by_env["DATABASE_URL"]["value"] == "postgresql://wb:***@db.example/wb"
    text = wegbegleiter(tmp_path, "config", WEGBEGLEITER_CONFIG=str(toml), WEGBEGLEITER_SECRET_KEY="k" * 40).stdout
    assert "k" * 40 not in text and "geheim" not in text
    line = next(row for row in text.splitlines() if row.startswith("INVITE_TTL_DAYS"))
    assert line.split()[1:] == ["7", "Datei", str(toml)]
    assert next(row for row in text.splitlines() if row.startswith("SMTP_PORT")).split()[1:] == ["587", "Vorgabe"]


def test_version(tmp_path: Path):
    from importlib.metadata import version

    result = wegbegleiter(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"wegbegleiter {version('wegbegleiter')}"


def test_a_postgresql_url_without_its_driver_names_the_install_command(tmp_path: Path):
    # The real entry point in a process where psycopg cannot be imported (as after `pip install -e .`).
    program = ("import sys; sys.modules['psycopg'] = None; sys.argv = ['wegbegleiter', 'init']; "
               "from bot.cli import main; main()")
    env = cli_env(tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/wb_nowhere",
                  WEGBEGLEITER_CLI_LANGUAGE="en")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr == ("Error: DATABASE_URL names PostgreSQL, but its driver is not installed: "
                             "pip install -e '.[postgres]'\n")


def test_help_starts_without_the_heavy_libraries(tmp_path: Path):
    # `wegbegleiter --help` (and any command that does not need them) must not pay for PDF, charts, the chat
    # networks' libraries, the migrations, the database, the models or the flows: each is imported where it is
    # used (speed: bench/startup.py).
    heavy = ("matplotlib", "openpyxl", "dateparser", "telegram", "nio", "alembic", "aiohttp", "holidays",
             "sqlalchemy", "storage.models", "conversations.engine", "bot.cli_access")
    program = ("import sys; sys.argv = ['wegbegleiter', '--help']\nfrom bot.cli import main\ntry:\n    main()\n"
               "except SystemExit:\n    pass\n"
               f"print(sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=cli_env(tmp_path),
                            cwd=tmp_path, timeout=120)
    assert result.stdout.startswith("Aufruf: wegbegleiter")
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_a_running_bot_starts_without_the_libraries_it_does_not_serve_with():
    # They cost a serving bot's memory (bench/footprint.py) until they are needed: fpdf with numpy and fontTools
    # (35 MB) until a turn draws a document, Jinja2 until someone opens the console, babel's catalog reader until
    # a catalog is not compiled, PostgreSQL's dialect until the database is PostgreSQL; HTTP/2, httpx's command
    # line are never used.
    heavy = ("fpdf", "numpy", "matplotlib", "openpyxl", "jinja2", "babel.messages", "h2", "pygments",
             "sqlalchemy.dialects.postgresql")
    program = ("import sys\nimport bot.app, bot.runner, bot.web\n"
               "from bot.channels.available import import_configured\n"
               "from conversations.settings import Settings\n"
               "import_configured(Settings(telegram_bot_token='4242:TOKEN'))  # as `wegbegleiter run` does\n"
               "assert 'bot.channels.telegram' in sys.modules\n"
               f"print(sorted(m for m in {heavy!r} if sys.modules.get(m) is not None))")  # None: marked absent
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_the_migration_heads_read_from_the_files_are_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.db import MIGRATIONS, code_heads

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert code_heads() == set(ScriptDirectory.from_config(cfg).get_heads())
