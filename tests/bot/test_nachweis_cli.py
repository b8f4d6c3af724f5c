"""The Nachweisblatt as the Jugendamt's billing office gets it: `wegbegleiter nachweis CASE MONTH --pdf --csv`,
read back (the PDF with pypdf, the CSV with the csv module) field by field, and `--json` saying the same."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from conversations.clock import ManualClock, berlin
from tests.support.cli import Invoke, cli_clock_at_start, operator_cli

MARKS = re.compile("[\u2066-\u2069\u200e\u200f]")


@pytest.fixture
def cli_clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    return cli_clock_at_start(monkeypatch)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_clock: ManualClock) -> Invoke:
    return operator_cli(tmp_path, monkeypatch)


def pdf_text(path: Path) -> list[str]:
    return [MARKS.sub("", page.extract_text()) for page in PdfReader(path).pages]


@pytest.fixture
def march(run, cli_clock: ManualClock) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Familie Yılmaz in March 2027: every kind of outcome, a crisis, a cancellation without its time."""
    run("init")
    run("org", "add", "Brücke e.V.", "--phone", "0391 555 0100", "--hours", "Mo–Fr 8:00–18:00")
    shown = run("org", "set", "1", "--address", r"Breiter Weg 12\n39104 Magdeburg", "--json")
    assert shown["address"] == "Breiter Weg 12\n39104 Magdeburg"
    run("org", "add", "Jugendamt Magdeburg")
    run("staff", "add", "Jana Weber", "--role", "fachkraft")
    run("staff", "add", "Dr. Katrin Schulz", "--role", "fallfuehrend", "--org", "2")
    run("case", "add", "Familie Yılmaz", "--reference", "F-2027-0001", "--help-type", "SPFH", "--fachkraft", "1",
        "--fallfuehrend", "2")
    changed = run("case", "set", "F-2027-0001", "--jugendamt", "Jugendamt Magdeburg", "--file-number",
                  "51.2-0815/27", "--json")
    assert (changed["jugendamt"], changed["jugendamt_file_number"]) == ("Jugendamt Magdeburg", "51.2-0815/27")
    assert "Aktenzeichen des Jugendamts: 51.2-0815/27" in run("case", "set", "F-2027-0001").stdout
    run("member", "add", "F-2027-0001", "Ayşe", "--last-name", "Yılmaz")
    run("budget", "set", "F-2027-0001", "2027-03", "8")
    ids = {}
    for name, start, minutes, kind in [("took", "02.03.2027 10:00", "120", "hausbesuch"),
                                       ("late", "09.03.2027 10:00", "120", "hausbesuch"),
                                       ("crisis", "12.03.2027 19:00", "90", "krisenintervention"),
                                       ("noshow", "16.03.2027 10:00", "120", "hausbesuch"),
                                       ("unknown", "23.03.2027 10:00", "120", "hausbesuch"),
                                       ("over", "30.03.2027 10:00", "120", "hausbesuch")]:
        ids[name] = run("appointments", "add", "F-2027-0001", "--start", start, "--minutes", minutes, "--kind", kind,
                        "--json")[0]["id"]
    cli_clock.set(berlin(2027, 3, 31, 18, 0))
    run("appointments", "outcome", str(ids["took"]), "took_place", "--minutes", "150")
    run("appointments", "outcome", str(ids["late"]), "cancelled_by_family", "--at", "08.03.2027 17:30")
    run("appointments", "outcome", str(ids["crisis"]), "took_place")
    run("appointments", "outcome", str(ids["noshow"]), "no_show")
    run("appointments", "outcome", str(ids["unknown"]), "cancelled_by_family")
    cli_clock.set(berlin(2027, 4, 1, 9, 30))
    return ids


def test_the_nachweisblatt_pdf_has_every_field_a_billing_office_looks_for(run, march, tmp_path: Path) -> None:
    data = run("nachweis", "F-2027-0001", "2027-03", "--pdf", str(tmp_path / "n.pdf"), "--csv",
               str(tmp_path / "n.csv"), "--json")
    pages = pdf_text(tmp_path / "n.pdf")
    text = "\n".join(pages)
    # The head.
    for field in ("Brücke e.V.", "Breiter Weg 12", "39104 Magdeburg", "Telefon 0391 555 0100 (Mo–Fr 8:00–18:00)",
                  "Nachweisblatt", "Leistungsnachweis März 2027", "Jugendamt Magdeburg", "Aktenzeichen",
                  "51.2-0815/27", "Fallführende Fachkraft", "Dr. Katrin Schulz", "Familie Yılmaz (F-2027-0001)",
                  "Hilfeart", "SPFH (§ 31 SGB VIII)", "Zeitraum", "01.03.2027 – 31.03.2027"):
        assert field in text, field
    # The rows: German dates, from–to, kind, Fachkraft, what happened, hours, billable, < 24 h, crisis.
    for row in ("02.03.2027 10:00–12:30 Hausbesuch Jana Weber fand statt 2,50 2,50 nein nein",
                "12.03.2027 19:00–20:30 Krisenintervention Jana Weber fand statt 1,50 1,50 nein ja",
                "16.03.2027 10:00–12:00 Hausbesuch Jana Weber die Familie war nicht da 2,00 1,00 ja nein"):
        assert row in " ".join(text.split()), row
    flat = " ".join(text.split())
    assert "von der Familie abgesagt am 08.03.2027 17:30" in flat
    assert "Zeitpunkt noch nicht angegeben (nichts abgerechnet)" in flat
    assert "Summe 5 Termine 8,00 6,00 2 1" in flat  # 2.5 + 2 + 1.5 + 2 (+ 0) used; 2.5 + 1 + 1.5 + 1 billable
    # Below: the account, the confirmation still open, the signatures, pages, created on.
    for field in ("Monatsbudget (Hilfeplan) 8,00", "Vom Jugendamt bestätigte Mehrstunden 0,00", "Verbraucht 8,00",
                  "Abrechenbar 6,00", "Verbleibend 0,00", "Noch geplant oder nicht erfasst 2,00",
                  "Die Bestätigung der Familie steht noch aus.", "Ort, Datum, Unterschrift des Trägers",
                  "Ort, Datum, Unterschrift der/des Personensorgeberechtigten (Ayşe Yılmaz)",
                  "Zeitpunkt der Absage noch nicht angegeben (bis dahin nichts abgerechnet): 23.03.2027"):
        assert field in flat, field
    for number, page in enumerate(pages, start=1):
        assert f"Seite {number} von {len(pages)}" in page
        assert "Nachweisblatt F-2027-0001, März 2027 · erstellt am 01.04.2027 09:30" in " ".join(page.split())
    # The CSV: the same table with the same German headers, ";" and a BOM, and a totals row.
    raw = (tmp_path / "n.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header = lines.index(["Datum", "Von–bis", "Art", "Fachkraft", "Was passiert ist", "Stunden",
                          "Abrechenbare Std.", "Absage < 24 Std.", "Krise"])
    assert lines[header + 1] == ["02.03.2027", "10:00–12:30", "Hausbesuch", "Jana Weber", "fand statt", "2,50", "2,50",
                                 "nein", "nein"]
    assert ["Summe", "", "5 Termine", "", "", "8,00", "6,00", "2", "1"] in lines
    assert ["Aktenzeichen", "51.2-0815/27"] in lines and ["Abrechenbar", "6,00"] in lines
    assert ["Anschrift", "Breiter Weg 12, 39104 Magdeburg"] in lines
    # --json: the same numbers, ISO 8601 times with their offset.
    assert (data["totals"], data["billable_hours"], data["remaining_hours"]) == (
        {"appointments": 5, "hours_used": 8.0, "billable_hours": 6.0, "short_notice": 2, "crisis": 1}, 6.0, 0.0)
    assert data["appointments"][1]["cancelled_at"] == "2027-03-08T17:30:00+01:00"
    assert data["created_at"] == "2027-04-01T09:30:00+02:00" and data["to_review"] == [march["unknown"]]
    assert (data["jugendamt"], data["jugendamt_file_number"], data["family_confirmation"]) == (
        "Jugendamt Magdeburg", "51.2-0815/27", "pending")
    assert data["pdf"] == str(tmp_path / "n.pdf")


def test_hours_waiting_for_the_jugendamt_are_named_and_english_readers_get_english_formats(
        run, march, tmp_path: Path) -> None:
    run("appointments", "add", "F-2027-0001", "--start", "2027-03-31 20:00", "--minutes", "60")  # beyond 8 h
    data = run("nachweis", "F-2027-0001", "2027-03", "--pdf", str(tmp_path / "en.pdf"), "--language", "en",
               "--json")
    assert data["pending_extra_hours"] > 0
    flat = " ".join("\n".join(pdf_text(tmp_path / "en.pdf")).split())
    assert "Extra hours waiting for the Jugendamt's approval" in flat
    assert "3/2/2027 10:00–12:30 Home visit" in flat and "Page 1 of" in flat
    shown = run("budget", "show", "F-2027-0001", "2027-03")
    assert "Wartet auf die Zustimmung des Jugendamts: 4,5 Std. zusätzlich" in shown.stdout
    assert data["pending_extra_hours"] == 4.5


def test_a_case_without_jugendamt_details_says_so_and_the_csv_is_printed(run, march) -> None:
    run("case", "set", "F-2027-0001", "--jugendamt", "", "--file-number", "")
    printed = run("nachweis", "F-2027-0001", "2027-03").stdout
    assert "Aktenzeichen;—" in printed and "Jugendamt;Jugendamt Magdeburg" in printed  # from Dr. Schulz's office
    wrong = run("nachweis", "F-2027-0001", "März", ok=False)
    assert "Fehler" in wrong.output and "Traceback" not in wrong.output
