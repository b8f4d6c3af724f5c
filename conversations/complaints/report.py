"""Lists, exports and yearly figures of complaints, for the CLI and the Leistungsbericht.

Rows carry no complaint text unless asked for (``with_text``); an anonymous complaint never carries a
name. Callers audit what they read.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.clock import berlin, iso
from conversations.complaints import procedure, rules
from conversations.complaints.rules import Category, Outcome, Status
from conversations.i18n import translator
from storage.models.complaints import Complaint


@dataclass(frozen=True)
class Filters:
    status: str | None = None  # one status, or "open" for every status before closed
    category: str | None = None
    month: str | None = None  # YYYY-MM, by the day it was received (Berlin)
    year: int | None = None
    organisation_id: int | None = None
    anonymous: bool | None = None  # True: anonymous only; False: named only
    limit: int | None = None


def _month_range(month: str) -> tuple[datetime, datetime]:
    try:
        year, mon = (int(p) for p in month.split("-", 1))
        start = berlin(year, mon, 1)
    except ValueError:
        raise ValueError(f"month must look like 2027-03, not {month!r}") from None
    end = berlin(year + (mon == 12), mon % 12 + 1, 1)
    return start, end


def find(session: Session, filters: Filters) -> list[Complaint]:
    query = select(Complaint).where(Complaint.status != Status.DRAFT)
    if filters.organisation_id is not None:
        query = query.where(Complaint.organisation_id == filters.organisation_id)
    if filters.anonymous is not None:
        query = query.where(Complaint.anonymous.is_(filters.anonymous))
    if filters.status == "open":
        query = query.where(Complaint.status.in_([s.value for s in rules.OPEN]))
    elif filters.status:
        if filters.status not in {s.value for s in Status} - {Status.DRAFT}:
            raise ValueError(f"status must be one of {', '.join(s.value for s in Status if s != Status.DRAFT)}")
        query = query.where(Complaint.status == filters.status)
    if filters.category:
        if filters.category not in {c.value for c in Category}:
            raise ValueError(f"category must be one of {', '.join(c.value for c in Category)}")
        query = query.where(Complaint.category == filters.category)
    if filters.month:
        start, end = _month_range(filters.month)
        query = query.where(Complaint.submitted_at >= start, Complaint.submitted_at < end)
    if filters.year:
        query = query.where(Complaint.submitted_at >= berlin(filters.year, 1, 1),
                            Complaint.submitted_at < berlin(filters.year + 1, 1, 1))
    query = query.order_by(Complaint.submitted_at, Complaint.id)
    return list(session.scalars(query.limit(filters.limit) if filters.limit else query))


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 with the Berlin offset, whole seconds (``conversations.clock.iso``, as every ``--json``)."""
    return iso(value)


def days_to_answer(c: Complaint) -> float | None:
    """From receipt to the first answer (or to closing, if it was closed without a written answer)."""
    done = c.answered_at or c.closed_at
    if not done or not c.submitted_at:
        return None
    return round((done - c.submitted_at).total_seconds() / 86400, 1)


def answered_in_time(c: Complaint) -> bool | None:
    done = c.answered_at or c.closed_at
    return None if done is None or c.answer_due is None else done <= c.answer_due


def row(c: Complaint, *, with_text: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": c.reference,
        "received": _iso(c.submitted_at),
        "category": c.category,
        "anonymous": c.anonymous,
        "answer_wanted": c.answer_wanted,
        "status": c.status,
        "officer": c.officer.name if c.officer else None,
        "take_up_due": _iso(c.take_up_due),
        "taken_up": _iso(c.taken_at),
        "answer_due": _iso(c.answer_due),
        "answered": _iso(c.answered_at),
        "closed": _iso(c.closed_at),
        "outcome": c.outcome,
        "satisfaction": c.satisfaction,
        "days_to_answer": days_to_answer(c),
        "answered_in_time": answered_in_time(c),
    }
    if with_text:
        data["what_happened"] = "\n\n".join(e.text for e in c.entries if e.kind == "account")
        data["what_was_done"] = c.resolution
    return data


def detail(session: Session, c: Complaint) -> dict[str, Any]:
    """Everything about one complaint, as an officer sees it (anonymous stays anonymous)."""
    tr = translator("en")
    return {
        **row(c),
        "about": procedure.about_text(tr, c),
        "about_staff": c.about_staff.name if c.about_staff else None,
        "from": procedure.from_text(tr, session, c),
        "contact": c.contact if c.answer_wanted == rules.AnswerWanted.PHONE else None,
        "leitung_only": c.leitung_only,
        "exchange": [{"at": iso(e.at), "kind": e.kind, "by": e.staff.name if e.staff else None,
                      "text": e.text} for e in c.entries],
        "files": [{"filename": f.filename, "mime_type": f.mime_type, "size": f.size} for f in c.files],
        "what_was_done": c.resolution,
    }


def stats(complaints: Sequence[Complaint]) -> dict[str, Any]:
    answered = [d for d in (days_to_answer(c) for c in complaints) if d is not None]
    in_time = [t for t in (answered_in_time(c) for c in complaints) if t is not None]
    return {
        "total": len(complaints),
        "anonymous": sum(c.anonymous for c in complaints),
        "by_category": {c.value: sum(x.category == c for x in complaints) for c in Category},
        "by_outcome": {o.value: sum(x.outcome == o for x in complaints) for o in Outcome},
        "open": sum(c.status != Status.CLOSED for c in complaints),
        "satisfaction": dict(Counter(c.satisfaction or "not_asked_or_no_answer" for c in complaints
                                     if c.status == Status.CLOSED)),
        "median_days_to_answer": round(statistics.median(answered), 1) if answered else None,
        "answered_in_time": sum(in_time),
        "answered_late": len(in_time) - sum(in_time),
    }


# --- files ---------------------------------------------------------------------------------------
TIME_FIELDS = ("received", "take_up_due", "taken_up", "answer_due", "answered", "closed")
LABELS = {"category": rules.CATEGORY_LABELS, "status": rules.STATUS_LABELS, "outcome": rules.OUTCOME_LABELS,
          "satisfaction": rules.SATISFACTION_LABELS, "answer_wanted": rules.ANSWER_LABELS}


@dataclass(frozen=True)
class Sheet:
    """The export as a table for one reader: headers in their language, cells typed (a Berlin time without
    zone and seconds, a number, text). CSV and XLSX are written from the same sheet, so they agree."""

    headers: list[str]
    rows: list[list[Any]]
    yes: str
    no: str
    lang: str

    def text(self, value: Any) -> str:
        """A cell as the CSV (and the XLSX's display) shows it: 16.03.2027 10:00, 3,5, Ja."""
        from babel.dates import format_datetime
        from babel.numbers import format_decimal

        if value is None:
            return ""
        if isinstance(value, bool):
            return self.yes if value else self.no
        if isinstance(value, datetime):
            return format_datetime(value, DATETIME_PATTERN.get(self.lang, DATETIME_PATTERN["de"]), locale=self.lang)
        if isinstance(value, int | float):
            return format_decimal(value, locale=self.lang)
        return str(value)


DATETIME_PATTERN = {"de": "dd.MM.yyyy HH:mm", "en": "yyyy-MM-dd HH:mm"}
XLSX_PATTERN = {"de": "DD.MM.YYYY HH:MM", "en": "YYYY-MM-DD HH:MM"}


def sheet(rows: Sequence[dict[str, Any]], headers: dict[str, str], *, lang: str, yes: str, no: str) -> Sheet:
    """``rows`` (:func:`row`) as a table: ``headers`` names each field in the reader's language; codes
    (category, status, outcome, …) become the labels the chat shows, in that language."""
    from conversations.clock import BERLIN

    tr = translator(lang)
    keys = list(rows[0]) if rows else [k for k in headers if k not in ("what_happened", "what_was_done")]
    table = []
    for item in rows:
        cells: list[Any] = []
        for key in keys:
            value = item.get(key)
            if key in TIME_FIELDS and value:
                value = datetime.fromisoformat(value).astimezone(BERLIN).replace(tzinfo=None, second=0)
            elif key in LABELS and value:
                label = {str(k): v for k, v in LABELS[key].items()}.get(value)
                value = tr.gettext(label) if label else value
            cells.append(value)
        table.append(cells)
    return Sheet([headers.get(k, k) for k in keys], table, yes, no, lang)


def to_csv(table: Sheet) -> bytes:
    """``;`` between fields (what German spreadsheets expect), UTF-8 with a BOM (ä, ı, ї read right)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.headers)
    for cells in table.rows:
        writer.writerow([table.text(c) for c in cells])
    return ("\ufeff" + buf.getvalue()).encode()


def to_xlsx(table: Sheet, title: str = "Beschwerden") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet_ = book.active
    sheet_.title = title[:31]
    sheet_.append(table.headers)
    for cell in sheet_[1]:
        cell.font = Font(bold=True)
    for cells in table.rows:
        sheet_.append([(table.yes if c else table.no) if isinstance(c, bool) else c for c in cells])
    for row_cells in sheet_.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, datetime):
                cell.number_format = XLSX_PATTERN.get(table.lang, XLSX_PATTERN["de"])
    sheet_.freeze_panes = "A2"
    for index, name in enumerate(table.headers):
        column = [table.text(cells[index]) for cells in table.rows]
        width = max([len(name), *(len(v) for v in column)])
        sheet_.column_dimensions[sheet_.cell(1, index + 1).column_letter].width = min(width + 2, 60)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def parse_year(value: int | None, today: date) -> int:
    return value or today.year
