"""`wegbegleiter complaints list|show|export|stats`: the complaint officers' and the Leitung's command line.

Every read leaves an audit event. ``show --as STAFF_ID`` answers as that staff member would see it: a
staff member named in a complaint (or anyone who is neither officer nor Leitung) is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from bot.cli import CLI, cli, emit, fail_cleanly, json_option, unit_of_work
from bot.cli_language import language, t, tn
from conversations import admin, authz
from conversations.admin import AdminError
from conversations.complaints import procedure, report
from conversations.complaints.report import Filters
from conversations.complaints.rules import Category, Status
from conversations.i18n import translator
from storage.models.complaints import Complaint

STATUSES = [s.value for s in Status if s != Status.DRAFT]


def export_headers() -> dict[str, str]:
    """The export's column names in the operator's language; the same field names as ``--json``."""
    return {"reference": t("Reference"), "received": t("Received"), "category": t("Category"),
            "anonymous": t("Anonymous"), "answer_wanted": t("Answer wanted"), "status": t("Status"),
            "officer": t("Officer"), "take_up_due": t("Take up by"), "taken_up": t("Taken up"),
            "answer_due": t("Answer by"), "answered": t("Answered"), "closed": t("Closed"),
            "outcome": t("Outcome"), "satisfaction": t("Satisfaction"), "days_to_answer": t("Days to answer"),
            "answered_in_time": t("Answered in time"), "what_happened": t("What happened"),
            "what_was_done": t("What was done")}
CATEGORIES = [c.value for c in Category]


def filter_options(func: Any) -> Any:
    func = click.option("--status", type=click.Choice(STATUSES), help="Only complaints in this state.")(func)
    func = click.option("--category", type=click.Choice(CATEGORIES), help="Only complaints about this.")(func)
    return click.option("--month", metavar="YYYY-MM", help="Only complaints received in this month.")(func)


@cli.group()
def complaints() -> None:
    """Complaints (Beschwerdemanagement): list, show, export, yearly figures."""


@complaints.command("list")
@filter_options
@json_option
@fail_cleanly
def complaints_list(status: str | None, category: str | None, month: str | None, as_json: bool) -> None:
    """Complaints, oldest first, with state and due dates (no complaint text)."""
    with unit_of_work() as (app, session):
        found = report.find(session, Filters(status=status, category=category, month=month))
        rows = [report.row(c) for c in found]
        procedure.log_many(session, app.services.clock.now(), CLI.label, "complaint.listed", found)

    def human() -> str:
        if not rows:
            return "No complaints."
        lines = [f"{'reference':12} {'received':10} {'category':13} {'status':12} {'answer due':10} officer"]
        lines += [f"{r['reference']:12} {(r['received'] or '')[:10]:10} {r['category']:13} {r['status']:12} "
                  f"{(r['answer_due'] or '')[:10]:10} {r['officer'] or '—'}" for r in rows]
        return "\n".join(lines)

    emit(rows, human, as_json)


def _find(session: Any, reference: str) -> Complaint:
    complaint = session.scalar(select(Complaint).where(Complaint.reference == reference.upper()))
    if complaint is None and reference.isdigit():
        complaint = session.get(Complaint, int(reference))
    if complaint is None or complaint.status == Status.DRAFT:
        raise AdminError(f"no complaint {reference!r} (give its reference, e.g. B-2027-0001)")
    return complaint


@complaints.command("show")
@click.argument("reference")
@click.option("--as", "as_staff", type=int, help="Staff id to read as; refused if they may not see it.")
@json_option
@fail_cleanly
def complaints_show(reference: str, as_staff: int | None, as_json: bool) -> None:
    """One complaint in full: what happened, the exchange, the outcome."""
    with unit_of_work() as (app, session):
        complaint = _find(session, reference)
        actor = CLI.label
        if as_staff is not None:
            staff = admin.staff_member(session, as_staff)
            if not authz.may_see_complaint(authz.as_staff(staff), complaint):
                # the same words as for a complaint that does not exist: nothing is revealed
                raise AdminError(f"no complaint {reference!r} (give its reference, e.g. B-2027-0001)")
            actor = f"staff:{staff.id}"
        data = report.detail(session, complaint)
        procedure.log(session, app.services.clock.now(), actor, "complaint.read", complaint)

    def human() -> str:
        lines = [f"{data['reference']}  {data['status']}  received {data['received']}",
                 f"About: {data['about']}", f"From: {data['from']}", f"Answer wanted: {data['answer_wanted']}"
                 + (f" ({data['contact']})" if data["contact"] else ""),
                 f"Officer: {data['officer'] or '—'}   take up by {data['take_up_due']}   answer by {data['answer_due']}"]
        for entry in data["exchange"]:
            lines += ["", f"[{entry['kind']}] {entry['at']} {entry['by'] or ''}".rstrip(), entry["text"]]
        if data["files"]:
            lines += ["", "Files: " + ", ".join(f"{f['filename']} ({f['size']} bytes)" for f in data["files"])]
        if data["outcome"]:
            lines += ["", f"Outcome: {data['outcome']}   satisfaction: {data['satisfaction'] or '—'}"]
        return "\n".join(lines)

    emit(data, human, as_json)


@complaints.command("export")
@filter_options
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), help="Default: from the file name.")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="File to write.")
@click.option("--with-text", is_flag=True, help="Also export what happened and what was done (sensitive).")
@json_option
@fail_cleanly
def complaints_export(status: str | None, category: str | None, month: str | None, fmt: str | None, output: Path,
                      with_text: bool, as_json: bool) -> None:
    """Write complaints to a CSV or XLSX file (one row each)."""
    fmt = fmt or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
    with unit_of_work() as (app, session):
        found = report.find(session, Filters(status=status, category=category, month=month))
        rows = [report.row(c, with_text=with_text) for c in found]
        table = report.sheet(rows, export_headers(), lang=language(), yes=t("yes"), no=t("no"))
        output.write_bytes(report.to_xlsx(table, t("Complaints")) if fmt == "xlsx" else report.to_csv(table))
        procedure.log_many(session, app.services.clock.now(), CLI.label, "complaint.exported", found)
    emit({"file": str(output), "format": fmt, "rows": len(rows), "with_text": with_text},
         tn("{n} complaint written to {file}.", "{n} complaints written to {file}.", len(rows), n=len(rows),
            file=output), as_json)


@complaints.command("stats")
@click.option("--year", type=int, help="Calendar year (default: this year).")
@json_option
@fail_cleanly
def complaints_stats(year: int | None, as_json: bool) -> None:
    """Figures for the Leistungsbericht: numbers by category and outcome, median days to answer."""
    with unit_of_work() as (app, session):
        year = report.parse_year(year, app.services.clock.now().date())
        data = {"year": year, **report.stats(report.find(session, Filters(year=year)))}
        admin.audit(session, at=app.services.clock.now(), actor=CLI.label, action="complaint.stats",
                    object_type="complaint", year=year)

    def human() -> str:
        from babel.numbers import format_decimal

        tr = translator(language())

        def label(kind: str, key: str) -> str:
            found = {str(k): v for k, v in report.LABELS[kind].items()}.get(key)
            return tr.gettext(found) if found else t("no answer") if key == "not_asked_or_no_answer" else key

        median = data["median_days_to_answer"]
        lines = [t("Complaints {year}: {total} ({anonymous} anonymous, {open} open)", year=year, total=data["total"],
                   anonymous=data["anonymous"], open=data["open"]),
                 t("By category: {counts}", counts=", ".join(f"{label('category', k)} {v}"
                                                             for k, v in data["by_category"].items())),
                 t("By outcome: {counts}", counts=", ".join(f"{label('outcome', k)} {v}"
                                                           for k, v in data["by_outcome"].items())),
                 t("Median days to answer: {days}", days=format_decimal(median, locale=language())
                   if median is not None else "—") + "   "
                 + t("in time {in_time}, late {late}", in_time=data["answered_in_time"], late=data["answered_late"])]
        if data["satisfaction"]:
            lines.append(t("Satisfaction: {counts}", counts=", ".join(
                f"{label('satisfaction', k)} {v}" for k, v in data["satisfaction"].items())))
        return "\n".join(lines)

    emit(data, human, as_json)
