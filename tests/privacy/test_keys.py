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


# --- keys rotate -----------------------------------------------------------------------------------------
def tokens(engine) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every stored token of every encrypted column, as the database holds it."""
    from sqlalchemy import Text, cast, select

    from storage.keys import encrypted_columns

    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table, column in encrypted_columns():
            raw = cast(column, Text)
            values = [v for v in conn.execute(select(raw).where(raw.is_not(None), raw != "")).scalars()]
            if values:
                found[f"{table.name}.{column.name}"] = values
    return found


def test_keys_rotate_is_interrupted_then_finished_and_only_the_new_key_opens_anything(bot, codes, app, clock):
    """Ayşe's chat, a complaint and an alert are encrypted; the rotation stops after its first batch
    (Ctrl-C), start-up is refused with one line, a second run finishes, the old key is refused."""
    from dataclasses import replace

    import pytest

    from bot.app import build
    from conversations.messages import Attachment
    from storage import crypto, keys

    ayse = bot.link("ayse", codes["Ayşe"], "Deutsch")
    ayse.say("/beschwerde")
    ayse.press("Termine")
    ayse.say("Der Termin letzte Woche wurde ohne Bescheid abgesagt.")
    ayse.say(attachments=(Attachment("brief.pdf", "application/pdf", b"%PDF-1.4 brief"),))
    ayse.press("Das ist alles")
    ayse.press("Mit meinem Namen")
    ayse.press("Ja, bitte rufen Sie mich an")
    ayse.say("0391 123456")
    assert "B-2027-0001" in ayse.press("Abschicken")[0]
    ayse.say("ich halt das zuhause nicht mehr aus")
    old_secret, new_secret = app.settings.secret_key, "n" * 44
    before = tokens(app.db)
    assert sum(map(len, before.values())) > 10 and "escalation.facts" in before
    assert {"family_member.birth_date", "complaint_file.filename", "complaint_entry.text"} <= set(before)

    seen: list[str] = []

    def interrupt(column: str, _rows: int) -> None:
        seen.append(column)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        keys.rotate(app.db, old_secret, new_secret, clock.now(), batch=3, progress=interrupt)
    new_fernet, old_fernet = crypto.fernet_for(new_secret), crypto.fernet_for(old_secret)
    halfway = tokens(app.db)
    assert sum(crypto.opens(new_fernet, v) for vs in halfway.values() for v in vs) == 3
    for secret in (old_secret, new_secret):
        with pytest.raises(keys.WrongKey, match="rotation was interrupted"):
            build(replace(app.settings, secret_key=secret))

    with pytest.raises(keys.WrongKey, match="another key"):
        keys.rotate(app.db, old_secret, "x" * 44, clock.now())
    done = keys.rotate(app.db, old_secret, new_secret, clock.now(), batch=3)
    assert done.finished and done.resumed and sum(done.already.values()) == 3
    after = tokens(app.db)
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    assert all(crypto.opens(new_fernet, v) and not crypto.opens(old_fernet, v) for vs in after.values() for v in vs)

    with pytest.raises(keys.WrongKey, match="nicht der Schlüssel|not the key"):
        build(replace(app.settings, secret_key=old_secret))
    rotated = build(replace(app.settings, secret_key=new_secret), clock)
    try:
        from sqlalchemy import select

        from storage.models import ComplaintEntry, Escalation, FamilyMember

        with rotated.sessions() as session:
            assert "ohne Bescheid" in " ".join(e.text for e in session.scalars(select(ComplaintEntry)))
            alert = session.scalar(select(Escalation).where(Escalation.kind == "child_protection"))
            assert "zuhause" in (alert.message or "") and alert.facts
            assert any(m.birth_date for m in session.scalars(select(FamilyMember)))
    finally:
        rotated.db.dispose()
        crypto.configure(old_secret)  # the other fixtures' key, for their clean-up


def test_keys_rotate_from_the_command_line_replaces_the_key_file(tmp_path: Path):
    assert wegbegleiter(tmp_path, "demo", "--no-chat").returncode == 0
    key_file = tmp_path / "data" / "secret.key"
    old_key = key_file.read_text().strip()
    cases = json.loads(wegbegleiter(tmp_path, "case", "list", "--json").stdout)

    result = wegbegleiter(tmp_path, "keys", "rotate", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["finished"] and sum(report["reencrypted"].values()) > 0
    assert key_file.read_text().strip() != old_key and mode(key_file) == 0o600
    assert not (tmp_path / "data" / "secret.key.next").exists()
    assert json.loads(wegbegleiter(tmp_path, "case", "list", "--json").stdout) == cases

    again = wegbegleiter(tmp_path, "keys", "rotate")
    assert again.returncode == 0 and "neuen Schlüssel" in again.stdout

    key_file.write_text(old_key)
    refused = wegbegleiter(tmp_path, "case", "list")
    assert refused.returncode == 1 and "ist nicht der Schlüssel" in refused.stderr


def test_keys_rotate_with_the_key_in_the_environment_needs_the_new_one_there_too(tmp_path: Path):
    assert run_with_key(tmp_path, KEY_A, "init").exit_code == 0
    assert run_with_key(tmp_path, KEY_A, "org", "add", "Brücke e.V.").exit_code == 0
    missing = run_with_key(tmp_path, KEY_A, "keys", "rotate")
    assert missing.exit_code == 1 and "WEGBEGLEITER_NEW_SECRET_KEY" in missing.stderr

    from click.testing import CliRunner

    from bot.cli import cli

    env = {**cli_env(tmp_path), "WEGBEGLEITER_SECRET_KEY": KEY_A, "WEGBEGLEITER_NEW_SECRET_KEY": KEY_B}
    done = CliRunner().invoke(cli, ["keys", "rotate"], env=env, catch_exceptions=False)
    assert done.exit_code == 0 and "WEGBEGLEITER_SECRET_KEY" in done.stdout
    assert run_with_key(tmp_path, KEY_B, "case", "list").exit_code == 0
    assert run_with_key(tmp_path, KEY_A, "case", "list").exit_code == 1


def test_the_readme_lists_every_encrypted_column_and_no_other():
    """The data-protection officer's list of what is encrypted at rest stays true when a column is added."""
    import re

    from storage.keys import encrypted_columns

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("**Encrypted at rest**", 1)[1].split("**In clear, and why**", 1)[0]
    listed = set(re.findall(r"`([a-z_]+\.[a-z_0-9]+)`", section))
    assert listed == {f"{table.name}.{column.name}" for table, column in encrypted_columns()}
