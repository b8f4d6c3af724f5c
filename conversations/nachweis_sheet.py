"""The Nachweisblatt as a document: one month of a case, read once from the database (:func:`build`) and
written three ways that say the same: a PDF to file and sign (:func:`pdf_bytes`), a CSV for the billing
office's spreadsheet (:func:`csv_bytes`), and a dict for scripts (:func:`as_json`).

What it holds (issue 14, seed 004 "Abrechnung"):

- head: the Träger (name, postal address, phone and hours), the Jugendamt and its file number
  (Aktenzeichen), the fallführende Fachkraft, the case reference, the help type with its legal basis,
  the period;
- one row per appointment whose outcome is recorded: date, from–to, kind, Fachkraft, what happened,
  hours off the budget, billable hours, cancelled under 24 h, crisis intervention; a totals row;
- below: budget, approved extra hours, hours still waiting for the Jugendamt's approval, used, billable,
  remaining; cancellations whose time nobody gave (billed nothing until someone does); the family's
  confirmation (who, when, how) or that it is still open; signature lines for the Träger and the
  Personensorgeberechtigte; "Page x of y" and the moment it was created on every page.

Dates, times and numbers are babel's, in the reader's locale (German for the Jugendamt by default); the
CSV uses the same headers and values as the PDF (``;``, UTF-8 with BOM, a totals row).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from sqlalchemy.orm import Session

from conversations import admin
from conversations.appointments import KIND_LABELS, OUTCOME_LABELS, facts, staff_of
from conversations.budget import case_statement, month_appointments, to_review
from conversations.clock import BERLIN, iso
from conversations.documents import Document
from conversations.i18n import FSI, LRI, N_, PDI, RLI, RLM, Translator
from conversations.rules import billing
from conversations.rules.billing import Month, Statement
from conversations.rules.outcomes import AppointmentKind, Notice, Outcome
from storage.models import Case, NachweisConfirmation, Role

# The legal basis of each help type (SGB VIII), added to the head when the case's help type lacks it.
LEGAL_BASIS = (
    (re.compile(r"(?i)\bSPFH\b|sozialpädagogische familienhilfe"), "§ 31 SGB VIII"),
    (re.compile(r"(?i)erziehungsbeist|betreuungshelfer"), "§ 30 SGB VIII"),
    (re.compile(r"(?i)gruppenarbeit"), "§ 29 SGB VIII"),
    (re.compile(r"(?i)\bISE\b|intensive sozialpädagogische einzelbetreuung"), "§ 35 SGB VIII"),
    (re.compile(r"(?i)junge volljährige"), "§ 41 SGB VIII"),
    (re.compile(r"(?i)erziehungsberatung"), "§ 28 SGB VIII"),
)
CHANNEL_NAMES = {"telegram": "Telegram", "matrix": "Matrix", "email": "E-Mail", "console": "Web",
                 "terminal": "Terminal", "test": "Test"}
_MARKS = str.maketrans("", "", FSI + LRI + RLI + PDI + RLM)


def with_legal_basis(help_type: str | None) -> str | None:
    """"SPFH" → "SPFH (§ 31 SGB VIII)"; a help type that names its paragraph stays as it is."""
    if not help_type or "§" in help_type:
        return help_type
    for pattern, basis in LEGAL_BASIS:
        if pattern.search(help_type):
            return f"{help_type} ({basis})"
    return help_type


@dataclass(frozen=True)
class Row:
    appointment_id: int
    starts_at: datetime
    ends_at: datetime
    kind: str
    staff: tuple[str, ...]
    outcome: str
    cancelled_at: datetime | None
    cancel_notice: str | None
    used_minutes: int
    billable_minutes: Fraction
    short_notice: bool
    crisis: bool
    time_unknown: bool


@dataclass(frozen=True)
class Confirmation:
    status: str  # pending (asked, or not asked yet), confirmed, disputed
    by: str | None = None
    at: datetime | None = None
    channel: str | None = None
    remark: str | None = None


@dataclass(frozen=True)
class Sheet:
    month: Month
    created_at: datetime
    organisation: str
    address: str | None
    phone: str | None
    phone_hours: str | None
    case_reference: str
    case_title: str
    help_type: str | None
    jugendamt: str | None
    file_number: str | None
    fallfuehrend: tuple[str, ...]
    rows: tuple[Row, ...]
    statement: Statement
    review: tuple[int, ...]  # family cancellations whose time is not given yet (appointment ids)
    confirmation: Confirmation
    crisis_exempt: bool
    signers: tuple[str, ...] = field(default=())  # the Personensorgeberechtigte (parents) by name

    @property
    def used_minutes(self) -> int:
        return sum(r.used_minutes for r in self.rows)

    @property
    def billable_minutes(self) -> Fraction:
        return sum((r.billable_minutes for r in self.rows), Fraction(0))

    @property
    def short_notice_count(self) -> int:
        return sum(r.short_notice for r in self.rows)

    @property
    def crisis_count(self) -> int:
        return sum(r.crisis for r in self.rows)


def _confirmation(conf: NachweisConfirmation | None) -> Confirmation:
    if conf is None or conf.status == "pending":
        return Confirmation("pending")
    who = conf.answered_by_member.display_name if conf.answered_by_member else None
    return Confirmation(conf.status, who, conf.answered_at, conf.channel, conf.remark)


def build(session: Session, case: Case, month: Month, now: datetime, *,
          confirmation: NachweisConfirmation | None = None) -> Sheet:
    """The month of a case as the Nachweisblatt shows it (appointments whose outcome is recorded)."""
    from conversations.nachweis import confirmation as find_confirmation
    from conversations.nachweis import crisis_exempt

    rows = []
    for a in month_appointments(session, case, month):
        if a.outcome == Outcome.PLANNED:
            continue
        item = billing.charge(facts(a))
        minutes = a.actual_minutes if a.outcome == Outcome.TOOK_PLACE and a.actual_minutes else a.duration_minutes
        rows.append(Row(a.id, a.starts_at, a.starts_at + timedelta(minutes=minutes), a.kind,
                        tuple(s.name for s in staff_of(a)), a.outcome, a.cancelled_at, a.cancel_notice,
                        item.used_minutes, item.billable_minutes, item.short_notice,
                        a.kind == AppointmentKind.KRISENINTERVENTION, item.time_unknown))
    org = case.organisation
    leads = admin.team(case, Role.FALLFUEHREND)
    jugendamt = case.jugendamt or next((p.organisation.name for p in leads if p.organisation_id != org.id), None)
    conf = confirmation if confirmation is not None else find_confirmation(session, case, month)
    return Sheet(
        month=month, created_at=now, organisation=org.name, address=org.address, phone=org.phone,
        phone_hours=org.phone_hours, case_reference=case.reference, case_title=case.title,
        help_type=with_legal_basis(case.help_type), jugendamt=jugendamt, file_number=case.jugendamt_file_number,
        fallfuehrend=tuple(p.name for p in leads), rows=tuple(rows), statement=case_statement(session, case, month),
        review=tuple(a.id for a in to_review(session, case, month)), confirmation=_confirmation(conf),
        crisis_exempt=crisis_exempt(case),
        signers=tuple(m.display_name for m in case.members if m.kind == "parent"))


# --- values as the reader reads them ---------------------------------------------------------------------
def _plain(text: str) -> str:
    return text.translate(_MARKS)


def day(tr: Translator, value: date | datetime) -> str:
    """16.03.2027 (German), 16/03/2027, 03/16/2027 …: day, month and year in digits, the reader's order."""
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN).date()
    return format_skeleton("yMMdd", value, locale=tr.locale)


def clock(tr: Translator, value: datetime) -> str:
    """10:00, on the 24-hour clock in every language (a German document)."""
    return format_skeleton("Hm", value.astimezone(BERLIN), locale=tr.locale)


def hours(tr: Translator, minutes: float | Fraction) -> str:
    """Hours with two decimals and the reader's decimal sign: 2,50 (German), 2.50 (English)."""
    return format_decimal(round(float(minutes) / 60, 2), "#,##0.00", locale=tr.locale)


def moment(tr: Translator, value: datetime) -> str:
    return f"{day(tr, value)} {clock(tr, value)}"


def what_happened(tr: Translator, row: Row) -> str:
    _ = tr.gettext
    text = _(OUTCOME_LABELS.get(row.outcome, row.outcome))
    if row.outcome != Outcome.CANCELLED_BY_FAMILY:
        return text
    if row.cancelled_at is not None:
        return _("{what} on {when}").format(what=text, when=moment(tr, row.cancelled_at))
    if row.cancel_notice == Notice.IN_TIME:
        return _("{what}, 24 h or more before").format(what=text)
    if row.cancel_notice == Notice.SHORT:
        return _("{what}, less than 24 h before").format(what=text)
    return _("{what}, time not given yet (billed nothing)").format(what=text)


def yes_no(tr: Translator, value: bool) -> str:
    return tr.gettext("yes") if value else tr.gettext("no")


def channel_name(channel: str | None) -> str:
    return CHANNEL_NAMES.get(channel or "", channel or "?")


def confirmation_text(tr: Translator, sheet: Sheet) -> str:
    _ = tr.gettext
    conf = sheet.confirmation
    if conf.status == "pending":
        return _("The family's confirmation is still open.")
    values = {"name": conf.by or "?", "when": moment(tr, conf.at) if conf.at else "?",
              "channel": channel_name(conf.channel)}
    if conf.status == "confirmed":
        return _("Confirmed by {name} on {when} via {channel}.").format(**values)
    return _("{name} reported on {when} via {channel} that something is wrong: {remark}").format(
        **values, remark=conf.remark or "")


COLUMNS = (  # (header, width in mm on landscape A4, aligned to the end: numbers)
    (N_("Date"), 20, False), (N_("From–to"), 22, False), (N_("Kind"), 32, False), (N_("Fachkraft"), 42, False),
    (N_("What happened"), 52, False), (N_("Hours"), 16, True), (N_("Billable hours"), 28, True),
    (N_("Cancelled < 24 h"), 27, False), (N_("Crisis"), 22, False),
)


def table(tr: Translator, sheet: Sheet) -> tuple[list[str], list[list[str]], list[str]]:
    """Headers, rows and the totals row, as both the PDF and the CSV show them."""
    _ = tr.gettext
    headers = [_(h) for h, _w, _n in COLUMNS]
    body = [[day(tr, r.starts_at), f"{clock(tr, r.starts_at)}–{clock(tr, r.ends_at)}", _(KIND_LABELS.get(
        r.kind, KIND_LABELS[AppointmentKind.OTHER])), ", ".join(r.staff), what_happened(tr, r),
        hours(tr, r.used_minutes), hours(tr, r.billable_minutes), yes_no(tr, r.short_notice), yes_no(tr, r.crisis)]
        for r in sheet.rows]
    totals = [_("Total"), "", tr.ngettext("{n} appointment", "{n} appointments", len(sheet.rows)).format(
        n=len(sheet.rows)), "", "", hours(tr, sheet.used_minutes),
              hours(tr, sheet.billable_minutes), str(sheet.short_notice_count), str(sheet.crisis_count)]
    return headers, body, totals


def head_fields(tr: Translator, sheet: Sheet) -> list[tuple[str, str]]:
    _ = tr.gettext
    return [
        (_("Jugendamt"), sheet.jugendamt or "—"),
        (_("File number (Aktenzeichen)"), sheet.file_number or "—"),
        (_("Fallführende Fachkraft"), ", ".join(sheet.fallfuehrend) or "—"),
        (_("Case"), f"{sheet.case_title} ({sheet.case_reference})"),
        (_("Help type"), sheet.help_type or "—"),
        (_("Period"), f"{day(tr, sheet.month.first_day)} – {day(tr, sheet.month.last_day)}"),
    ]


def account_fields(tr: Translator, sheet: Sheet) -> list[tuple[str, str]]:
    _ = tr.gettext
    stmt = sheet.statement
    fields = [
        (_("Monthly budget (Hilfeplan)"), hours(tr, stmt.budget_minutes)),
        (_("Extra hours approved by the Jugendamt"), hours(tr, stmt.approved_extra_minutes)),
    ]
    if stmt.pending_extra_minutes:
        fields.append((_("Extra hours waiting for the Jugendamt's approval"), hours(tr, stmt.pending_extra_minutes)))
    fields += [
        (_("Used"), hours(tr, stmt.used_minutes)),
        (_("Billable"), hours(tr, stmt.billable_minutes)),
        (_("Remaining"), hours(tr, stmt.remaining_minutes)),
    ]
    if stmt.planned_minutes:
        fields.append((_("Still planned or not recorded"), hours(tr, stmt.planned_minutes)))
    return fields


# --- the CSV -----------------------------------------------------------------------------------------------------
def csv_bytes(tr: Translator, sheet: Sheet) -> bytes:
    """The same table as the PDF, its head and account as "label;value" lines above and below."""
    _ = tr.gettext
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Nachweisblatt"), _plain(tr.month(sheet.month.first_day))])
    writer.writerow([_("Träger"), sheet.organisation])
    writer.writerow([_("Address"), ", ".join((sheet.address or "").splitlines()) or "—"])
    writer.writerow([_("Phone"), " ".join(filter(None, (sheet.phone, sheet.phone_hours and f"({sheet.phone_hours})")))
                     or "—"])
    for label, value in head_fields(tr, sheet):
        writer.writerow([label, value])
    writer.writerow([])
    headers, body, totals = table(tr, sheet)
    writer.writerow(headers)
    writer.writerows(body)
    writer.writerow(totals)
    writer.writerow([])
    for label, value in account_fields(tr, sheet):
        writer.writerow([label, value])
    writer.writerow([_("Confirmation by the family"), confirmation_text(tr, sheet)])
    writer.writerow([_("Created on"), moment(tr, sheet.created_at)])
    return out.getvalue().encode("utf-8-sig")  # the BOM lets spreadsheet programs read umlauts


# --- JSON ----------------------------------------------------------------------------------------------------------
def _h(minutes: float | Fraction) -> float:
    return round(float(minutes) / 60, 2)


def as_json(sheet: Sheet) -> dict[str, object]:
    """The same content for scripts: ISO 8601 times with their offset, hours as numbers."""
    stmt = sheet.statement
    conf = sheet.confirmation
    return {
        "case": sheet.case_reference, "month": str(sheet.month), "created_at": iso(sheet.created_at),
        "organisation": {"name": sheet.organisation, "address": sheet.address, "phone": sheet.phone,
                         "phone_hours": sheet.phone_hours},
        "jugendamt": sheet.jugendamt, "jugendamt_file_number": sheet.file_number,
        "fallfuehrend": list(sheet.fallfuehrend), "case_title": sheet.case_title, "help_type": sheet.help_type,
        "period": {"from": sheet.month.first_day.isoformat(), "to": sheet.month.last_day.isoformat()},
        "appointments": [{
            "id": r.appointment_id, "starts_at": iso(r.starts_at), "ends_at": iso(r.ends_at), "kind": r.kind,
            "staff": list(r.staff), "outcome": r.outcome, "cancelled_at": iso(r.cancelled_at),
            "cancel_notice": r.cancel_notice, "cancellation_time_unknown": r.time_unknown,
            "hours_used": _h(r.used_minutes), "billable_hours": _h(r.billable_minutes),
            "short_notice": r.short_notice, "crisis": r.crisis} for r in sheet.rows],
        "totals": {"appointments": len(sheet.rows), "hours_used": _h(sheet.used_minutes),
                   "billable_hours": _h(sheet.billable_minutes), "short_notice": sheet.short_notice_count,
                   "crisis": sheet.crisis_count},
        "budget_hours": _h(stmt.budget_minutes), "approved_extra_hours": _h(stmt.approved_extra_minutes),
        "pending_extra_hours": _h(stmt.pending_extra_minutes), "used_hours": _h(stmt.used_minutes),
        "billable_hours": _h(stmt.billable_minutes), "remaining_hours": _h(stmt.remaining_minutes),
        "planned_hours": _h(stmt.planned_minutes), "to_review": list(sheet.review),
        "family_confirmation": conf.status, "confirmed_by": conf.by, "confirmed_at": iso(conf.at),
        "confirmed_via": conf.channel, "remark": conf.remark, "crisis_exempt": sheet.crisis_exempt,
    }


# --- the PDF -------------------------------------------------------------------------------------------------------
def _label_value_table(pdf: Document, fields: list[tuple[str, str]], widths: tuple[float, float],
                       numbers: bool = False) -> None:
    """Label and value side by side (labels bold), from where the reader starts; no borders."""
    from fpdf.fonts import FontFace

    label_first = not pdf.rtl
    col_widths = widths if label_first else widths[::-1]
    value_align = pdf.end if numbers else pdf.start
    aligns = (pdf.start, value_align) if label_first else (value_align, pdf.start)
    pdf.use(9.5)
    with pdf.table(col_widths=col_widths, width=sum(widths), text_align=aligns, borders_layout="NONE",
                   first_row_as_headings=False, line_height=4.8, padding=(0.6, 1.2),
                   align="RIGHT" if pdf.rtl else "LEFT") as grid:
        for label, value in fields:
            row = grid.row()
            cells = [(label, True), (value, False)] if label_first else [(value, False), (label, True)]
            for text, bold in cells:
                row.cell(text, style=FontFace(emphasis="BOLD") if bold else None)


def pdf_bytes(tr: Translator, sheet: Sheet) -> bytes:
    _ = tr.gettext
    created = moment(tr, sheet.created_at)

    def footer(doc: Document) -> str:
        return _("Nachweisblatt {case}, {month} · created on {when} · {page}").format(
            case=sheet.case_reference, month=_plain(tr.month(sheet.month.first_day)), when=created,
            page=doc.page_of())

    pdf = Document(tr, landscape=True, footer=footer)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    top = pdf.get_y()
    # The letterhead: the Träger at the reader's start, the title at the other side.
    half = pdf.l_margin + width / 2
    lines = [(sheet.organisation, 12, True, 6.0), *[(line, 9.5, False, 4.6) for line in
                                                   (sheet.address or "").splitlines()]]
    if sheet.phone:
        phone = _("Phone {phone}").format(phone=sheet.phone)
        lines.append((phone + (f" ({sheet.phone_hours})" if sheet.phone_hours else ""), 9.5, False, 4.6))
    for text, size, bold, height in lines:
        pdf.set_x(half if pdf.rtl else pdf.l_margin)
        pdf.use(size, bold)
        pdf.multi_cell(width / 2, height, text, align=pdf.start, new_x="LMARGIN", new_y="NEXT")
    below_head = pdf.get_y()
    pdf.set_xy(pdf.l_margin if pdf.rtl else half, top)
    pdf.use(17, True)
    pdf.multi_cell(width / 2, 8, _("Nachweisblatt"), align=pdf.end, new_x="LEFT", new_y="NEXT")
    pdf.use(11)
    pdf.multi_cell(width / 2, 6, _("Proof of services for {month}").format(
        month=_plain(tr.month(sheet.month.first_day))), align=pdf.end, new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, max(below_head, pdf.get_y()) + 4)
    _label_value_table(pdf, head_fields(tr, sheet), (52, 140))
    pdf.ln(4)

    # The appointments.
    headers, body, totals = table(tr, sheet)
    widths = [w for _h, w, _n in COLUMNS]
    numeric = [n for _h, _w, n in COLUMNS]
    if pdf.rtl:  # a right-to-left reader starts at the right: the first column there
        headers, widths, numeric = headers[::-1], widths[::-1], numeric[::-1]
        body = [row[::-1] for row in body]
        totals = totals[::-1]
    align = [pdf.end if n else pdf.start for n in numeric]
    pdf.use(8.5)
    from fpdf.fonts import FontFace

    with pdf.table(col_widths=widths, width=sum(widths), text_align=align, line_height=4.6, padding=1.2,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(230, 236, 240)),
                   repeat_headings=1) as grid:
        grid.row(headers)
        for values in body or [[""] * len(headers)]:
            grid.row(values)
        totals_style = FontFace(emphasis="BOLD", fill_color=(245, 245, 245))
        grid.row(totals, style=totals_style)
    if not body:
        pdf.paragraph(_("No appointment with a recorded outcome in this month."), 9)
    pdf.ln(3)

    # The account of the month.
    if pdf.will_page_break(45):
        pdf.add_page()
    pdf.paragraph(_("Hours of the month"), 11, True)
    _label_value_table(pdf, account_fields(tr, sheet), (85, 25), numbers=True)
    pdf.ln(1)
    notes = []
    if sheet.review:
        notes.append(_("Cancelled by the family, the time of cancellation not given yet (billed nothing until it "
                       "is): {dates}").format(dates=", ".join(day(tr, r.starts_at) for r in sheet.rows
                                                              if r.appointment_id in sheet.review)))
    if sheet.crisis_exempt and sheet.crisis_count:
        notes.append(_("Crisis interventions need no confirmation by the family."))
    notes.append(_("Cancelled by the family less than 24 h before, or the family was not there: 50 % billable, "
                   "the full hours off the budget (Leistungsvereinbarung, Abrechnung)."))
    for note in notes:
        pdf.paragraph(note, 8.5)
    pdf.ln(2)
    pdf.paragraph(_("Confirmation by the family"), 11, True)
    pdf.paragraph(confirmation_text(tr, sheet), 9.5)

    # The signatures.
    if pdf.will_page_break(26):
        pdf.add_page()
    pdf.ln(12)
    y = pdf.get_y()
    box = (width - 20) / 2
    captions = [_("Place, date, signature of the Träger"),
                _("Place, date, signature of the Personensorgeberechtigte")]
    if sheet.signers:
        captions[1] += f" ({', '.join(sheet.signers)})"
    if pdf.rtl:
        captions.reverse()
    for index, caption in enumerate(captions):
        x = pdf.l_margin + index * (box + 20)
        pdf.line(x, y, x + box, y)
        pdf.set_xy(x, y + 1)
        pdf.use(8.5)
        pdf.multi_cell(box, 4.4, caption, align=pdf.start, new_x="RIGHT", new_y="TOP")
    return bytes(pdf.output())


# "Time" headed the Nachweisblatt's old time column; other tables use the catalog's translation of it.
KEPT_IN_CATALOG = (N_("Time"),)
