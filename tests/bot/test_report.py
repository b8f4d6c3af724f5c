"""The Träger's figures (issue 18): the demo month of SCENARIOS.md through `wegbegleiter report`, read back from
the JSON, the XLSX (openpyxl) and the PDF (pypdf), as a Träger would check them against its own lists."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from conversations.report.figures import Count, Measure, Period, help_kind, legal_basis
from tests.conftest import TEST_SECRET
from tests.support import demo_month
from tests.support.cli import wegbegleiter

NAMES = ("Yılmaz", "Yilmaz", "Ayşe", "Murat", "Emre", "Leyla", "Petrenko", "Olga", "Jana", "Tobias", "Schulz",
         "Kerstin", "Sabine", "zuhause", "запізнюється", "Familienabend", "Schule", "F-2026")


def run(app, tmp_path: Path, *args: str, lang: str = "de"):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": app.settings.database_url, "WEGBEGLEITER_SECRET_KEY": TEST_SECRET,
           "WEGBEGLEITER_CLI_LANGUAGE": lang}
    return wegbegleiter(tmp_path, "report", *args, **env)


@pytest.fixture
def demo(bot, codes):  # type: ignore[no-untyped-def]
    demo_month.play(bot, codes)
    return bot.app


def cells(path: Path) -> dict[tuple[str, str], object]:
    """(figure, entry) → value of the XLSX's table; also checks no name is anywhere in the sheet."""
    sheet = load_workbook(path).active
    everything = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert not [n for n in NAMES if n in everything], everything
    found: dict[tuple[str, str], object] = {}
    started = False
    for area, figure, entry, value in sheet.iter_rows(min_col=1, max_col=4, values_only=True):
        if started and figure:
            found[(f"{area}: {figure}", entry or "")] = value
        started = started or area == "Bereich"
    return found


def test_the_first_quarter_as_a_traeger_checks_it(demo, tmp_path):
    result = run(demo, tmp_path, "2027", "--quarter", "1", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["period"], data["from"], data["to"]) == ("2027-Q1", "2027-01-01", "2027-03-31")
    hours = data["hours"]
    # 10 appointments (Yılmaz 5 + the crisis intervention, Petrenko 4), 5 took place: 2 + 2.5 + 1.5 + 1.5 + 1 h
    assert (hours["appointments"], hours["took_place"], hours["hours_delivered"]) == (10, 5, 8.5)
    # billable: the 8.5 h, and half of each late cancellation and the no-show (3 × 2 h × 50 %); off the budget all
    assert (hours["hours_billable"], hours["hours_off_budget"]) == (11.5, 14.5)
    # small counts never appear as they are: 2 late cancellations, 1 no-show, 1 by the Träger, 1 in time
    assert hours["cancelled_late_by_family"] == "< 5" and hours["no_show"] == "< 5"
    assert hours["cancelled_in_time_by_family"] == "< 5" and hours["cancelled_in_time_by_traeger"] == "< 5"
    assert hours["cancelled_late_by_traeger"] == 0 and hours["cancelled_unknown_by_family"] == 0
    assert hours["no_show_hours"] == "n < 5"  # hours resting on one appointment are left out too
    assert data["cases"]["active"] == "< 5" and data["cases"]["new"] == 0
    assert data["cases"]["by_legal_basis"] == {"§ 30 SGB VIII": "< 5", "§ 31 SGB VIII": "< 5"}
    assert data["escalations"]["raised"] == "< 5" and data["escalations"]["open"] == 0
    assert data["complaints"]["by_topic"]["staff"] == "< 5" and data["complaints"]["by_topic"]["jugendamt"] == 0
    assert data["complaints"]["satisfaction"]["partly"] == "< 5"
    assert data["alerts"]["raised"] == 0 and data["milestones"]["talks"] == 0
    reminders = data["confirmations"]["reminders_sent"]
    assert reminders == 14  # Ayşe and Murat, 7 each, through the outbox
    assert data["confirmations"]["nachweis"] == {"confirmed": "< 5", "disputed": 0, "pending": 0}  # February
    assert "< 5" in data["small_counts"]
    assert not [n for n in NAMES if n in result.stdout]

    # The same figures in the spreadsheet (German labels, numbers as numbers) and the PDF.
    xlsx, pdf = tmp_path / "q1.xlsx", tmp_path / "q1.pdf"
    result = run(demo, tmp_path, "2027", "--quarter", "1", "--xlsx", str(xlsx), "--pdf", str(pdf))
    assert result.returncode == 0, result.stderr
    assert str(xlsx) in result.stdout and str(pdf) in result.stdout
    table = cells(xlsx)
    assert table[("Stunden und Termine: Termine", "")] == 10
    assert table[("Stunden und Termine: Geleistete Stunden", "")] == 8.5
    assert table[("Stunden und Termine: Abrechenbare Stunden", "")] == 11.5
    assert table[("Stunden und Termine: Kurzfristig von der Familie abgesagt (unter 24 Std.)", "")] == "< 5"
    assert table[("Fälle: Laufende Fälle nach Rechtsgrundlage", "§ 31 SGB VIII")] == "< 5"
    assert table[("Beschwerden: Nach Thema", "das Jugendamt")] == 0
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "Kennzahlen von Brücke e.V." in text and "1. Quartal 2027 (01.01.2027 – 31.03.2027)" in text
    assert "Geleistete Stunden" in text and "8,5" in text and "11,5" in text and "< 5" in text
    assert not [n for n in NAMES if n in text], text


def test_a_quarter_counts_only_what_happened_in_it(demo, tmp_path):
    second = json.loads(run(demo, tmp_path, "2027", "--quarter", "2", "--json").stdout)
    assert second["alerts"] == {**second["alerts"], "raised": "< 5", "handled": "< 5", "open": 0,
                                "median_hours_to_handle": "n < 5"}
    assert second["escalations"]["raised"] == 0 and second["complaints"]["received"] == 0
    # the Meilensteingespräch on 14 April: three family questionnaires, two of the Fachkräfte
    assert second["milestones"]["talks"] == "< 5" and second["milestones"]["questionnaires_family"] == "< 5"
    assert second["milestones"]["goals_family"] == {"reached": "< 5", "partly": "< 5", "not_yet": "< 5",
                                                    "unknown": "< 5"}
    assert second["milestones"]["goals_reached_share"] == "n < 5"
    assert second["hours"]["took_place"] == 0
    year = json.loads(run(demo, tmp_path, "2027", "--json").stdout)
    assert year["hours"]["appointments"] == 12  # the quarters add up: 10 + Petrenko's 1 April + the talk
    assert year["escalations"]["raised"] == "< 5" and year["alerts"]["raised"] == "< 5"
    assert json.loads(run(demo, tmp_path, "2026", "--quarter", "4", "--json").stdout)["hours"]["appointments"] == 0


def test_one_help_type(demo, tmp_path):
    spfh = json.loads(run(demo, tmp_path, "2027", "--quarter", "1", "--case-type", "SPFH", "--json").stdout)
    assert spfh["case_type"] == "SPFH" and spfh["hours"]["appointments"] == 6
    assert spfh["hours"]["took_place"] == "< 5" and spfh["hours"]["hours_delivered"] == "n < 5"
    assert spfh["cases"]["by_help_type"] == {"SPFH": "< 5"}
    assert spfh["complaints"]["received"] == 0  # Olga's complaint is anonymous: no case, no help type
    para30 = json.loads(run(demo, tmp_path, "2027", "--quarter", "1", "--case-type", "§ 30", "--json").stdout)
    assert para30["hours"]["appointments"] == "< 5" and para30["escalations"]["raised"] == 0
    wrong = run(demo, tmp_path, "2027", "--case-type", "ISE")
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr
    assert "ISE" in wrong.stderr and "SPFH" in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1


def test_text_output_in_german_and_english(demo, tmp_path):
    german = run(demo, tmp_path, "2027", "--quarter", "1")
    assert german.returncode == 0 and "Geleistete Stunden" in german.stdout and "8,5" in german.stdout
    english = run(demo, tmp_path, "2027", "--quarter", "1", lang="en")
    assert "Hours delivered" in english.stdout and "8.5" in english.stdout and "< 5" in english.stdout
    bad = run(demo, tmp_path, "2027", "--quarter", "5")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


@pytest.mark.parametrize(("n", "shown"), [(0, 0), (1, "< 5"), (4, "< 5"), (5, 5), (123, 123)])
def test_small_counts_are_hidden(n, shown):
    assert Count(n).public() == shown


@pytest.mark.parametrize(("base", "shown"), [(0, None), (1, "n < 5"), (4, "n < 5"), (5, 2.5)])
def test_figures_on_few_items_are_hidden(base, shown):
    assert Measure(2.5 if base else None, base, "hours").public() == shown


def test_periods_and_help_types():
    assert (Period.of(2027, 1).first_day.isoformat(), Period.of(2027, 1).last_day.isoformat()) == (
        "2027-01-01", "2027-03-31")
    assert Period.of(2028, 4).last_day.isoformat() == "2028-12-31" and Period.of(2028).last_day.day == 31
    assert Period.of(2027, 2).end.isoformat() == "2027-06-30T22:00:00+00:00"  # 1 July 00:00 in Berlin (CEST)
    assert (help_kind("SPFH § 31 SGB VIII"), legal_basis("SPFH § 31 SGB VIII")) == ("SPFH", "§ 31 SGB VIII")
    assert (help_kind("Erziehungsbeistand § 30"), legal_basis("§35a")) == ("Erziehungsbeistand", "§ 35a SGB VIII")
    assert (help_kind(None), legal_basis("ISE")) == ("unknown", "unknown")


def test_the_leitung_sees_the_figures_in_the_console(bot, codes):
    from tests.bot.web.conftest import link_in
    from tests.support.harness import Bot
    from tests.support.web import Browser, serving

    with serving(bot.app) as (served, base):
        people = Bot(served)
        martina_chat, jana_chat = people.link("martina", codes["Martina"]), people.link("jana", codes["Jana"])
        demo_month.play(people, codes)
        leitung, jana = Browser(base), Browser(base)
        leitung.sign_in(link_in(martina_chat.say("/web")))
        jana.sign_in(link_in(jana_chat.say("/web")))
        page = leitung.get("/figures?year=2027&quarter=1")
        assert page.status_code == 200 and "Kennzahlen von Brücke e.V." in page.text
        assert "Geleistete Stunden" in page.text and "8,5" in page.text and "&lt; 5" in page.text
        assert 'href="/figures"' in leitung.get("/overview").text  # in the Leitung's navigation
        assert not [n for n in NAMES if n in page.text]
        xlsx = leitung.get("/figures.xlsx?year=2027&quarter=1")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        pdf = leitung.get("/figures.pdf?year=2027&quarter=1&case_type=SPFH")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        wrong = leitung.get("/figures?year=2027&case_type=ISE")
        assert wrong.status_code == 200 and "kein Fall hat die Hilfeart" in wrong.text
        assert jana.get("/figures?year=2027").status_code == 404  # a Fachkraft: not her page
        assert jana.get("/figures.xlsx?year=2027").status_code == 404
