"""`wegbegleiter privacy purge|retention|figures` and `wegbegleiter keys rotate`: deletion on schedule, the
periods in effect, the counts that stay, and a new key for everything encrypted."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from bot.cli import CLI, cli, emit, fail_cleanly, json_option, load_app, unit_of_work
from conversations import admin
from conversations.context import audit
from conversations.privacy import purge as purging
from conversations.privacy.retention import Kind, RetentionError, parse_overrides, policy
from storage.models import RetainedFigure


def _purge_text(report: purging.Report, dry_run: bool) -> str:
    if report.nothing:
        return "Nothing is due." if dry_run else "Nothing was due."
    head = "Would delete:" if dry_run else "Deleted:"
    lines = [head]
    out = report.outbox
    if sum(out.values()):
        lines.append(f"  outbox: {out['files']} files, {out['texts']} texts of delivered messages, "
                     f"{out['messages']} messages to chats no longer linked")
    for reference, rows in report.complaints:
        lines.append(f"  complaint {reference}: {_rows(rows)}")
    if report.audit_events:
        lines.append(f"  {report.audit_events} audit events without a case")
    for case in report.cases:
        what = ", ".join(case.kinds) + ("; the case itself" if case.final else "")
        lines.append(f"  case {case.reference} (closed {case.closed_at:%Y-%m-%d}): {what} — {_rows(case.deleted)}")
    if report.figures:
        lines.append("Counts kept for the figures: " + ", ".join(
            f"{year} {metric}{'/' + key if key else ''} {n}" for (_org, year, metric, key), n in sorted(report.figures.items())))
    return "\n".join(lines)


def _rows(rows: Any) -> str:
    return ", ".join(f"{table} {n}" for table, n in sorted(rows.items())) or "no rows"


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
        [f"Retention at {data['organisation']}:"]
        + [f"  {k:18} {v:2} years{'  (own)' if k in own else ''}" for k, v in data["years"].items()]
        + [f"  outbox files       {s.outbox_file_days} days after delivery",
           f"  outbox texts       {s.outbox_text_days} days after delivery",
           f"  signed links       {s.link_ttl_days} days"]), as_json)


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
         or "No figures kept yet (nothing has been deleted).", as_json)
