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

from conversations.clock import berlin
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
    return value.isoformat() if value else None


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
        "exchange": [{"at": e.at.isoformat(), "kind": e.kind, "by": e.staff.name if e.staff else None,
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
def to_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode()  # the BOM makes Excel read UTF-8 (ä, ı, ї) correctly


def to_xlsx(rows: Sequence[dict[str, Any]], title: str = "Beschwerden") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    if rows:
        header = list(rows[0])
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for item in rows:
            sheet.append([_cell(item[k]) for k in header])
        sheet.freeze_panes = "A2"
        for column, name in zip(sheet.columns, header, strict=True):
            width = max(len(name), *(len(str(c.value or "")) for c in column))
            sheet.column_dimensions[column[0].column_letter].width = min(width + 2, 60)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _cell(value: Any) -> Any:
    """Spreadsheet cells: dates as real dates (Berlin, without zone, as Excel wants), the rest as is."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        from conversations.clock import BERLIN

        return datetime.fromisoformat(value).astimezone(BERLIN).replace(tzinfo=None)
    return value


def parse_year(value: int | None, today: date) -> int:
    return value or today.year
