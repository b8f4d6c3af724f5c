"""`wegbegleiter appointments/budget/nachweis`: what an operator types and reads (--json for scripts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.clock import ManualClock, berlin
from tests.support.cli import Invoke, cli_clock_at_start, operator_cli, yilmaz_case


@pytest.fixture
def cli_clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    return cli_clock_at_start(monkeypatch)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_clock: ManualClock) -> Invoke:
    invoke = operator_cli(tmp_path, monkeypatch)
    yilmaz_case(invoke)
    invoke("member", "add", "F-2027-0001", "Ayşe", "--last-name", "Yılmaz")
    return invoke


def test_add_cancel_outcome_and_the_budget_statement(run, tmp_path: Path, cli_clock: ManualClock) -> None:
    assert run("budget", "set", "F-2027-0001", "2027-03", "20", "--json")["monthly_hours"] == 20
    series = run("appointments", "add", "F-2027-0001", "--start", "2027-03-02 10:00", "--minutes", "120",
                 "--weekly", "5", "--json")
    assert [a["starts_at"][:16] for a in series] == [
        "2027-03-02T10:00", "2027-03-09T10:00", "2027-03-16T10:00", "2027-03-23T10:00", "2027-03-30T10:00"]
    assert series[-1]["starts_at"].endswith("+02:00")  # after the change to summer time, still 10:00
    early = run("appointments", "outcome", str(series[0]["id"]), "took_place", ok=False)
    assert "has not started yet (02.03.2027 10:00)" in early.output
    cli_clock.set(berlin(2027, 3, 31, 9, 0))
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


def test_import_with_a_progress_bar_is_all_or_nothing_and_nachweis_files(run, tmp_path: Path,
                                                                        cli_clock: ManualClock) -> None:
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
    cli_clock.set(berlin(2027, 5, 3, 9, 0))
    run("appointments", "outcome", str(first["id"]), "took_place")
    files = run("nachweis", "F-2027-0001", "2027-04", "--pdf", str(tmp_path / "n.pdf"), "--csv",
                str(tmp_path / "n.csv"), "--json")
    assert files["family_confirmation"] == "pending"
    assert (tmp_path / "n.pdf").read_bytes().startswith(b"%PDF")
    rows = (tmp_path / "n.csv").read_text(encoding="utf-8-sig").splitlines()
    assert "06.04.2027;10:00–11:30;Hausbesuch;Jana Weber;fand statt;1,50;1,50;nein;nein" in rows


def test_the_organisation_chooses_its_bundesland_and_closing_days(run) -> None:
    shown = run("org", "set", "1", "--bundesland", "by", "--closed-days", "12-24, 12-31", "--json")
    assert (shown["bundesland"], shown["closed_days"]) == ("BY", ["12-24", "12-31"])
    wrong = run("org", "set", "1", "--closed-days", "24.12.", ok=False)
    assert "closed_days: '24.12.' is neither a month-day like 12-24" in wrong.output


def test_the_family_phoned_on_monday_the_fachkraft_records_it_on_wednesday(run, cli_clock: ManualClock) -> None:
    """Thursday's visit, cancelled by phone on Monday, recorded on Wednesday: in time, nothing billed."""
    run("budget", "set", "F-2027-0001", "2027-03", "20")
    thursday = run("appointments", "add", "F-2027-0001", "--start", "11.03.2027 10:00", "--json")[0]
    cli_clock.set(berlin(2027, 3, 10, 9, 0))  # Wednesday
    given = run("appointments", "cancel", str(thursday["id"]), "--by", "family", "--at", "08.03.2027 17:30",
                "--json")
    assert (given["cancelled_at"], given["short_notice"], given["billable_hours"]) == (
        "2027-03-08T17:30:00+01:00", False, 0.0)
    future = run("appointments", "add", "F-2027-0001", "--start", "2027-03-18 10:00", "--json")[0]
    ahead = run("appointments", "cancel", str(future["id"]), "--by", "family", "--at", "2027-03-12 10:00",
                ok=False)
    assert "the cancellation cannot lie in the future (12.03.2027 10:00)" in ahead.output
    # After the fact without a time: nothing assumed, listed for review until someone gives it.
    cli_clock.set(berlin(2027, 3, 19, 9, 0))
    unknown = run("appointments", "outcome", str(future["id"]), "cancelled_by_family", "--json")
    assert (unknown["cancellation_time_unknown"], unknown["billable_hours"], unknown["hours_used"]) == (True, 0, 0)
    shown = run("budget", "show", "F-2027-0001", "2027-03")
    assert "Zeitpunkt der Absage noch nicht angegeben" in shown.stdout and f"#{future['id']}" in shown.stdout
    assert [a["id"] for a in run("budget", "show", "F-2027-0001", "2027-03", "--json")["to_review"]] == [future["id"]]
    late = run("appointments", "outcome", str(future["id"]), "cancelled_by_family", "--at", "17.03.2027 18:00",
               "--json")
    assert (late["short_notice"], late["billable_hours"], late["hours_used"]) == (True, 1.0, 2.0)
    assert run("budget", "show", "F-2027-0001", "2027-03", "--json")["to_review"] == []
    noticed = run("appointments", "outcome", str(future["id"]), "cancelled_by_family", "--notice", "24h-or-more",
                  "--json")
    assert (noticed["cancel_notice"], noticed["cancelled_at"], noticed["billable_hours"]) == ("in_time", None, 0)
    wrong = run("appointments", "cancel", str(thursday["id"]), "--by", "family", "--at", "31.02.2027 10:00",
                ok=False)
    assert "Den 31.02.2027 10:00 gibt es nicht: Der Februar 2027 hat 28 Tage." in wrong.output  # German CLI


def test_an_overlapping_appointment_is_entered_with_a_warning(run) -> None:
    first = run("appointments", "add", "F-2027-0001", "--start", "2027-03-16 10:00", "--json")[0]
    assert first["overlaps_with"] == []
    second = run("appointments", "add", "F-2027-0001", "--start", "2027-03-16 11:00", "--kind", "hilfeplangespraech")
    assert f"Achtung: überschneidet sich mit Termin #{first['id']}" in second.output
    run("appointments", "add", "F-2027-0001", "--start", "2027-04-14 10:00", "--kind", "meilensteingespraech")
    refused = run("appointments", "add", "F-2027-0001", "--start", "2027-04-14 10:30", "--kind",
                  "meilensteingespraech", ok=False)
    assert "zu dieser Zeit ist schon ein Meilensteingespräch dieses Falls geplant" in refused.output


def test_an_import_beyond_the_budget_asks_the_jugendamt_once_per_case_and_month(run, tmp_path: Path) -> None:
    run("budget", "set", "F-2027-0001", "2027-04", "2")
    rows = tmp_path / "april.csv"
    rows.write_text("case;start;minutes\n" + "".join(f"F-2027-0001;{day:02d}.04.2027 10:00;120\n"
                                                     for day in (6, 13, 20)) + "F-2027-0001;04.05.2027 10:00;60\n",
                    encoding="utf-8")
    assert len(run("appointments", "import", str(rows), "--json")) == 4
    shown = run("budget", "show", "F-2027-0001", "2027-04", "--json")
    assert (shown["planned_hours"], shown["pending_extra_hours"]) == (6.0, 4.0)  # one request for the 4 h over
    assert run("budget", "show", "F-2027-0001", "2027-05", "--json")["pending_extra_hours"] == 0
