"""`wegbegleiter complaints`: Kerstin's list, a complaint in full, the spreadsheet export, the yearly figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import cli
from storage.models import AuditEvent, StaffMember
from tests.conftest import TEST_SECRET
from tests.conversations.test_complaints import ACCOUNT, complain_anonymously_about_tobias


@pytest.fixture
def run(app, database_url, tmp_path):
    runner = CliRunner()
    base = {"DATABASE_URL": database_url, "WEGBEGLEITER_SECRET_KEY": TEST_SECRET,
           "WEGBEGLEITER_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING", "WEGBEGLEITER_CONFIG": ""}

    def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env=base | (env or {}), catch_exceptions=False)

    return invoke


@pytest.fixture
def two_complaints(bot, codes, clock):
    """B-2027-0001: Olga, anonymous, about Tobias, closed and rated. B-2027-0002: Ayşe, named, appointments, new."""
    kerstin = bot.link("kerstin", codes["Kerstin"])
    olga = bot.link("olga", codes["Olga"])
    ayse = bot.link("ayse", codes["Ayşe"])
    complain_anonymously_about_tobias(olga)
    kerstin.receive()
    kerstin.press("Übernehmen")
    clock.advance(timedelta(days=3))
    kerstin.press("Abschließen")
    kerstin.press("berechtigt")
    kerstin.say("Gespräch mit der Fachkraft geführt.")
    olga.receive()
    olga.press("Teilweise")
    ayse.say("/beschwerde")
    ayse.press("Termine")
    ayse.say("Termine werden kurzfristig verschoben.")
    ayse.press("Das ist alles")
    ayse.press("Mit meinem Namen")
    ayse.press("Keine Antwort nötig")
    ayse.press("Abschicken")


def staff_id(app, name: str) -> int:
    with app.sessions() as session:
        return session.scalar(select(StaffMember.id).where(StaffMember.name == name))


def test_list_filters_and_never_shows_text(run, two_complaints):
    rows = json.loads(run("complaints", "list", "--json").output)
    assert [r["reference"] for r in rows] == ["B-2027-0001", "B-2027-0002"]
    assert ACCOUNT not in json.dumps(rows, ensure_ascii=False)
    assert [r["reference"] for r in json.loads(run("complaints", "list", "--status", "closed", "--json").output)] \
        == ["B-2027-0001"]
    assert [r["category"] for r in json.loads(run("complaints", "list", "--category", "appointments", "--json")
                                              .output)] == ["appointments"]
    assert len(json.loads(run("complaints", "list", "--month", "2027-03", "--json").output)) == 2
    assert json.loads(run("complaints", "list", "--month", "2027-04", "--json").output) == []
    assert "B-2027-0002" in run("complaints", "list").output


def test_show_in_full_but_never_to_the_person_it_is_about(run, two_complaints, app):
    shown = json.loads(run("complaints", "show", "B-2027-0001", "--json").output)
    assert shown["from"] == "anonymous" and shown["about_staff"] == "Tobias Klein"
    assert shown["exchange"][0]["text"] == ACCOUNT and shown["files"][0]["mime_type"] == "audio/ogg"
    assert shown["outcome"] == "upheld" and shown["satisfaction"] == "partly"
    kerstin, tobias = staff_id(app, "Kerstin Braun"), staff_id(app, "Tobias Klein")
    assert run("complaints", "show", "B-2027-0001", "--as", str(kerstin)).exit_code == 0
    refused = run("complaints", "show", "B-2027-0001", "--as", str(tobias))
    assert refused.exit_code == 1 and "no complaint 'B-2027-0001'" in refused.output and ACCOUNT not in refused.output
    named = json.loads(run("complaints", "show", "B-2027-0002", "--json").output)
    assert named["from"].startswith("Ayşe Yılmaz")
    with app.sessions() as session:
        readers = list(session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "complaint.read")))
    assert "cli" in readers and f"staff:{kerstin}" in readers and f"staff:{tobias}" not in readers


def test_export_opens_in_a_spreadsheet_and_as_csv(run, two_complaints, tmp_path, app):
    xlsx = tmp_path / "beschwerden.xlsx"
    result = json.loads(run("complaints", "export", "--output", str(xlsx), "--json").output)
    assert result == {"file": str(xlsx), "format": "xlsx", "rows": 2, "with_text": False}
    sheet = load_workbook(xlsx).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Aktenzeichen", "Eingegangen", "Kategorie", "Anonym")  # the operator's language
    assert [r[0] for r in rows[1:]] == ["B-2027-0001", "B-2027-0002"]
    assert rows[1][rows[0].index("Ergebnis")] == "berechtigt" and rows[1][rows[0].index("Anonym")] == "Ja"
    received = rows[1][rows[0].index("Eingegangen")]
    assert received.year == 2027 and received.tzinfo is None and received.second == received.microsecond == 0
    assert ACCOUNT not in str(rows)

    # The CSV: ";", German headers, Berlin times without seconds or microseconds, Ja/Nein, the same cells.
    data = tmp_path / "beschwerden.csv"
    run("complaints", "export", "-o", str(data))
    lines = list(csv.reader(io.StringIO(data.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert lines[0] == list(rows[0])
    for cells, sheet_row in zip(lines[1:], rows[1:], strict=True):
        for text, value in zip(cells, sheet_row, strict=True):
            if hasattr(value, "strftime"):
                assert text == value.strftime("%d.%m.%Y %H:%M")
            elif isinstance(value, float | int):
                assert text == f"{value:g}".replace(".", ",")
            else:
                assert text == (value or "")
    assert lines[1][1] == received.strftime("%d.%m.%Y %H:%M") and lines[1][3] == "Ja" and lines[2][3] == "Nein"
    # --json keeps the field names and gives ISO 8601 with the offset.
    listed = json.loads(run("complaints", "list", "--json").output)
    assert listed[0]["received"] == received.strftime("%Y-%m-%dT%H:%M:00+01:00")

    with_text = tmp_path / "mit-text.csv"
    run("complaints", "export", "--status", "closed", "--with-text", "-o", str(with_text))
    read = list(csv.DictReader(io.StringIO(with_text.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(read) == 1 and read[0]["Was passiert ist"] == ACCOUNT
    english = tmp_path / "en.csv"
    runner_env = {"WEGBEGLEITER_CLI_LANGUAGE": "en"}
    run("complaints", "export", "-o", str(english), env=runner_env)
    assert english.read_text(encoding="utf-8-sig").startswith("Reference;Received;Category;Anonymous")
    with app.sessions() as session:
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "complaint.exported"))


def test_yearly_figures_for_the_leistungsbericht(run, two_complaints):
    stats = json.loads(run("complaints", "stats", "--year", "2027", "--json").output)
    assert stats["total"] == 2 and stats["anonymous"] == 1 and stats["open"] == 1
    assert stats["by_category"]["staff"] == 1 and stats["by_category"]["appointments"] == 1
    assert stats["by_outcome"] == {"upheld": 1, "partly": 0, "not_upheld": 0, "withdrawn": 0}
    assert stats["median_days_to_answer"] == 3.0 and stats["answered_in_time"] == 1
    assert stats["satisfaction"] == {"partly": 1}
    shown = run("complaints", "stats", "--year", "2027").output
    assert "Beschwerden 2027: 2 (1 anonym, 1 offen)" in shown and "Mediane Tage bis zur Antwort: 3" in shown
    assert "Termine 1" in shown and "berechtigt 1" in shown and "Teilweise 1" in shown
    english = run("complaints", "stats", "--year", "2027", env={"WEGBEGLEITER_CLI_LANGUAGE": "en"}).output
    assert "Complaints 2027: 2 (1 anonymous, 1 open)" in english and "Median days to answer: 3" in english
    assert json.loads(run("complaints", "stats", "--year", "2026", "--json").output)["total"] == 0
