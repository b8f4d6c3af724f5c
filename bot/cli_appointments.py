"""`wegbegleiter appointments …`, `wegbegleiter budget …` and `wegbegleiter nachweis CASE MONTH`.

Appointments entered here are told to the family like those entered in the chat (with an .ics file).
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from bot.cli import CLI, cli, emit, fail_cleanly, json_option, parse_date, unit_of_work
from bot.cli_language import t
from conversations import admin, budget, timeparse
from conversations import appointments as appts
from conversations.admin import AdminError
from conversations.appointment_jobs import offsets_for, set_offsets
from conversations.clock import iso
from conversations.i18n import translator
from conversations.rules import billing
from conversations.rules.billing import Month
from conversations.rules.outcomes import AppointmentKind, Notice, Outcome
from storage.models import Appointment, Case

KINDS = [k.value for k in AppointmentKind]
OUTCOMES = [o.value for o in Outcome if o != Outcome.PLANNED]


def parse_start(value: str) -> datetime:
    """"2027-03-16 10:00" or "16.03.2027 10:00" (Europe/Berlin wall-clock time) → aware."""
    return timeparse.cli_moment(value)


def parse_cancelled(at: str | None, notice: str | None) -> appts.When:
    """``--at`` (a moment, "now" or "unknown") and ``--notice`` (24h-or-more, under-24h) → when it was."""
    if at and notice:
        raise AdminError("give either --at or --notice, not both")
    if notice:
        return NOTICES[notice]
    if at is None or at.strip().casefold() == "unknown":
        return None
    return appts.NOW if at.strip().casefold() == "now" else timeparse.cli_moment(at)


NOTICES = {"24h-or-more": Notice.IN_TIME, "under-24h": Notice.SHORT}


def at_option(func: Any) -> Any:
    func = click.option("--notice", type=click.Choice(list(NOTICES)),
                        help="Only how long before the start the family cancelled, if the moment is not known.")(func)
    return click.option("--at", "at", metavar="WHEN",
                        help="When the family's cancellation reached you: '16.03.2027 10:00', "
                             "'2027-03-16 10:00' (Berlin), 'now' or 'unknown' (the default: billed nothing "
                             "and listed for review until you give it).")(func)


def as_dict(a: Appointment) -> dict[str, Any]:
    item = billing.charge(appts.facts(a))
    return {
        "id": a.id, "case": a.case.reference, "kind": a.kind,
        "starts_at": iso(a.starts_at), "minutes": a.duration_minutes,
        "place": a.place, "outcome": a.outcome, "actual_minutes": a.actual_minutes,
        "cancelled_at": iso(a.cancelled_at), "cancel_notice": a.cancel_notice,
        "cancellation_time_unknown": item.time_unknown,
        "confirmed_by_family": a.confirmed_at is not None, "series": a.series_id,
        "staff": [s.staff_member.name for s in a.staff], "members": [m.member.display_name for m in a.members],
        "hours_used": round(item.used_minutes / 60, 2), "billable_hours": round(float(item.billable_minutes) / 60, 2),
        "short_notice": item.short_notice, "ics_sequence": a.ics_sequence,
    }


def line(a: dict[str, Any]) -> str:
    from bot.cli_language import t  # imported here: the import block above is shared with other jobs' changes

    minutes = t("{minutes} min", minutes=a["minutes"])
    text = (f"#{a['id']:<4} {a['starts_at'][:16].replace('T', ' ')}  {minutes:>8}  "
            f"{a['kind']:<20} {a['outcome']:<22} {a['case']}")
    if a["cancellation_time_unknown"]:
        text += "  " + t("[time of cancellation unknown: billed nothing until you give it with "
                         "`appointments outcome {id} cancelled_by_family --at …`]", id=a["id"])
    elif a["cancelled_at"] and a["outcome"] == "cancelled_by_family":
        text += "  " + t("[cancelled {when}]", when=a["cancelled_at"][:16].replace("T", " "))
    return text


def _create(session: Any, app: Any, case: Case, kind: str, start: str, minutes: int, staff_ids: tuple[int, ...],
            member_ids: tuple[int, ...], place: str | None, weeks: int) -> list[Appointment]:
    staff = [admin.staff_member(session, i) for i in staff_ids] or admin.team(case)
    members = [admin.family_member(session, i) for i in member_ids] or appts.default_members(case)
    if weeks > 1:
        return appts.create_weekly(session, app.services, CLI, case, kind, parse_start(start), minutes, staff,
                                   members, weeks, place)
    return [appts.create_appointment(session, app.services, CLI, case, kind, parse_start(start), minutes, staff,
                                     members, place)]


@cli.group("appointments")
def appointments_group() -> None:
    """Appointments (Hausbesuche, …): add, list, move, cancel, record what happened, import."""


@appointments_group.command("add")
@click.argument("case_ref")
@click.option("--start", required=True, help="Berlin time: '2027-03-16 10:00' or '16.03.2027 10:00'.")
@click.option("--minutes", type=int, default=120, show_default=True)
@click.option("--kind", type=click.Choice(KINDS), default="hausbesuch", show_default=True)
@click.option("--staff", "staff_ids", type=int, multiple=True, help="Staff id (repeatable; default: the team).")
@click.option("--member", "member_ids", type=int, multiple=True,
              help="Family member id (repeatable; default: parents and adults).")
@click.option("--place")
@click.option("--weekly", "weeks", type=int, default=1, show_default=True, help="Repeat weekly this many times.")
@json_option
@fail_cleanly
def add(case_ref: str, start: str, minutes: int, kind: str, staff_ids: tuple[int, ...],
        member_ids: tuple[int, ...], place: str | None, weeks: int, as_json: bool) -> None:
    """Add an appointment (or a weekly series); the family is told with an .ics file."""
    with unit_of_work() as (app, session):
        case = admin.find_case(session, case_ref)
        rows = _create(session, app, case, kind, start, minutes, staff_ids, member_ids, place, weeks)
        created = [as_dict(a) | {"overlaps_with": [o.id for o in appts.overlapping(
            session, case, a.starts_at, a.duration_minutes, exclude_id=a.id)]} for a in rows]
        from bot.cli_language import t

        emit(created, lambda: "\n".join(line(a) + "".join(
            "\n      " + t("warning: overlaps with appointment #{other} of this case", other=other)
            for other in a["overlaps_with"]) for a in created), as_json)


@appointments_group.command("list")
@click.argument("case_ref")
@click.option("--month", help="Only this month, e.g. 2027-03.")
@json_option
@fail_cleanly
def list_(case_ref: str, month: str | None, as_json: bool) -> None:
    """A case's appointments with their outcome and what they count."""
    with unit_of_work() as (_app, session):
        case = admin.find_case(session, case_ref)
        if month:
            rows = budget.month_appointments(session, case, Month.parse(month))
        else:
            rows = list(session.scalars(select(Appointment).where(Appointment.case_id == case.id)
                                        .order_by(Appointment.starts_at)))
        data = [as_dict(a) for a in rows]
        from bot.cli_language import t

        emit(data, lambda: "\n".join(line(a) for a in data) or t("No appointments."), as_json)


@appointments_group.command("move")
@click.argument("appointment_id", type=int)
@click.option("--start", required=True, help="New Berlin time: '2027-03-18 14:00' or '18.03.2027 14:00'.")
@click.option("--minutes", type=int)
@json_option
@fail_cleanly
def move(appointment_id: int, start: str, minutes: int | None, as_json: bool) -> None:
    """Move an appointment; the family gets the updated .ics (same UID, next SEQUENCE)."""
    with unit_of_work() as (app, session):
        a = appts.reschedule(session, app.services, CLI, appts.find(session, appointment_id), parse_start(start),
                             minutes)
        emit(as_dict(a), lambda: line(as_dict(a)), as_json)


@appointments_group.command("cancel")
@click.argument("appointment_id", type=int)
@click.option("--by", type=click.Choice(["family", "provider"]), default="provider", show_default=True,
              help="Who cancelled: the family (the 24-hour rule applies, from --at) or the Träger.")
@click.option("--reason")
@at_option
@json_option
@fail_cleanly
def cancel(appointment_id: int, by: str, reason: str | None, at: str | None, notice: str | None,
           as_json: bool) -> None:
    """Cancel an appointment; the family gets a METHOD:CANCEL calendar update."""
    with unit_of_work() as (app, session):
        a = appts.cancel(session, app.services, CLI, appts.find(session, appointment_id), by_family=by == "family",
                         reason=reason, when=parse_cancelled(at, notice) if by == "family" else appts.NOW)
        emit(as_dict(a), lambda: line(as_dict(a)), as_json)


@appointments_group.command("outcome")
@click.argument("appointment_id", type=int)
@click.argument("outcome", type=click.Choice(OUTCOMES))
@click.option("--minutes", type=int, help="Actual duration when it took place (default: as planned).")
@click.option("--staff", "staff_id", type=int, help="Who records it (default: the CLI).")
@at_option
@json_option
@fail_cleanly
def outcome(appointment_id: int, outcome: str, minutes: int | None, staff_id: int | None, at: str | None,
            notice: str | None, as_json: bool) -> None:
    """Record what happened: took_place, no_show, cancelled_by_family (--at when), cancelled_by_provider.

    Recording cancelled_by_family again with --at gives the time of a cancellation recorded without one.
    """
    with unit_of_work() as (app, session):
        actor = admin.staff_member(session, staff_id) if staff_id else CLI
        if (at or notice) and outcome != Outcome.CANCELLED_BY_FAMILY:
            raise AdminError("--at and --notice belong to cancelled_by_family")
        a = appts.find(session, appointment_id)
        cancelled = parse_cancelled(at, notice) if (at or notice) else appts.KEEP
        a = appts.record_outcome(session, app.services, actor, a, outcome, minutes, cancelled=cancelled)
        emit(as_dict(a), lambda: line(as_dict(a)), as_json)


@appointments_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@fail_cleanly
def import_(csv_file: Path, as_json: bool) -> None:
    """Add many appointments from a CSV file: case,start,minutes[,kind,staff,place,weekly].

    ``staff`` holds staff ids separated by spaces. All rows are added, or none (one transaction).
    """
    text = csv_file.read_text(encoding="utf-8-sig")
    delimiter = ";" if ";" in text.partition("\n")[0] else ","
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    made: list[Appointment] = []
    cases: dict[str, Case] = {}
    staff_cache: dict[int, Any] = {}
    with unit_of_work() as (app, session):
        with click.progressbar(rows, label="Importing appointments", file=sys.stderr,
                               hidden=as_json) as bar, session.no_autoflush:
            for number, row in enumerate(bar, start=2):
                try:
                    ref = (row.get("case") or "").strip()
                    case = cases.get(ref) or cases.setdefault(ref, admin.find_case(session, ref))
                    staff = [staff_cache.get(i) or staff_cache.setdefault(i, admin.staff_member(session, i))
                             for i in (int(s) for s in (row.get("staff") or "").split())] or admin.team(case)
                    kind = (row.get("kind") or "hausbesuch").strip()
                    minutes = int(row.get("minutes") or 120)
                    place = (row.get("place") or "").strip() or None
                    weeks = int(row.get("weekly") or 1)
                    start = parse_start(row.get("start") or "")
                    members = appts.default_members(case)
                    if weeks > 1:  # a series: created (and budgeted) as the chat does
                        made += appts.create_weekly(session, app.services, CLI, case, kind, start, minutes, staff,
                                                    members, weeks, place, check_budget=False)
                        continue
                    made.append(appts.build_appointment(session, app.services, case, kind, start, minutes, staff,
                                                        members, place))
                except (AdminError, ValueError) as exc:
                    raise AdminError(f"line {number}: {exc}; nothing was imported") from None
        # One flush for all; the budget once per case and month, each Fachkraft's week once.
        fresh = [a for a in made if a.id is None]
        appts.announce_many(session, app.services, CLI, fresh)
        if len(fresh) < len(made):
            budget.after_scheduling_many(session, app.services, CLI, [a for a in made if a not in fresh])
        created = [as_dict(a) for a in made]
        emit(created, f"Imported {len(created)} appointments from {len(rows)} lines.", as_json)


@appointments_group.command("reminders")
@click.argument("case_ref")
@click.option("--set", "offsets", help="Comma-separated, e.g. '2d,0d@08:00' (2 days before; on the day at 8).")
@json_option
@fail_cleanly
def reminders(case_ref: str, offsets: str | None, as_json: bool) -> None:
    """Show or set when the family of a case is reminded."""
    from bot.cli_language import t

    with unit_of_work() as (_app, session):
        case = admin.find_case(session, case_ref)
        if offsets is not None:
            set_offsets(session, case.id, [o.strip() for o in offsets.split(",") if o.strip()])
        current = offsets_for(session, case.id)
        emit({"case": case.reference, "reminders": current}, ", ".join(current) or t("No reminders."), as_json)


# --- budget ------------------------------------------------------------------------------------------------------
@cli.group("budget")
def budget_group() -> None:
    """The monthly hour budget of a case (Hilfeplan)."""


@budget_group.command("set")
@click.argument("case_ref")
@click.argument("month")
@click.argument("hours", type=float)
@click.option("--from", "valid_from", help="Valid from this day, e.g. 2027-03-16 or 16.03.2027 (default: the month's first day).")
@json_option
@fail_cleanly
def budget_set(case_ref: str, month: str, hours: float, valid_from: str | None, as_json: bool) -> None:
    """Set the monthly budget from MONTH (or --from a day in it) on, until changed again."""
    from bot.cli_language import t

    with unit_of_work() as (app, session):
        case = admin.find_case(session, case_ref)
        start: date = parse_date(valid_from) or Month.parse(month).first_day
        row = budget.set_budget(session, CLI, app.services.clock.now(), case, round(hours * 60), start)
        emit({"case": case.reference, "monthly_hours": hours, "valid_from": row.valid_from.isoformat()},
             t("{reference}: {hours} h a month from {day}.", reference=case.reference, hours=f"{hours:g}",
                day=row.valid_from.isoformat()), as_json)


@budget_group.command("show")
@click.argument("case_ref")
@click.argument("month")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), help="Also write a bar chart (PNG).")
@json_option
@fail_cleanly
def budget_show(case_ref: str, month: str, chart: Path | None, as_json: bool) -> None:
    """Budget, used, billable, cancelled and remaining hours of a case in a month."""
    from bot.cli_language import language as cli_language

    with unit_of_work() as (_app, session):
        case = admin.find_case(session, case_ref)
        stmt = budget.case_statement(session, case, Month.parse(month))
        data = {"case": case.reference, **stmt.as_dict()}
        tr = translator(cli_language())
        if chart:
            chart.write_bytes(budget.chart_png(tr, case, stmt))
            data["chart"] = str(chart)
        review = budget.to_review(session, case, stmt.month)
        data["to_review"] = [as_dict(a) for a in review]
        emit(data, lambda: budget.statement_text(tr, case, stmt, review), as_json)


@budget_group.command("approve")
@click.argument("request_id", type=int)
@click.option("--staff", "staff_id", type=int, required=True, help="The fallführende Fachkraft's staff id.")
@json_option
@fail_cleanly
def budget_approve(request_id: int, staff_id: int, as_json: bool) -> None:
    """Confirm extra hours for the fallführende Fachkraft (as she told you by phone)."""
    from bot.cli_language import t

    with unit_of_work() as (app, session):
        request = budget.approve_extra_hours(session, app.services, request_id, staff_id)
        emit({"id": request.id, "status": request.status, "minutes": request.minutes},
             t("Request {id}: {status}.", id=request.id, status=request.status), as_json)


# --- Nachweisblatt --------------------------------------------------------------------------------------------------
@cli.command("nachweis")
@click.argument("case_ref")
@click.argument("month")
@click.option("--pdf", type=click.Path(dir_okay=False, path_type=Path), help="Write the PDF here.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the CSV here.")
@click.option("--language", default="de", show_default=True,
              help="The reader's language: texts, dates and numbers (the Jugendamt reads German).")
@json_option
@fail_cleanly
def nachweis_cmd(case_ref: str, month: str, pdf: Path | None, csv_path: Path | None, language: str,
                 as_json: bool) -> None:
    """The monthly proof of a case (Nachweisblatt) as PDF and/or CSV; without a file, the CSV is printed."""
    from conversations import nachweis_sheet

    with unit_of_work() as (app, session):
        case = admin.find_case(session, case_ref)
        the_month = Month.parse(month)
        tr = translator(language)
        sheet = nachweis_sheet.build(session, case, the_month, app.services.clock.now())
        written = {}
        if pdf:
            pdf.write_bytes(nachweis_sheet.pdf_bytes(tr, sheet))
            written["pdf"] = str(pdf)
        if csv_path:
            csv_path.write_bytes(nachweis_sheet.csv_bytes(tr, sheet))
            written["csv"] = str(csv_path)
        data = nachweis_sheet.as_json(sheet) | written
        text = nachweis_sheet.csv_bytes(tr, sheet).decode("utf-8-sig") if not written else ""
    emit(data, lambda: text or t("Written: {files}", files=", ".join(written.values())), as_json)
