"""The operator's first hour: a Träger set up from CSV files, a case seen at a glance (issue 19)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot.wiring
from bot import config
from bot.app import build
from bot.cli import cli
from conversations.clock import ManualClock, berlin
from storage.models import Case, FamilyMember
from storage.models.escalations import Escalation
from tests.support.cli import wegbegleiter


@pytest.fixture
def cli_clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    clock = ManualClock(berlin(2027, 3, 1, 9, 0))  # Monday 1 March 2027
    monkeypatch.setattr(bot.wiring, "SystemClock", lambda: clock)
    return clock


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_clock: ManualClock):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WEGBEGLEITER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("DATABASE_URL", raising=False)  # its own SQLite file
    monkeypatch.delenv("WEGBEGLEITER_CLI_LANGUAGE", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.stdout) if "--json" in args else result

    invoke("init")
    invoke("org", "add", "Brücke e.V.")
    return invoke


def test_staff_and_families_from_csv_files_with_a_report_per_row(run, tmp_path: Path) -> None:
    staff_csv = tmp_path / "team.csv"
    staff_csv.write_text("Name;Rollen;E-Mail\nJana Weber;fachkraft;jana@bruecke.example\n"
                         "Tobias Klein;fachkraft leitung;\nOhne Rolle;;\n", encoding="utf-8")
    team = run("staff", "import", str(staff_csv), ok=False)  # one row is wrong: exit 1, the others are in
    assert team.stdout.splitlines()[0].startswith("Zeile 2: Jana Weber – Einladungscode ")
    assert "Zeile 4: Fehler – geben Sie mindestens eine Rolle an" in team.stdout
    assert "3 Zeilen: 2 angelegt, 0 schon vorhanden, 1 mit Fehlern" in team.stdout
    assert "Importing" not in team.output

    families = tmp_path / "familien.csv"
    families.write_text(
        "Fall;Familie;Fachkraft;Vorname;Nachname;Art;geboren;Sprache\n"
        "F-2027-0001;Familie Yılmaz;1;Ayşe;Yılmaz;Elternteil;;tr\n"
        "F-2027-0001;;;Emre;Yılmaz;Kind;04.05.2014;de\n"
        "F-2027-0001;;;Leyla;Yılmaz;Kind;31.02.2016;de\n"
        "F-2027-0099;;;Niemand;;;;de\n"
        "\n", encoding="utf-8")
    checked = run("member", "import", str(families), "--dry-run", ok=False)
    assert "Zeile 2: Ayşe Yılmaz (F-2027-0001) – würde angelegt" in checked.stdout
    assert "Zeile 3: Emre Yılmaz (F-2027-0001) – würde angelegt" in checked.stdout  # the case of line 2
    assert run("case", "list", "--json") == []

    letters = tmp_path / "briefe"
    report = run("member", "import", str(families), "--letters", str(letters), "--json", ok=False)
    assert [(r["line"], r["status"]) for r in report["rows"]] == [(2, "added"), (3, "added"), (4, "error"),
                                                                  (5, "error")]
    assert report["rows"][2]["problem"] == "Den 31.02.2016 gibt es nicht: Der Februar 2016 hat 29 Tage."
    assert report["rows"][3]["problem"].startswith("kein Fall 'F-2027-0099'")
    assert report["rows"][0]["case_created"] is True and len(report["rows"][0]["code"]) == 12
    assert sorted(p.name for p in letters.iterdir()) == ["0002-ayse-yilmaz.pdf", "0003-emre-yilmaz.pdf"]
    shown = run("case", "show", "F-2027-0001", "--json")
    assert [m["name"] for m in shown["members"]] == ["Ayşe Yılmaz", "Emre Yılmaz"]
    assert [s["name"] for s in shown["staff"]] == ["Jana Weber"]

    # The corrected file read again: what is there is skipped, the rest added.
    families.write_text(families.read_text(encoding="utf-8").replace("31.02.2016", "28.02.2016")
                        .replace("F-2027-0099;;;Niemand;;;;de\n", ""), encoding="utf-8")
    again = run("member", "import", str(families))
    assert "Zeile 2: übersprungen – Ayşe Yılmaz ist schon in F-2027-0001" in again.stdout
    assert "3 Zeilen: 1 angelegt, 2 schon vorhanden, 0 mit Fehlern" in again.stdout


def test_an_import_file_that_cannot_be_read_is_one_line(run, tmp_path: Path) -> None:
    wrong = tmp_path / "x.csv"
    wrong.write_text("Vorname,Lieblingsfarbe\nAyşe,blau\n", encoding="utf-8")
    result = run("member", "import", str(wrong), ok=False)
    assert result.stderr.count("\n") == 1 and "unbekannte Spalte(n) Lieblingsfarbe" in result.stderr
    wrong.write_text("Vorname\nAyşe\n", encoding="utf-8")
    assert "fehlt die Spalte(n) case" in run("member", "import", str(wrong), ok=False).stderr


def test_case_show_has_the_months_hours_what_is_open_and_what_comes_next(run, cli_clock: ManualClock) -> None:
    jana = run("staff", "add", "Jana Weber", "--role", "fachkraft", "--json")
    run("case", "add", "Familie Yılmaz", "--reference", "F-2027-0001", "--fachkraft", str(jana["id"]))
    run("member", "add", "F-2027-0001", "Emre", "--last-name", "Yılmaz", "--kind", "child")
    bare = run("case", "show", "F-2027-0001")
    assert "Stunden im März 2027: kein Budget festgelegt" in bare.stdout
    assert "Nächste Termine: keine geplant" in bare.stdout

    run("budget", "set", "F-2027-0001", "2027-03", "20")
    visits = run("appointments", "add", "F-2027-0001", "--start", "2027-03-02 10:00", "--minutes", "120",
                 "--weekly", "10", "--json")
    cli_clock.set(berlin(2027, 3, 24, 9, 0))
    for visit in visits[:3]:
        run("appointments", "outcome", str(visit["id"]), "no_show")
    app = build(config.load())
    with app.sessions.begin() as session:  # an alert as the chat raises it when Emre writes something alarming
        case = session.query(Case).one()
        emre = session.query(FamilyMember).one()
        session.add(Escalation(kind="child_protection", key="test:1", case_id=case.id, member_id=emre.id,
                               message="…", created_at=cli_clock.now(), facts={"source": "button"}))
    shown = run("case", "show", "F-2027-0001")
    lines = shown.stdout.splitlines()
    assert "Stunden im März 2027: 6 Std. von 20 Std. verbraucht (30 %), 14 Std. übrig, 4 Std. noch geplant" in lines
    assert any(line.startswith("  #") and "(Emre Yılmaz): `wegbegleiter alerts handle" in line for line in lines)
    escalation_line = lines.index("Offene Eskalationen (drei Termine ohne Mitwirkung):") + 1
    assert "`wegbegleiter escalations ack" in lines[escalation_line]
    upcoming = lines[lines.index("Nächste Termine:") + 1:]
    assert upcoming[0] == f"  #{visits[4]['id']} Hausbesuch: Dienstag, 30. März 2027, 10:00 (2 Std.)"
    assert upcoming[-1] == "  … und 1 weiterer: `wegbegleiter appointments list F-2027-0001`"
    data = run("case", "show", "F-2027-0001", "--json")
    assert (data["budget"]["used_hours"], len(data["open_alerts"]), len(data["open_escalations"])) == (6.0, 1, 1)
    assert [a["id"] for a in data["next_appointments"]] == [v["id"] for v in visits[4:9]]
    assert data["more_appointments"] == 1


def test_run_without_a_chat_network_says_so_in_the_operators_language(run) -> None:
    result = run("run", ok=False)
    assert result.stderr == ("Fehler: kein Chat-Netz eingerichtet: TELEGRAM_BOT_TOKEN oder MATRIX_HOMESERVER setzen "
                             "(oder `wegbegleiter demo` ausprobieren, um im Terminal zu chatten)\n")


def test_a_wrong_month_is_named_in_the_operators_language(run) -> None:
    run("case", "add", "Familie Yılmaz", "--reference", "F-2027-0001")
    assert run("budget", "set", "F-2027-0001", "2027-13", "20", ok=False).stderr == (
        "Fehler: '2027-13' ist kein Monat wie 2027-03\n")

def test_the_demo_console_moves_to_a_free_port_when_its_default_one_is_taken(tmp_path: Path, monkeypatch):
    from dataclasses import replace

    from bot import cli_language, cli_terminal
    from bot.app import build
    from bot.config import load

    cli_language.use("de")  # as the command line sets it when it starts

    for name in ("HTTP_LISTEN", "PUBLIC_BASE_URL", "WEGBEGLEITER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:  # another program holds the port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = replace(load(), data_dir=str(tmp_path / "data"), database_url="", http_listen=f"127.0.0.1:{port}")
        app, note = cli_terminal.console_port(build(settings, init=True))
        assert note == f"Port {port} ist belegt: die Konsole läuft diesmal auf Port {app.settings.http_listen[10:]}."
        assert app.settings.public_base_url == f"http://{app.settings.http_listen}"
        # A port the operator chose stays: the demo says why its links will not open.
        shown = wegbegleiter(tmp_path, "demo", input="", HTTP_LISTEN=f"127.0.0.1:{port}",
                             PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    assert shown.returncode == 0
    assert f"127.0.0.1:{port} ist belegt, darum startet die Konsole nicht" in shown.stdout
    assert "die Links öffnen sich" not in shown.stdout
    listed = wegbegleiter(tmp_path, "demo", "--no-chat")
    assert "(die Links öffnen sich, solange `wegbegleiter web` oder `wegbegleiter run` läuft)" in listed.stdout
    assert "[Elternteil]" in listed.stdout and "[Kind]" in listed.stdout

def test_a_wrong_url_is_named_in_one_language(tmp_path: Path):
    result = wegbegleiter(tmp_path, "config", PUBLIC_BASE_URL="bot.example")
    assert result.stderr == ("Fehler: PUBLIC_BASE_URL muss eine URL sein, die mit http:// oder https:// beginnt "
                             "(angegeben: 'bot.example')\n")
    english = wegbegleiter(tmp_path, "config", MATRIX_HOMESERVER="matrix.example", WEGBEGLEITER_CLI_LANGUAGE="en")
    assert english.stderr == ("Error: MATRIX_HOMESERVER must be a URL starting with http:// or https:// "
                              "(got 'matrix.example')\n")
