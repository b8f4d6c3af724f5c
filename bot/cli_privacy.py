"""`wegbegleiter privacy purge|retention|figures` and `wegbegleiter keys rotate`: deletion on schedule, the
periods in effect, the counts that stay, and a new key for everything encrypted."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from bot import cli as base
from bot import config
from bot.cli import CLI, cli, emit, fail_cleanly, json_option, unit_of_work
from bot.cli_language import t, tn
from conversations import admin
from conversations.clock import SystemClock
from conversations.context import audit
from conversations.privacy import purge as purging
from conversations.privacy.retention import Kind, RetentionError, parse_overrides, policy
from conversations.settings import Settings
from storage import keys
from storage.db import NOT_READY, DatabaseNotReady, database_exists, ensure_migrated, make_engine
from storage.models import RetainedFigure
from storage.private_files import create_private


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
@click.option("--case", "case_ref", metavar="REFERENCE",
              help="Only this closed case, and with --now what to delete before its period ends.")
@click.option("--now", "early", multiple=True, type=click.Choice([k.value for k in purging.CASE_KINDS]),
              help="With --case: delete this kind now (an erasure request where no duty to keep applies).")
@json_option
@fail_cleanly
def privacy_purge(dry_run: bool, case_ref: str | None, early: tuple[str, ...], as_json: bool) -> None:
    """Delete what is due now (the bot does this every hour by itself)."""
    app = base.load_app()  # looked up when called, like unit_of_work does
    if early and not case_ref:
        raise click.UsageError("--now needs --case")
    if case_ref:
        try:
            report = purging.erase_now(app.services, case_ref, [Kind(k) for k in early], actor=CLI.label,
                                       dry_run=dry_run)
        except purging.EarlyErasure as exc:
            raise click.ClickException(base.explain(exc)) from None
    else:
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


# --- keys ------------------------------------------------------------------------------------------------
NEW_KEY = "WEGBEGLEITER_NEW_SECRET_KEY"


@cli.group("keys")
def keys_group() -> None:
    """The key everything is encrypted with."""


def _new_key(settings: Settings) -> tuple[str, Path | None]:
    """The key to rotate to and, for a key kept in the data folder, the file that holds it meanwhile."""
    given = os.environ.get(NEW_KEY, "").strip()
    if given and len(given) < 32:
        raise config.ConfigError("{env} must hold a key of 32+ characters", env=NEW_KEY)
    if settings.secret_key:
        if not given:
            raise config.ConfigError("set {env} to the new key (32+ characters); WEGBEGLEITER_SECRET_KEY is the "
                                     "one in use", env=NEW_KEY)
        return given, None
    waiting = config.key_file(settings).with_name("secret.key.next")
    if waiting.exists():  # an interrupted rotation: finish it with the key it started with
        kept = waiting.read_text().strip()
        if given and given != kept:
            raise config.ConfigError("{path} holds the key of an unfinished rotation; finish that first (without "
                                     "{env})", path=waiting, env=NEW_KEY)
        return kept, waiting
    key = given or secrets.token_urlsafe(48)
    create_private(waiting, key.encode())
    return key, waiting


@keys_group.command("rotate")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True,
              help="Values re-encrypted per transaction.")
@json_option
@fail_cleanly
def keys_rotate(batch: int, as_json: bool) -> None:
    """Re-encrypt everything under a new key (stop the bot first; run it again to finish an interrupted rotation). With the key in the data folder a new one is generated (or taken from WEGBEGLEITER_NEW_SECRET_KEY) and replaces secret.key; with WEGBEGLEITER_SECRET_KEY set, give the new one in WEGBEGLEITER_NEW_SECRET_KEY and set it as WEGBEGLEITER_SECRET_KEY afterwards. Links in emails sent before stop working."""  # noqa: E501  (one line: a msgid with line breaks does not survive the catalog merge)
    settings = config.load()
    url = settings.resolved_database_url
    if not database_exists(url):
        raise DatabaseNotReady(NOT_READY)
    old = config.secret_key(settings)
    new, waiting = _new_key(settings)
    engine = make_engine(url)
    try:
        ensure_migrated(engine)
        result = keys.rotate(engine, old, new, SystemClock().now(), batch=batch)
    finally:
        engine.dispose()
    if waiting is not None:
        os.replace(waiting, config.key_file(settings))
    data = {**result.as_dict(), "key": "WEGBEGLEITER_SECRET_KEY" if waiting is None else str(config.key_file(settings))}
    done = sum(result.changed.values())

    def human() -> str:
        lines = [tn("Everything is encrypted under the new key now ({n} value re-encrypted).",
                    "Everything is encrypted under the new key now ({n} values re-encrypted).", done, n=done)]
        if waiting is None:
            lines.append(t("Set WEGBEGLEITER_SECRET_KEY to the value of {env} before the bot starts again.",
                           env=NEW_KEY))
        else:
            lines.append(t("The new key is in {path}.", path=config.key_file(settings)))
        return "\n".join(lines)

    emit(data, human, as_json)
