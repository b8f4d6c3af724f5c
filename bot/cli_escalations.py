"""`wegbegleiter escalations list|ack` and `wegbegleiter alerts list|handle`.

Escalations (three appointments without participation) with their history: who was told when, by which
way, and who acknowledged. Alerts (possible risk for a child) stay open until a person marks them
handled; listing them shows the family's message, so every listing is an audit event.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from bot.cli import CLI, cli, emit, fail_cleanly, json_option, unit_of_work
from bot.cli_language import t
from conversations import admin, authz, escalations
from conversations.admin import AdminError
from conversations.context import audit
from conversations.rules.attendance import AttendanceRule
from storage.models import Escalation


def _human(rows: list[dict[str, Any]], empty: str) -> str:
    if not rows:
        return empty
    lines = []
    for row in rows:
        done = row["acknowledged"]
        state = (t("done {when} by {name} ({via})", when=done["at"][:16], name=done["by"], via=done["via"]) if done
                 else t("OPEN"))
        lines.append(t("#{id} {kind} case {case} created {when} — {state}", id=row["id"], kind=row["kind"],
                       case=row["case"], when=row["created_at"][:16], state=state))
        if row.get("message"):
            lines.append(f"    “{row['message']}”  [{row['facts'].get('words') or row['facts'].get('phrase') or row['facts'].get('source')}]")
        for told in row["told"]:
            sent = ", " + t("sent {when}", when=told["sent_at"][:16]) if told["sent_at"] else ""
            lines.append(f"    {told['queued_at'][:16]} {told['purpose']:9} → "
                         + t("{name} by {channel}", name=told["to"], channel=told["channel"])
                         + f" ({told['status']}{sent})")
    return "\n".join(lines)


def _close(escalation_id: int, staff_id: int, note: str | None, kind: str) -> dict[str, Any]:
    with unit_of_work() as (app, session):
        escalation = session.get(Escalation, escalation_id)
        if escalation is None or escalation.kind != kind:
            if kind == escalations.ATTENDANCE:
                raise AdminError("no escalation #{id}", id=escalation_id)
            raise AdminError("no alert #{id}", id=escalation_id)
        staff = admin.staff_member(session, staff_id)
        if not authz.may_close_escalation(authz.as_staff(staff), escalation):
            raise AdminError("{name} is not responsible for case {case}", name=staff.name,
                             case=escalation.case.reference)
        result = escalations.acknowledge(session, escalation, staff, via="cli", now=app.services.clock.now(),
                                         note=note)
        if result.already:
            raise AdminError("#{id} was already closed by {name}", id=escalation_id,
                             name=escalation.acknowledger.name if escalation.acknowledger else "—")
        return escalations.describe(escalation)


def _case_option(func: Any) -> Any:
    func = click.option("--open", "open_only", is_flag=True, help="Only those not yet acknowledged/handled.")(func)
    return click.option("--case", "case_ref", help="Only this case (reference or id).")(func)


@cli.group("escalations")
def escalations_group() -> None:
    """Three appointments without participation: escalations and their history."""


@escalations_group.command("list")
@_case_option
@json_option
@fail_cleanly
def escalations_list(case_ref: str | None, open_only: bool, as_json: bool) -> None:
    """Every escalation: dates, who was told when and how, who acknowledged."""
    with unit_of_work() as (_app, session):
        case = admin.find_case(session, case_ref) if case_ref else None
        rows = escalations.history(session, kind=escalations.ATTENDANCE, case=case, open_only=open_only)
    emit(rows, lambda: _human(rows, t("No escalations.")), as_json)


@escalations_group.command("ack")
@click.argument("escalation_id", type=int)
@click.option("--by", "staff_id", type=int, required=True, help="Staff id of the person acknowledging.")
@click.option("--note", help="What was done (e.g. 'confirmed by phone').")
@json_option
@fail_cleanly
def escalations_ack(escalation_id: int, staff_id: int, note: str | None, as_json: bool) -> None:
    """Record that the escalation reached its recipient (e.g. confirmed by phone)."""
    row = _close(escalation_id, staff_id, note, escalations.ATTENDANCE)
    emit(row, t("Escalation #{id} acknowledged.", id=escalation_id), as_json)


@escalations_group.command("rule")
@click.option("--org", "org_id", type=int, help="Organisation id (default: the first).")
@click.option("--set", "changes", multiple=True, metavar="KEY=VALUE",
              help="Change a setting, e.g. streak_length=3, short_notice_hours=24, "
                   "acknowledge_within_working_days=1, effects.no_show=counts, ignored_kinds=gruppenangebot.")
@click.option("--reset", is_flag=True, help="Back to the documented default rule.")
@json_option
@fail_cleanly
def escalations_rule(org_id: int | None, changes: tuple[str, ...], reset: bool, as_json: bool) -> None:
    """Show or change the organisation's rule for "three appointments without participation"."""
    with unit_of_work() as (app, session):
        org = admin.organisation(session, org_id)
        stored = {} if reset else dict((org.settings or {}).get("attendance") or {})
        for change in changes:
            key, sep, value = change.partition("=")
            if not sep:
                raise AdminError("--set needs KEY=VALUE (got {change!r})", change=change)
            if key.startswith("effects."):
                stored["effects"] = {**stored.get("effects", {}), key.removeprefix("effects."): value}
            elif key == "ignored_kinds":
                stored[key] = [k for k in value.split(",") if k]
            else:
                stored[key] = value
        rule = AttendanceRule.from_settings(stored)  # refuses a wrong key or value before anything is saved
        if changes or reset:
            org.settings = {**(org.settings or {}), "attendance": stored}
            audit(session, at=app.services.clock.now(), actor=CLI.label, action="organisation.attendance_rule",
                  object_type="organisation", object_id=org.id, attendance=stored)
        shown = {
            "organisation": org.name,
            "streak_length": rule.streak_length,
            "short_notice_hours": rule.short_notice.total_seconds() / 3600,
            "effects": {str(k): str(v) for k, v in rule.effects.items()},
            "ignored_kinds": sorted(rule.ignored_kinds),
            "acknowledge_within_working_days": rule.acknowledge_within_working_days,
        }

    def human() -> str:
        lines = [t("{org}: escalate after {streak} appointments in a row without participation (short notice: "
                   "under {hours} h); acknowledge within {days} working day(s).", org=shown["organisation"],
                   streak=shown["streak_length"], hours=f"{shown['short_notice_hours']:g}",
                   days=shown["acknowledge_within_working_days"])]
        lines += [f"  {situation:26} {effect}" for situation, effect in shown["effects"].items()]  # type: ignore[union-attr]
        if shown["ignored_kinds"]:
            lines.append("  " + t("ignored kinds: {kinds}", kinds=", ".join(shown["ignored_kinds"])))  # type: ignore[arg-type]
        return "\n".join(lines)

    emit(shown, human, as_json)


@cli.group("alerts")
def alerts_group() -> None:
    """Possible risks for a child: alerts stay open until a person marks them handled."""


@alerts_group.command("list")
@_case_option
@json_option
@fail_cleanly
def alerts_list(case_ref: str | None, open_only: bool, as_json: bool) -> None:
    """Alerts with the family's message and who was alerted (each listing is logged)."""
    with unit_of_work() as (app, session):
        case = admin.find_case(session, case_ref) if case_ref else None
        rows = escalations.history(session, kind=escalations.CHILD_PROTECTION, case=case, open_only=open_only)
        for row in rows:
            alert = session.scalar(select(Escalation).where(Escalation.id == row["id"]))
            assert alert is not None
            row["message"] = alert.message
            row["member"] = alert.member.first_name if alert.member else None
            audit(session, at=app.services.clock.now(), actor=CLI.label, action="child_protection.read",
                  object_type="escalation", object_id=alert.id, case_id=alert.case_id)
    emit(rows, lambda: _human(rows, t("No alerts.")), as_json)


@alerts_group.command("handle")
@click.argument("alert_id", type=int)
@click.option("--by", "staff_id", type=int, required=True, help="Staff id of the person who took it on.")
@click.option("--note", help="What was done (e.g. 'called the family, § 8a check started').")
@json_option
@fail_cleanly
def alerts_handle(alert_id: int, staff_id: int, note: str | None, as_json: bool) -> None:
    """Mark an alert handled: a person has taken it on (nothing is closed automatically)."""
    row = _close(alert_id, staff_id, note, escalations.CHILD_PROTECTION)
    emit(row, t("Alert #{id} marked as handled.", id=alert_id), as_json)
