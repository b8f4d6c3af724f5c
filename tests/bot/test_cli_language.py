"""The CLI speaks the operator's language (WEGBEGLEITER_CLI_LANGUAGE, German by default), never a mix."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from bot import i18n_tool
from conversations.i18n import catalog_dir
from tests.support.cli import wegbegleiter


def test_output_and_errors_are_german_by_default_and_english_when_set(tmp_path: Path):
    assert wegbegleiter(tmp_path, "init").stdout == "Die Datenbank ist bereit.\n"
    assert wegbegleiter(tmp_path, "case", "list").stdout == "Noch keine Fälle.\n"
    assert wegbegleiter(tmp_path, "case", "list", WEGBEGLEITER_CLI_LANGUAGE="en").stdout == "No cases yet.\n"
    wrong = wegbegleiter(tmp_path, "case", "show", "F-1999-0001")
    assert wrong.returncode == 1
    assert wrong.stderr == ("Fehler: kein Fall 'F-1999-0001' (geben Sie das Aktenzeichen an, z. B. F-2027-0001, "
                            "oder die ID)\n")
    english = wegbegleiter(tmp_path, "case", "show", "F-1999-0001", WEGBEGLEITER_CLI_LANGUAGE="en")
    assert english.stderr == "Error: no case 'F-1999-0001' (give its reference, e.g. F-2027-0001, or its id)\n"


def test_the_language_may_come_from_the_settings_file(tmp_path: Path):
    toml = tmp_path / "wb.toml"
    toml.write_text('cli_language = "en"\n')
    assert wegbegleiter(tmp_path, "init", WEGBEGLEITER_CONFIG=str(toml)).stdout == "The database is ready.\n"


def test_help_and_clicks_own_words_are_in_the_same_language(tmp_path: Path):
    german = wegbegleiter(tmp_path, "case", "add", "--help").stdout
    assert german.startswith("Aufruf: wegbegleiter case add")
    assert "Einen Fall anlegen und sein Team zuordnen." in german
    assert "Optionen:" in german and "Aktenzeichen (Vorgabe: F-<Jahr>-<Nummer>)." in german
    assert "Diese Hilfe anzeigen und beenden." in german and "Show this message" not in german
    english = wegbegleiter(tmp_path, "case", "add", "--help", WEGBEGLEITER_CLI_LANGUAGE="en").stdout
    assert "Create a case and assign its team." in english and "Options:" in english
    missing = wegbegleiter(tmp_path, "case", "add")
    assert missing.returncode == 2 and "Fehler: Fehlendes Argument 'TITLE'." in missing.stderr
    nowhere = wegbegleiter(tmp_path, "member", "import", "nix.csv")  # click names the path type at import
    assert "Datei 'nix.csv' gibt es nicht." in nowhere.stderr
    assert "File 'nix.csv' does not exist." in wegbegleiter(tmp_path, "member", "import", "nix.csv",
                                                            WEGBEGLEITER_CLI_LANGUAGE="en").stderr


def test_a_setting_that_is_wrong_is_reported_in_the_operators_language(tmp_path: Path):
    result = wegbegleiter(tmp_path, "init", LOG_LEVEL="LOUD", WEGBEGLEITER_CLI_LANGUAGE="en")
    assert result.stderr == "Error: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got 'LOUD')\n"


def test_the_cli_catalog_is_complete_and_current(tmp_path, monkeypatch):
    assert [str(p) for p in i18n_tool.check(domain="cli")] == []
    committed = {m.id for m in read_po((catalog_dir() / "cli.pot").open("rb")) if m.id}
    monkeypatch.setattr(i18n_tool, "catalog_dir", lambda: tmp_path)
    fresh = {m.id for m in read_po(i18n_tool.extract_cli().open("rb")) if m.id}
    assert fresh - committed == set(), "run `wegbegleiter i18n update` and translate the new CLI messages (cli.po)"
