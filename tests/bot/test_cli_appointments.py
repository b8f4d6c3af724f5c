"""`wegbegleiter appointments/budget/nachweis`: what an operator types and reads (--json for scripts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WEGBEGLEITER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("DATABASE_URL", raising=False)  # its own SQLite file
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.stdout) if "--json" in args and ok else result

    invoke("init")
    invoke("org", "add", "Brücke e.V.")
    jana = invoke("staff", "add", "Jana Weber", "--role", "fachkraft", "--json")
    invoke("case", "add", "Familie Yılmaz", "--reference", "F-2027-0001", "--fachkraft", str(jana["id"]))
    invoke("member", "add", "F-2027-0001", "Ayşe", "--last-name", "Yılmaz")
    return invoke


def test_add_cancel_outcome_and_the_budget_statement(run, tmp_path: Path) -> None:
    assert run("budget", "set", "F-2027-0001", "2027-03", "20", "--json")["monthly_hours"] == 20
    series = run("appointments", "add", "F-2027-0001", "--start", "2027-03-02 10:00", "--minutes", "120",
                 "--weekly", "5", "--json")
    assert [a["starts_at"][:16] for a in series] == [
        "2027-03-02T10:00", "2027-03-09T10:00", "2027-03-16T10:00", "2027-03-23T10:00", "2027-03-30T10:00"]
    assert series[-1]["starts_at"].endswith("+02:00")  # after the change to summer time, still 10:00
    run("appointments", "outcome", str(series[0]["id"]), "took_place", "--minutes", "150")
    run("appointments", "outcome", str(series[1]["id"]), "no_show")
    cancelled = run("appointments", "cancel", str(series[2]["id"]), "--by", "provider", "--json")
    assert cancelled["outcome"] == "cancelled_by_provider" and cancelled["ics_sequence"] == 1
    shown = run("budget", "show", "F-2027-0001", "2027-03", "--chart", str(tmp_path / "c.png"), "--json")
    assert (shown["used_hours"], shown["billable_hours"], shown["planned_hours"], shown["remaining_hours"]) == \
        (4.5, 3.5, 4.0, 15.5)
    assert shown["cancelled_short_notice"] == 1 and (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
    listed = run("appointments", "list", "F-2027-0001", "--month", "2027-03", "--json")
    assert [a["outcome"] for a in listed][:3] == ["took_place", "no_show", "cancelled_by_provider"]
    wrong = run("appointments", "outcome", "999", "no_show", ok=False)
    assert "no appointment with id 999" in wrong.output


def test_import_with_a_progress_bar_is_all_or_nothing_and_nachweis_files(run, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("case;start;minutes;kind;place\n"
                    "F-2027-0001;2027-04-06 10:00;90;hausbesuch;zu Hause\n"
                    "F-2027-0001;2027-04-14 15:00;60;meilensteingespraech;Büro\n", encoding="utf-8")
    result = run("appointments", "import", str(good))
    assert "Imported 2 appointments from 2 lines." in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("case,start,minutes\nF-2027-0001,2027-04-20 10:00,60\nF-2027-0001,morgen,60\n")
    failed = run("appointments", "import", str(bad), ok=False)
    assert "line 3" in failed.output and "nothing was imported" in failed.output
    assert len(run("appointments", "list", "F-2027-0001", "--json")) == 2
    first = run("appointments", "list", "F-2027-0001", "--json")[0]
    run("appointments", "outcome", str(first["id"]), "took_place")
    files = run("nachweis", "F-2027-0001", "2027-04", "--pdf", str(tmp_path / "n.pdf"), "--csv",
                str(tmp_path / "n.csv"), "--json")
    assert files["family_confirmation"] is None
    assert (tmp_path / "n.pdf").read_bytes().startswith(b"%PDF")
    rows = (tmp_path / "n.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("case;month;date") and rows[1].startswith("F-2027-0001;2027-04;2027-04-06;10:00")


def test_the_organisation_chooses_its_bundesland_and_closing_days(run) -> None:
    shown = run("org", "set", "1", "--bundesland", "by", "--closed-days", "12-24, 12-31", "--json")
    assert (shown["bundesland"], shown["closed_days"]) == ("BY", ["12-24", "12-31"])
    wrong = run("org", "set", "1", "--closed-days", "24.12.", ok=False)
    assert "closed_days: '24.12.' is neither a month-day like 12-24" in wrong.output
