"""`wegbegleiter hilfeplan`: what an operator types and reads (German by default, --json for scripts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import Invoke, cli_clock_at_start, operator_cli, yilmaz_case


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    cli_clock_at_start(monkeypatch)
    invoke = operator_cli(tmp_path, monkeypatch)
    yilmaz_case(invoke)
    return invoke


def test_start_talks_deadlines_and_done(run) -> None:
    started = run("hilfeplan", "start", "F-2027-0001", "01.03.2027", "--json")
    assert started["started_on"] == "2027-03-01"
    assert [(r["kind"], r["due"]) for r in started["open"]] == [
        ("entwicklungsbericht", "2027-08-18"), ("fortschreibung", "2027-09-01"), ("home_contacts", "2028-02-29")]
    talk = run("hilfeplan", "talk", "F-2027-0001", "--kind", "hilfeplan", "--date", "26.02.2027 10:00",
               "--participant", "Ayşe Yılmaz", "--participant", "Jana Weber", "--json")
    assert talk["participants"] == ["Ayşe Yılmaz", "Jana Weber"] and talk["appointment"] is None  # held
    shown = run("hilfeplan", "show", "F-2027-0001").stdout
    assert "Beginn der Hilfe: 2027-03-01\nNächste Fortschreibung fällig bis: 2027-09-01" in shown
    assert "2027-03-12  Kostenzusage vom Jugendamt [zuständig: Jugendamt] – offen" in shown
    assert "2027-04-23  ab 2027-04-09 Hilfeplankonkretisierung [zuständig: alle Beteiligten] – offen" in shown
    item = next(r for r in talk["open"] if r["kind"] == "kostenzusage")
    done = run("hilfeplan", "done", str(item["id"]), "--json")
    assert done["done"] and done["done_by"] == "cli"
    assert "Erledigt: Kostenzusage vom Jugendamt (F-2027-0001)." in run("hilfeplan", "done", str(item["id"])).stdout
    due = run("hilfeplan", "due", "--weeks", "8", "--json")
    assert [r["kind"] for r in due] == ["signed_plan", "konkretisierung"]
    # a planned Fortschreibung: the family and the team get the appointment
    planned = run("hilfeplan", "talk", "F-2027-0001", "--kind", "fortschreibung", "--date", "2027-08-26 10:00",
                  "--json")
    assert planned["appointment"] is not None
    report = next(r for r in planned["open"] if r["kind"] == "entwicklungsbericht")
    assert report["due"] == "2027-08-12"


def test_mistakes_are_one_line_in_german(run) -> None:
    result = run("hilfeplan", "done", "999", ok=False)
    assert result.output.strip().splitlines()[-1] == "Fehler: keine Frist mit der ID 999"
    result = run("hilfeplan", "talk", "F-2027-0001", "--kind", "fortschreibung", "--date", "2027-08-26 10:00",
                 ok=False)
    assert "zuerst den Beginn der Hilfe (hilfeplan start)" in result.output
    result = run("hilfeplan", "settings", "--remind", "0", ok=False)
    assert "Traceback" not in result.output and result.exit_code == 1
    changed = run("hilfeplan", "settings", "--remind", "28,7", "--hour", "8:30", "--json")
    assert changed == {"organisation": "Brücke e.V.", "remind_days": [28, 7], "hour": "08:30", "warn_days": 7}
