"""The Träger's figures as the Leitung reads them: wording (``t()``, catalog domain ``cli``), numbers by babel,
and the files: XLSX (openpyxl), PDF (fpdf2, charts from :mod:`conversations.charts`) and plain text.

The figures come from :mod:`conversations.report.figures`; here every value is shown through
:func:`value_text`, which writes "< 5" for a count from 1 to 4 and "n < 5" for a figure resting on 1 to 4
items, in all three forms alike. The console's report page uses the same functions.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from bot import cli_language
from conversations import charts
from conversations.clock import BERLIN
from conversations.i18n import domain_translations
from conversations.report.figures import UNKNOWN, Figure, Measure, Report, Row, Section

# --- words -------------------------------------------------------------------------------------------------------
_LANGUAGE: ContextVar[str | None] = ContextVar("report_language", default=None)


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Word the report in ``lang`` (de or en; otherwise German) in this thread only: the console renders it for
    the signed-in person while the command line's language stays as it is."""
    token = _LANGUAGE.set(lang if lang in cli_language.LANGUAGES else cli_language.DEFAULT)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def language() -> str:
    return _LANGUAGE.get() or cli_language.language()


def t(message: str, /, **params: Any) -> str:
    """The command line's catalog (domain ``cli``), in the language of :func:`speaking` or the CLI's."""
    lang = _LANGUAGE.get()
    if lang is None:
        return cli_language.t(message, **params)
    text = domain_translations(lang, cli_language.DOMAIN).gettext(message)
    return text.format(**params) if params else text


def section_titles() -> dict[str, str]:
    return {
        "cases": t("Cases"),
        "hours": t("Hours and appointments"),
        "confirmations": t("Confirmations and reminders"),
        "escalations": t("Three appointments in a row without participation"),
        "alerts": t("Child-protection alerts"),
        "complaints": t("Complaints"),
        "milestones": t("Meilensteingespräche: the family's feedback"),
    }


def row_labels() -> dict[str, str]:
    return {
        # cases
        "active": t("Active cases"),
        "new": t("New cases"),
        "ended": t("Cases ended"),
        "by_help_type": t("Active cases by help type"),
        "by_legal_basis": t("Active cases by legal basis"),
        "ended_by_reason": t("Ended cases by reason"),
        # hours
        "appointments": t("Appointments"),
        "took_place": t("Appointments that took place"),
        "not_recorded": t("Appointments not (yet) recorded"),
        "hours_delivered": t("Hours delivered"),
        "hours_billable": t("Hours billable"),
        "hours_off_budget": t("Hours off the budget"),
        "no_show": t("Family not there (no-show)"),
        "no_show_hours": t("Hours of no-shows"),
        "cancelled_late_by_family": t("Cancelled late by the family (under 24 h)"),
        "cancelled_late_by_family_hours": t("Hours cancelled late by the family"),
        "cancelled_in_time_by_family": t("Cancelled in time by the family (24 h or more)"),
        "cancelled_in_time_by_family_hours": t("Hours cancelled in time by the family"),
        "cancelled_unknown_by_family": t("Cancelled by the family, notice not recorded"),
        "cancelled_late_by_traeger": t("Cancelled late by the Träger (under 24 h)"),
        "cancelled_late_by_traeger_hours": t("Hours cancelled late by the Träger"),
        "cancelled_in_time_by_traeger": t("Cancelled in time by the Träger (24 h or more)"),
        "cancelled_in_time_by_traeger_hours": t("Hours cancelled in time by the Träger"),
        "cancelled_unknown_by_traeger": t("Cancelled by the Träger, notice not recorded"),
        "crisis_interventions": t("Crisis interventions"),
        # confirmations
        "appointments_confirmed": t("Appointments confirmed by the family"),
        "appointments_confirmed_share": t("Share of appointments confirmed by the family"),
        "reminders_sent": t("Reminders sent to families"),
        "appointments_reminded": t("Appointments with a reminder"),
        "reminded_and_confirmed": t("Of these, confirmed by the family"),
        "reminded_confirmed_share": t("Share confirmed after a reminder"),
        "nachweis": t("Monthly proofs (Nachweisblatt)"),
        # escalations and alerts
        "raised": t("Raised"),
        "acknowledged": t("Acknowledged by the fallführende Fachkraft"),
        "handled": t("Handled"),
        "open": t("Still open"),
        "median_hours_to_acknowledge": t("Median hours until acknowledged"),
        "median_hours_to_handle": t("Median hours until handled"),
        "in_time": t("Done in time"),
        "reminder_needed": t("Needed a reminder"),
        # complaints
        "received": t("Complaints received"),
        "anonymous": t("Of these, anonymous"),
        "by_topic": t("By topic"),
        "by_outcome": t("Closed, by outcome"),
        "median_days_to_take_up": t("Median days until taken up"),
        "taken_up_in_time": t("Taken up in time"),
        "median_days_to_answer": t("Median days until answered"),
        "answered_in_time": t("Answered in time"),
        "satisfaction": t("Closed, satisfied with the outcome"),
        # milestones
        "talks": t("Meilensteingespräche"),
        "questionnaires_family": t("Questionnaires answered by family members"),
        "questionnaires_staff": t("Questionnaires answered by Fachkräfte"),
        "cooperation_family": t("Cooperation as the family rates it"),
        "cooperation_staff": t("Cooperation as the Fachkräfte rate it"),
        "goals_family": t("Goals as the family sees them"),
        "goals_reached_share": t("Share of goals reached (family's view)"),
    }


def item_labels() -> dict[str, str]:
    return {
        UNKNOWN: t("not given"),
        # Nachweis
        "confirmed": t("confirmed"), "disputed": t("disputed"), "pending": t("not answered"),
        # closing reasons (conversations.access.closing.REASONS)
        "goals-reached": t("goals reached"), "ended-by-family": t("ended by the family"),
        "ended-by-jugendamt": t("ended by the Jugendamt"), "other-help": t("another help follows"),
        "moved": t("moved away or another office"), "other": t("another reason"),
        # complaint topics, outcomes, satisfaction
        "staff": t("a Fachkraft or other staff"), "appointments": t("appointments"), "jugendamt": t("the Jugendamt"),
        "bot": t("the chat program"), "upheld": t("upheld"), "partly": t("partly"), "not_upheld": t("not upheld"),
        "withdrawn": t("withdrawn"), "yes": t("yes"), "no": t("no"), "no_answer": t("no answer"),
        # cooperation faces, goal ratings
        "1": t("1 (poor)"), "2": "2", "3": "3", "4": "4", "5": t("5 (very good)"),
        "reached": t("reached"), "not_yet": t("not yet"), "unknown_rating": t("don't know"),
    }


def item_text(row: Row, items: dict[str, str]) -> str:
    assert row.item is not None
    if row.key == "goals_family" and row.item == "unknown":
        return items["unknown_rating"]
    if row.key == "by_topic" and row.item == "other":
        return t("something else")
    return items.get(row.item, row.item)  # help types and legal bases are shown as recorded


def period_text(report: Report) -> str:
    p, lang = report.period, language()
    span = f"{format_date(p.first_day, 'medium', locale=lang)} – {format_date(p.last_day, 'medium', locale=lang)}"
    if p.quarter:
        return t("Quarter {quarter} of {year} ({span})", quarter=p.quarter, year=p.year, span=span)
    return t("Year {year} ({span})", year=p.year, span=span)


def value_text(figure: Figure) -> str:
    """A value as shown: "< 5" / "n < 5" for small numbers, "—" for nothing to measure, else by babel."""
    shown = figure.public()
    if isinstance(shown, str):
        return shown
    if shown is None:
        return "—"
    lang = language()
    if shown == 0:
        return "0"
    if isinstance(figure, Measure) and figure.unit == "share":
        return format_percent(shown, "#,##0 %", locale=lang)
    if isinstance(figure, Measure):
        return format_decimal(shown, "#,##0.0", locale=lang)
    return format_decimal(shown, "#,##0", locale=lang)


Line = tuple[str, str, Figure]  # label, item (or ""), figure


def lines(section: Section) -> list[Line]:
    labels, items = row_labels(), item_labels()
    return [(labels.get(r.key, r.key), item_text(r, items) if r.item is not None else "", r.figure)
            for r in section.rows]


def heading(report: Report) -> list[str]:
    out = [t("Figures of {organisation}", organisation=report.organisation), period_text(report)]
    if report.case_type:
        out.append(t("Only cases of the help type {case_type}", case_type=report.case_type))
    return out


def small_note() -> str:
    return t("Only totals, no names. A number from 1 to 4 is shown as “< 5”, a figure resting on 1 to 4 cases or "
             "answers as “n < 5”, so that no family can be recognised.")


def generated_text(report: Report) -> str:
    return t("Made on {moment}", moment=format_datetime(report.generated_at.astimezone(BERLIN), "short",
                                                         tzinfo=BERLIN, locale=language()))


# --- plain text --------------------------------------------------------------------------------------------------
def text(report: Report) -> str:
    titles = section_titles()
    out = [*heading(report), small_note(), ""]
    every = [(label, item) for section in report.sections for label, item, _f in lines(section)]
    width = max(len(item) + 2 if item else len(label) for label, item in every) + 2
    for section in report.sections:
        out.append(titles[section.key])
        previous = None
        for label, item, figure in lines(section):
            if item:
                if label != previous:
                    out.append(f"  {label}:")
                out.append(f"    {item:<{width - 2}} {value_text(figure):>6}")
            else:
                out.append(f"  {label:<{width}} {value_text(figure):>6}")
            previous = label
        out.append("")
    return "\n".join(out).rstrip()


# --- XLSX --------------------------------------------------------------------------------------------------------
def xlsx(report: Report) -> bytes:
    """One sheet: area, figure, entry, value. Numbers are numbers (hours with one decimal, shares as %), a
    hidden small number is the text "< 5" or "n < 5"."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = t("Figures")[:31]
    for row in heading(report):
        sheet.append([row])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([small_note()])
    sheet.append([generated_text(report)])
    sheet.append([])
    sheet.append([t("Area"), t("Figure"), t("Entry"), t("Value")])
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    titles = section_titles()
    for section in report.sections:
        for label, item, figure in lines(section):
            shown = figure.public()
            sheet.append([titles[section.key], label, item or None, "—" if shown is None else shown])
            cell = sheet.cell(row=sheet.max_row, column=4)
            cell.alignment = Alignment(horizontal="right")
            if isinstance(shown, int | float) and not isinstance(shown, bool):
                if isinstance(figure, Measure):
                    cell.number_format = "0%" if figure.unit == "share" else "#,##0.0"
                else:
                    cell.number_format = "#,##0"
    sheet.freeze_panes = sheet.cell(row=header + 1, column=1)
    for column, width in zip("ABCD", (34, 52, 30, 10), strict=True):
        sheet.column_dimensions[column].width = width
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# --- charts ------------------------------------------------------------------------------------------------------
def _bar(label: str, figure: Figure, colour: str = "neutral") -> charts.Bar:
    shown = figure.public()
    if isinstance(shown, str) or shown is None:  # hidden: no bar, only its "< 5"
        return charts.Bar(label, 0.0, colour, text=value_text(figure))
    return charts.Bar(label, float(shown), colour, text=value_text(figure))


def _worth_drawing(bars: list[charts.Bar]) -> bool:
    """At least one bar with a length: a chart of nothing but "< 5" and 0 tells less than the table."""
    return any(bar.value > 0 for bar in bars)


def chart_pngs(report: Report) -> dict[str, bytes]:
    """The charts people look at rather than read, per section (only where there is something to show)."""
    labels, items = row_labels(), item_labels()
    number: Callable[[float], str] = lambda v: format_decimal(v, "#,##0.#", locale=language())  # noqa: E731
    out: dict[str, bytes] = {}
    drawn: dict[str, tuple[str, list[charts.Bar], str | None]] = {}
    cases = report.section("cases")
    by_type = cases.items("by_help_type")
    drawn["cases"] = (labels["by_help_type"], [_bar(item_text(r, items), r.figure, "info") for r in by_type], None)
    hours = report.section("hours")
    keys = [("hours_delivered", "ok"), ("hours_billable", "info"), ("hours_off_budget", "neutral"),
            ("cancelled_late_by_family_hours", "over"), ("no_show_hours", "over"),
            ("cancelled_in_time_by_family_hours", "ahead"), ("cancelled_in_time_by_traeger_hours", "waiting"),
            ("cancelled_late_by_traeger_hours", "waiting")]
    drawn["hours"] = (section_titles()["hours"], [_bar(labels[k], hours.get(k), c) for k, c in keys], t("Hours"))
    complaints = report.section("complaints")
    drawn["complaints"] = (t("Complaints by topic"), [_bar(item_text(r, items), r.figure, "waiting")
                                                      for r in complaints.items("by_topic")], None)
    milestones = report.section("milestones")
    drawn["milestones"] = (labels["cooperation_family"], [_bar(item_text(r, items), r.figure, "ok")
                                                          for r in milestones.items("cooperation_family")], None)
    for key, (title, bars, axis) in drawn.items():
        if _worth_drawing(bars):
            out[key] = charts.bar_chart_png(title, bars, number, axis_label=axis)
    return out


# --- PDF ---------------------------------------------------------------------------------------------------------
def pdf(report: Report) -> bytes:
    from conversations.documents import new_pdf, paragraph

    doc = new_pdf()
    doc.set_title(heading(report)[0])
    paragraph(doc, heading(report)[0], size=16, bold=True, height=9)
    for extra in heading(report)[1:]:
        paragraph(doc, extra, size=12)
    paragraph(doc, generated_text(report), size=9, height=5)
    doc.ln(2)
    paragraph(doc, small_note(), size=9, height=5)
    titles = section_titles()
    pictures = chart_pngs(report)
    for section in report.sections:
        doc.ln(4)
        if doc.get_y() > doc.h - 60:
            doc.add_page()
        paragraph(doc, titles[section.key], size=13, bold=True, height=8)
        doc.set_font(doc.font_family, "", 10)  # the family new_pdf() chose (whichever fonts it ships)
        with doc.table(col_widths=(120, 50), text_align=("LEFT", "RIGHT"), first_row_as_headings=False,
                       line_height=6, borders_layout="HORIZONTAL_LINES") as table:
            previous = None
            for label, item, figure in lines(section):
                if item and label != previous:
                    table.row([label, ""])
                table.row([f"      {item}" if item else label, value_text(figure)])
                previous = label
        if section.key in pictures:
            doc.ln(3)
            width = doc.epw
            if doc.get_y() > doc.h - 90:
                doc.add_page()
            doc.image(io.BytesIO(pictures[section.key]), w=width)
    return bytes(doc.output())


def filename(report: Report, suffix: str) -> str:
    return f"kennzahlen-{report.period}.{suffix}"
