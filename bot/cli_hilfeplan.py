"""`wegbegleiter hilfeplan …`: the Hilfeplan calendar of a case (issue 18).

The start of the help, each Hilfeplangespräch (the first, the Konkretisierung, each Fortschreibung) and the
deadlines that follow from them (seed 004), each with its due day, who owes it, and done or not.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import click
from sqlalchemy import select

from bot.cli import CLI, cli, emit, fail_cleanly, json_option, unit_of_work
from bot.cli_language import language, t
from conversations import admin, authz, timeparse
from conversations.admin import AdminError
from conversations.clock import BERLIN, iso
from conversations.context import audit
from conversations.hilfeplan import core
from conversations.hilfeplan.rules import ReminderSettings, TalkKind
from conversations.i18n import translator
from storage.models import Case
from storage.models.hilfeplan import HilfeplanItem


def owner_word(owner: str) -> str:
    return {"jugendamt": t("Jugendamt"), "traeger": t("Träger"), "all": t("all participants")}.get(owner, owner)


def _tr():  # type: ignore[no-untyped-def]
    return translator(language())


def _principal(session, staff_id: int | None) -> authz.Principal:  # type: ignore[no-untyped-def]
    return authz.as_staff(admin.staff_member(session, staff_id)) if staff_id is not None else authz.OPERATOR


def _item_line(row: dict[str, Any], label: str) -> str:
    state = t("done") if row["done"] else (t("OVERDUE") if row["overdue"] else t("open"))
    window = t("from {day} ", day=row["earliest"]) if row["earliest"] and row["kind"] == "konkretisierung" else ""
    owed = t("owed by")
    return f"#{row['id']:<4} {row['due']}  {window}{label} [{owed}: {owner_word(row['owner'])}] – {state}"


def _rows(items, now) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    tr = _tr()
    rows = []
    for item in items:
        row = core.as_dict(item, now)
        row["label"] = core.item_label(tr, item)
        rows.append(row)
    return rows


@cli.group("hilfeplan")
def hilfeplan() -> None:
    """The Hilfeplan calendar: start of the help, Hilfeplangespräche, deadlines (seed 004)."""


@hilfeplan.command("start")
@click.argument("case_ref")
@click.argument("day")
@json_option
@fail_cleanly
def hp_start(case_ref: str, day: str, as_json: bool) -> None:
    """Record the day the help began (the first Fortschreibung is due 6 months later)."""
    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        case = core.set_start(session, CLI, now, admin.find_case(session, case_ref), timeparse.cli_day(day))
        rows = _rows(core.items(session, case, include_done=False), now)
        data = {"case": case.reference, "started_on": case.started_on.isoformat(), "open": rows}
    emit(data, lambda: t("Help of {case} began on {day}.", case=data["case"], day=data["started_on"]) + "\n"
         + "\n".join(_item_line(r, r["label"]) for r in rows), as_json)


@hilfeplan.command("talk")
@click.argument("case_ref")
@click.option("--kind", type=click.Choice([k.value for k in TalkKind]), required=True,
              help="hilfeplan (the first Hilfeplangespräch), konkretisierung or fortschreibung.")
@click.option("--date", "when", required=True, help="Date and time, Berlin: 2026-10-22 10:00 or 22.10.2026 10:00.")
@click.option("--participant", "participants", multiple=True, help="Who took part (repeat for each person).")
@click.option("--crisis", is_flag=True, help="A Fortschreibung earlier than planned, because of a crisis.")
@click.option("--duration", type=int, default=core.TALK_MINUTES, show_default=True, help="Minutes.")
@click.option("--place")
@json_option
@fail_cleanly
def hp_talk(case_ref: str, kind: str, when: str, participants: tuple[str, ...], crisis: bool, duration: int,
            place: str | None, as_json: bool) -> None:
    """Record a Hilfeplangespräch (held, or planned: then the family and the team get the appointment)."""
    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        case = admin.find_case(session, case_ref)
        talk = core.add_talk(session, app.services, CLI, now, case, kind, timeparse.cli_moment(when).astimezone(BERLIN),
                             list(participants), crisis=crisis, minutes=duration, place=place)
        rows = _rows(core.items(session, case, include_done=False), now)
        data = {"id": talk.id, "case": case.reference, "kind": talk.kind, "day": talk.day.isoformat(),
                "participants": [p for p in talk.participants.split("\n") if p], "crisis": talk.crisis,
                "appointment": talk.appointment_id, "open": rows}
    emit(data, lambda: t("Talk {id} ({kind}) on {day} recorded for {case}.", id=data["id"], kind=data["kind"],
                         day=data["day"], case=data["case"])
         + (("\n" + t("The family and the team were told of the appointment ({id}).", id=data["appointment"]))
            if data["appointment"] else "")
         + "\n" + t("Open deadlines:") + "\n" + "\n".join(_item_line(r, r["label"]) for r in rows), as_json)


@hilfeplan.command("show")
@click.argument("case_ref")
@json_option
@fail_cleanly
def hp_show(case_ref: str, as_json: bool) -> None:
    """A case's Hilfeplan calendar: start, talks, every deadline and its state."""
    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        case = admin.find_case(session, case_ref)
        core.sync(session, case, now)
        talks = [{"id": x.id, "kind": x.kind, "day": x.day.isoformat(), "crisis": x.crisis,
                  "participants": [p for p in x.participants.split("\n") if p], "appointment": x.appointment_id}
                 for x in core.talks(session, case)]
        rows = _rows(core.items(session, case), now)
        audit(session, at=now, actor=CLI.label, action="hilfeplan.read", object_type="case", object_id=case.id,
              case_id=case.id)
        following = next((r for r in rows if r["kind"] == "fortschreibung" and not r["done"]), None)
        data = {"case": case.reference, "title": case.title,
                "started_on": case.started_on.isoformat() if case.started_on else None,
                "next_fortschreibung": following["due"] if following else None, "talks": talks,
                "deadlines": rows}

    def human() -> str:
        crisis = " (" + t("crisis") + ")"
        lines = [f"{data['case']} {data['title']}",
                 t("Help began: {day}", day=data["started_on"] or "—"),
                 t("Next Fortschreibung due by: {day}", day=data["next_fortschreibung"] or "—"), "", t("Talks:")]
        lines += [f"#{x['id']:<4} {x['day']}  {x['kind']}{crisis if x['crisis'] else ''}"
                  + (f" – {', '.join(x['participants'])}" if x["participants"] else "") for x in talks] or ["—"]
        lines += ["", t("Deadlines:")]
        lines += [_item_line(r, r["label"]) for r in rows] or ["—"]
        return "\n".join(lines)

    emit(data, human, as_json)


@hilfeplan.command("due")
@click.option("--weeks", type=int, default=8, show_default=True, help="How far ahead.")
@click.option("--as", "staff_id", type=int, help="Only what this staff member's cases have (staff id).")
@json_option
@fail_cleanly
def hp_due(weeks: int, staff_id: int | None, as_json: bool) -> None:
    """Open deadlines of all open cases (or of one person's cases) within WEEKS, and every overdue one."""
    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        if staff_id is not None:
            found = core.coming_for(session, _principal(session, staff_id), now, weeks)
        else:
            cases = session.scalars(select(Case).where(Case.closed_at.is_(None), Case.id.in_(
                select(HilfeplanItem.case_id))).order_by(Case.id))  # calendars that run (see jobs.scan)
            horizon = now.astimezone(BERLIN).date().toordinal() + 7 * weeks
            found = sorted((i for c in cases for i in core.sync(session, c, now)
                            if i.due_on.toordinal() <= horizon), key=lambda i: (i.due_on, i.case_id))
        rows = _rows(found, now)
        for row, item in zip(rows, found, strict=True):
            row["case_title"] = item.case.title
    emit(rows, lambda: "\n".join(f"{_item_line(r, r['label'])}  {r['case']} {r['case_title']}" for r in rows)
         or t("No open deadlines in the next {weeks} weeks.", weeks=weeks), as_json)


@hilfeplan.command("done")
@click.argument("item_id", type=int)
@click.option("--by", "staff_id", type=int, help="Staff id of the person marking it (default: the operator).")
@click.option("--undo", is_flag=True, help="Mark it open again.")
@json_option
@fail_cleanly
def hp_done(item_id: int, staff_id: int | None, undo: bool, as_json: bool) -> None:
    """Mark a deadline done (the Entwicklungsbericht sent, the Kostenzusage received, …)."""
    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        item = core.find_item(session, item_id)
        try:
            core.mark_done(session, _principal(session, staff_id), now, item, undo=undo)
        except authz.NotAllowed:
            raise AdminError("not allowed to mark deadlines of case {ref}", ref=item.case.reference) from None
        data = core.as_dict(item, now) | {"label": core.item_label(_tr(), item), "done_at": iso(item.done_at)}
    emit(data, t("Open again: {item} ({case}).", item=data["label"], case=data["case"]) if undo
         else t("Done: {item} ({case}).", item=data["label"], case=data["case"]), as_json)


@hilfeplan.command("settings")
@click.option("--org", "org_id", type=int, help="Organisation id (default: the first).")
@click.option("--remind", help="Days before a deadline the Fachkräfte are reminded, e.g. 21,7.")
@click.option("--hour", help="Hour reminders and notices go out (Berlin), e.g. 09:00.")
@click.option("--warn-days", type=int, help="Days before a Fortschreibung without Entwicklungsbericht: the warning.")
@json_option
@fail_cleanly
def hp_settings(org_id: int | None, remind: str | None, hour: str | None, warn_days: int | None,
                as_json: bool) -> None:
    """The Träger's reminder settings (shown; changed with the options)."""
    with unit_of_work() as (app, session):
        org = admin.organisation(session, org_id)
        raw = dict((org.settings or {}).get("hilfeplan") or {})
        if remind is not None:
            try:
                raw["remind_days"] = sorted({int(d) for d in remind.split(",") if d.strip()}, reverse=True)
            except ValueError:
                raise AdminError("--remind takes days like 21,7") from None
        if hour is not None:
            try:
                raw["hour"] = time.fromisoformat(hour.strip().zfill(5)).isoformat("minutes")
            except ValueError:
                raise AdminError("--hour takes a time like 09:00") from None
        if warn_days is not None:
            raw["warn_days"] = warn_days
        try:
            settings = ReminderSettings.of({"hilfeplan": raw})
        except ValueError:
            raise AdminError("reminders lie 1 to 90 days before a deadline, the warning 1 to 30 days") from None
        if remind is not None or hour is not None or warn_days is not None:
            org.settings = {**(org.settings or {}), "hilfeplan": raw}
            audit(session, at=app.services.clock.now(), actor=CLI.label, action="hilfeplan.settings",
                  object_type="organisation", object_id=org.id, **raw)
        data = {"organisation": org.name, "remind_days": list(settings.remind_days),
                "hour": settings.hour.isoformat("minutes"), "warn_days": settings.warn_days}
    emit(data, lambda: t("{org}: reminders {days} days before, at {hour}; warning {warn} days before a "
                         "Fortschreibung without Entwicklungsbericht.", org=data["organisation"],
                         days=", ".join(str(d) for d in data["remind_days"]), hour=data["hour"],
                         warn=data["warn_days"]), as_json)

