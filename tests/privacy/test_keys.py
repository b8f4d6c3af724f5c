"""The key and the database file: private from the first byte, never a second key, nothing created by reading."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine
from tests.support.cli import cli_env, wegbegleiter

KEY_A = "a" * 40
KEY_B = "b" * 40


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_the_key_and_the_database_for_the_owner_only(tmp_path: Path):
    old_umask = os.umask(0o022)  # a usual umask: files would be 0644 if created the ordinary way
    try:
        assert wegbegleiter(tmp_path, "init").returncode == 0
        data = tmp_path / "data"
        engine = make_engine(f"sqlite:///{data}/wegbegleiter.db")
        with engine.begin() as conn:  # an open connection that wrote: SQLite's -wal and -shm files exist
            conn.execute(text("INSERT INTO processed_event (channel, event_id, at) VALUES ('t', 'e', '2027-03-01')"))
            files = sorted(p.name for p in data.iterdir())
            modes = {name: mode(data / name) for name in files}
        engine.dispose()
    finally:
        os.umask(old_umask)
    assert mode(data) == 0o700
    assert len((data / "secret.key").read_text()) >= 32
    assert modes == {"secret.key": 0o600, "wegbegleiter.db": 0o600, "wegbegleiter.db-shm": 0o600,
                     "wegbegleiter.db-wal": 0o600}


def test_reading_commands_create_no_key_and_no_database(tmp_path: Path):
    for args in (["--help"], ["config"], ["config", "--json"], ["case", "list"], ["outbox", "status"]):
        result = wegbegleiter(tmp_path, *args)
        assert not (tmp_path / "data").exists(), args
    assert result.returncode == 1 and "`wegbegleiter init` ausführen" in result.stderr


def run_with_key(tmp_path: Path, key: str, *args: str):
    from click.testing import CliRunner

    from bot.cli import cli

    env = {**cli_env(tmp_path), "WEGBEGLEITER_SECRET_KEY": key}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_a_wrong_key_stops_every_command_with_one_line_and_writes_nothing(tmp_path: Path):
    assert run_with_key(tmp_path, KEY_A, "init").exit_code == 0
    assert run_with_key(tmp_path, KEY_A, "org", "add", "Brücke e.V.").exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path}/data/wegbegleiter.db")
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_event")).scalar()
    for args in (["org", "add", "Zweiter Träger"], ["case", "list"], ["init"]):
        result = run_with_key(tmp_path, KEY_B, *args)
        assert result.exit_code == 1, args
        assert result.stderr == ("Fehler: WEGBEGLEITER_SECRET_KEY ist nicht der Schlüssel, mit dem diese Datenbank "
                                 "geschrieben wurde: setzen Sie den Schlüssel, mit dem sie angelegt wurde "
                                 "(nichts wurde geändert)\n")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == before
        assert conn.execute(text("SELECT count(*) FROM organisation")).scalar() == 1
    assert json.loads(run_with_key(tmp_path, KEY_A, "case", "list", "--json").stdout) == []


def test_a_replaced_key_file_is_named_in_the_line(tmp_path: Path):
    assert wegbegleiter(tmp_path, "init").returncode == 0
    key = tmp_path / "data" / "secret.key"
    key.write_text("c" * 48)
    result = wegbegleiter(tmp_path, "case", "list")
    assert result.returncode == 1 and f"Fehler: {key} ist nicht der Schlüssel" in result.stderr


def test_a_database_from_before_the_check_is_tested_with_what_it_encrypted(tmp_path: Path, bot, codes):
    """An existing database without the check row: its encrypted messages decide, then the row is written."""
    from bot.app import build
    from storage import keys

    ayse = bot.link("ayse", codes["Ayşe"], "Türkçe")
    assert ayse.seen  # the outbox holds encrypted texts now
    with bot.app.db.begin() as conn:
        conn.execute(text("DELETE FROM key_check"))
    from dataclasses import replace

    import pytest

    with pytest.raises(keys.WrongKey):
        build(replace(bot.app.settings, secret_key=KEY_B))
    assert keys.read_check(bot.app.db) is None
    build(bot.app.settings).db.dispose()
    assert keys.read_check(bot.app.db) is not None


def test_run_refuses_a_wrong_key_before_serving(tmp_path: Path):
    env = {**cli_env(tmp_path), "WEGBEGLEITER_SECRET_KEY": KEY_A}
    subprocess.run([sys.executable, "-m", "bot", "init"], env=env, cwd=tmp_path, check=True, capture_output=True,
                   timeout=120)
    env["WEGBEGLEITER_SECRET_KEY"] = KEY_B
    env["TELEGRAM_BOT_TOKEN"] = "123:abc"
    result = subprocess.run([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "ist nicht der Schlüssel, mit dem diese Datenbank" in result.stderr
