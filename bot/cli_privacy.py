"""`wegbegleiter privacy purge|retention|figures` and `wegbegleiter keys rotate`: deletion on schedule, the
periods in effect, the counts that stay, and a new key for everything encrypted."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from bot.cli import CLI, cli, emit, fail_cleanly, json_option, load_app, unit_of_work
from bot.cli_language import t
from conversations import admin
from conversations.context import audit
from conversations.privacy import purge as purging
from conversations.privacy.retention import Kind, RetentionError, parse_overrides, policy
from storage.models import RetainedFigure


def _purge_text(report: purging.Report, dry_run: bool) -> str:
    if report.nothing:
        return t("Nothing is due.") if dry_run else t("Nothing was due.")
    head = t("Would delete:") if dry_run else t("Deleted:")
    lines = [head]
    out = report.outbox
    if sum(out.values()):
        lines.append("  " + t("outbox: {files} files, {texts} texts of delivered messages, {messages} messages to "
                              "chats no longer linked", files=out["files"], texts=out["texts"],
                              messages=out["messages"]))
    for reference, rows in report.complaints:
        lines.append("  " + t("complaint {reference}: {rows}", reference=reference, rows=_rows(rows)))
    if report.audit_events:
        lines.append("  " + t("{count} audit events without a case", count=report.audit_events))
    for case in report.cases:
        what = ", ".join(case.kinds) + ("; " + t("the case itself") if case.final else "")
        lines.append("  " + t("case {reference} (closed {day}): {what} — {rows}", reference=case.reference,
                              day=f"{case.closed_at:%Y-%m-%d}", what=what, rows=_rows(case.deleted)))
    if report.figures:
        lines.append(t("Counts kept for the figures: {counts}", counts=", ".join(
            f"{year} {metric}{'/' + key if key else ''} {n}"
            for (_org, year, metric, key), n in sorted(report.figures.items()))))
    return "\n".join(lines)


def _rows(rows: Any) -> str:
    return ", ".join(f"{table} {n}" for table, n in sorted(rows.items())) or t("no rows")


@cli.group("privacy")
def privacy_group() -> None:
    """Deletion on schedule: the retention periods, the purge, the counts that stay."""


@privacy_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Show what is due without deleting anything.")
@json_option
@fail_cleanly
def privacy_purge(dry_run: bool, as_json: bool) -> None:
    """Delete what is due now (the bot does this every hour by itself)."""
    app = load_app()
    report = purging.run(app.services, dry_run=dry_run)
    emit({"dry_run": dry_run, **report.as_dict()}, lambda: _purge_text(report, dry_run), as_json)


@privacy_group.command("retention")
@click.option("--org", "org_id", type=int, help="Organisation id (default: the first).")
@click.option("--set", "assignments", multiple=True, metavar="KIND=YEARS",
              help=f"This organisation's own period, in years ({', '.join(k.value for k in Kind)}).")
@click.option("--reset", "resets", multiple=True, metavar="KIND", help="Back to the setting's default.")
@json_option
@fail_cleanly
def privacy_retention(org_id: int | None, assignments: tuple[str, ...], resets: tuple[str, ...],
                      as_json: bool) -> None:
    """The retention periods in effect for an organisation (and its own, with --set)."""
    with unit_of_work() as (app, session):
        org = admin.organisation(session, org_id)
        own = dict((org.settings or {}).get("retention") or {})
        if assignments or resets:
            try:
                own.update(parse_overrides(list(assignments)))
            except RetentionError as exc:
                raise click.ClickException(str(exc)) from None
            for name in resets:
                own.pop(name, None)
            org.settings = {**(org.settings or {}), "retention": own}
            audit(session, at=app.services.clock.now(), actor=CLI.label, action="privacy.retention_set",
                  object_type="organisation", object_id=org.id, retention=own)
        years = policy(app.settings, org.settings).years
        s = app.settings
        data = {"organisation": org.name, "years": {k.value: years[k] for k in Kind},
                "own": own, "outbox_file_days": s.outbox_file_days, "outbox_text_days": s.outbox_text_days,
                "link_ttl_days": s.link_ttl_days}
    emit(data, lambda: "\n".join(
        [t("Retention at {org}:", org=data["organisation"])]
        + [f"  {k:18} " + t("{years} years", years=f"{v:2}") + ("  " + t("(own)") if k in own else "")
           for k, v in data["years"].items()]
        + ["  " + t("outbox files       {days} days after delivery", days=s.outbox_file_days),
           "  " + t("outbox texts       {days} days after delivery", days=s.outbox_text_days),
           "  " + t("signed links       {days} days", days=s.link_ttl_days)]), as_json)


@privacy_group.command("figures")
@click.option("--year", type=int, help="Only this year.")
@json_option
@fail_cleanly
def privacy_figures(year: int | None, as_json: bool) -> None:
    """The anonymous counts kept from deleted data (per year: cases, appointments, hours, complaints, alerts)."""
    with unit_of_work() as (_app, session):
        query = select(RetainedFigure).order_by(RetainedFigure.organisation_id, RetainedFigure.year,
                                                RetainedFigure.metric, RetainedFigure.key)
        if year:
            query = query.where(RetainedFigure.year == year)
        rows = [{"organisation": f.organisation_id, "year": f.year, "metric": f.metric, "key": f.key,
                 "count": f.count} for f in session.scalars(query)]
    emit(rows, lambda: "\n".join(f"{r['year']}  {r['metric']:22} {r['key']:28} {r['count']}" for r in rows)
         or t("No figures kept yet (nothing has been deleted)."), as_json)
