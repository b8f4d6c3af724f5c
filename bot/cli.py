"""`wegbegleiter`: the operators' command line. Every command has ``--json`` for scripts.

Errors are one line on stderr and a non-zero exit, never a traceback. Everything a command prints goes
through ``t()`` (``tn()`` for plurals), in the operator's language (``WEGBEGLEITER_CLI_LANGUAGE``; see
``bot/cli_language.py``); ``--json`` keys stay English for scripts.

The commands of the jobs' modules (``bot/cli_*.py``) are imported when used, from the table in
``bot/cli_extensions.py``; this module imports no database, model or job at the top, so that ``--help`` and
the light commands start fast (bench/README.md, "Start-up of the command line").
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot import config
from bot.cli_extensions import BELOW, COMMANDS
from bot.cli_language import LocalisedGroup, language, t, tn
from bot.cli_lazy import LazyGroup, with_every_job

if TYPE_CHECKING:  # the database, the models and the jobs are imported by the commands that use them (start-up)
    from sqlalchemy.orm import Session

    from bot.wiring import App
    from conversations.admin import Actor


@functools.cache
def cli_actor() -> Actor:
    """What the CLI's changes are recorded as (``CLI`` to the command modules). Made when first needed: its
    class lives with the admin functions (the models), which ``--help`` does without."""
    from conversations.admin import Actor

    return Actor("cli")


def __getattr__(name: str) -> Any:
    if name == "CLI":
        return cli_actor()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def emit(data: Any, human: str | Callable[[], str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(human() if callable(human) else human)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)


def explain(exc: Exception) -> str:
    """An error's one line in the operator's language (templates from :class:`Explained`; others as they are)."""
    from conversations import timeparse
    from conversations.i18n import translator
    from storage.errors import Explained

    if isinstance(exc, Explained):
        return t(exc.template, **exc.params)
    if isinstance(exc, timeparse.TypedDateError):  # worded for the chat too: its catalog has every language
        return exc.message(translator(language()))
    return str(exc)


def operator_errors() -> tuple[type[Exception], ...]:
    """The errors an operator gets as one line (the others are bugs: one line too, see :func:`main`)."""
    from conversations.admin import AdminError
    from storage.db import DatabaseNotReady
    from storage.keys import WrongKey

    return AdminError, config.ConfigError, DatabaseNotReady, WrongKey, ValueError


def fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if isinstance(exc, operator_errors()):
                raise click.ClickException(explain(exc)) from None
            raise

    return wrapper


def load_app(init: bool = False) -> App:
    """The app on the configured database. The engine (every flow) is built when a command first uses it: a
    command that only reads or writes rows starts without it."""
    from bot.wiring import build

    return build(config.load(), init=init)


@contextmanager
def unit_of_work(init: bool = False) -> Iterator[tuple[App, Session]]:
    app = load_app(init)
    with app.sessions.begin() as session:
        yield app, session


def parse_date(value: str | None) -> date | None:
    """A day typed on the command line: ``2027-03-16`` or ``16.03.2027`` (conversations.timeparse)."""
    from conversations import timeparse

    return timeparse.cli_day(value) if value else None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wegbegleiter")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _print_version(ctx: click.Context, _param: click.Parameter, wanted: bool) -> None:
    """``--version``: looked up only when asked (reading the installed packages' metadata takes a while)."""
    if wanted and not ctx.resilient_parsing:
        click.echo(f"wegbegleiter {_version()}")
        ctx.exit()


class Wegbegleiter(LocalisedGroup, LazyGroup):
    """The top-level group: in the operator's language, the jobs' commands loaded when used."""


@click.group("wegbegleiter", cls=Wegbegleiter, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", "-V", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
def cli() -> None:
    """Wegbegleiter: chat companion for families in outpatient youth welfare."""


@cli.command()
@json_option
@fail_cleanly
def init(as_json: bool) -> None:
    """Create or upgrade the database schema."""
    app = load_app(init=True)
    emit({"database": app.settings.resolved_database_url.split("@")[-1], "migrated": True},
         t("The database is ready."), as_json)


@cli.command()
@fail_cleanly
def run() -> None:
    """Serve the configured chat networks (Telegram, Matrix), the outbox and the scheduler."""
    import asyncio

    with_every_job()  # before the runner's modules: the menu, the scheduler's tasks and listeners as registered
    from bot.channels.base import ChannelFailed
    from bot.runner import NoChannel, configured_channels, serve, wait_for_database

    app = wait_for_database(load_app)  # a service may start before its database: wait, do not exit
    try:
        asyncio.run(serve(app, configured_channels(app)))
    except (NoChannel, ChannelFailed) as exc:
        raise click.ClickException(explain(exc)) from None


@cli.command("config")
@click.option("--markdown", is_flag=True, help="Print the README table of every setting and its default.")
@json_option
@fail_cleanly
def show_config(markdown: bool, as_json: bool) -> None:
    """Every setting in effect and where it came from (environment, file, default); secrets masked."""
    from conversations.settings import describe

    if markdown:
        click.echo("| variable | default | meaning |\n| --- | --- | --- |")
        for row in describe():
            default = f"`{row['default']}`" if row["default"] not in ("", None) else "—"
            click.echo(f"| `{row['env']}` | {default} | {row['doc']} |")
        return
    settings, origins = config.load_with_origins()
    rows = [{"env": row["env"], "value": config.shown_value(settings, row["name"]), "origin": origins[row["name"]],
             "default": row["default"], "secret": row["secret"], "doc": row["doc"]} for row in describe()]

    def origin(where: str) -> str:
        return {config.ENVIRONMENT: t("environment"), config.DEFAULT: t("default")}.get(
            where, t("file {path}", path=where))

    emit(rows, lambda: "\n".join(f"{r['env']:32} {str(r['value']) if r['value'] != '' else '—':34} {origin(r['origin'])}"
                                 for r in rows), as_json)


# --- organisations, staff, cases, members -------------------------------------------------------
@cli.group(cls=LazyGroup, lazy=BELOW["org"])
def org() -> None:
    """Organisations (Träger, Jugendamt)."""


@org.command("add")
@click.argument("name")
@click.option("--phone")
@click.option("--hours", help="When the phone is answered, e.g. 'Mo–Fr 8:00–18:00'.")
@json_option
@fail_cleanly
def org_add(name: str, phone: str | None, hours: str | None, as_json: bool) -> None:
    """Add an organisation (a Träger or a Jugendamt) with its phone number and hours."""
    from conversations import admin

    with unit_of_work() as (app, session):
        created = admin.add_organisation(session, cli_actor(), app.services.clock.now(), name, phone, hours)
        emit({"id": created.id, "name": created.name},
             t("Organisation {id}: {name}", id=created.id, name=created.name), as_json)


@cli.group(cls=LazyGroup, lazy=BELOW["staff"])
def staff() -> None:
    """Staff members and their roles."""


def _invite_output(app: App, session: Session, person: Any, code: str, letter: Path | None) -> dict[str, Any]:
    from bot.letters import Invitation, Letterhead, deep_link, invite_letter, matrix_link
    from bot.staff_letter import staff_letter
    from conversations import address
    from conversations.clock import iso
    from storage.models import StaffMember

    now = app.services.clock.now()
    tr = address.translator_for(person, now)  # a young person's letter says du
    link = deep_link(app.settings.telegram_bot_username, code)
    result = {"code": code, "telegram_link": link, "valid_days": app.settings.invite_ttl_days,
              "expires_at": iso(now + timedelta(days=app.settings.invite_ttl_days))}
    if app.settings.matrix_user_id:
        result["matrix_link"] = matrix_link(app.settings.matrix_user_id)
    if letter:
        staff = isinstance(person, StaffMember)
        head = Letterhead.of(person.organisation if staff else person.case.organisation)
        invitation = Invitation(person.display_name, code, now + timedelta(days=app.settings.invite_ttl_days), now,
                                app.settings.telegram_bot_username or None, app.settings.matrix_user_id or None)
        letter.write_bytes((staff_letter if staff else invite_letter)(tr, head, invitation))
        result["letter"] = str(letter)
    return result


@staff.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              help="fachkraft, fallfuehrend, gespraechsfuehrung, beschwerde, leitung, admin (repeatable).")
@click.option("--email")
@click.option("--phone")
@click.option("--language", default="de", show_default=True)
@click.option("--org", "org_id", type=int, help="Organisation id (default: the first).")
@click.option("--letter", type=click.Path(path_type=Path), help="Also write an invite letter (PDF) here.")
@json_option
@fail_cleanly
def staff_add(name: str, roles: tuple[str, ...], email: str | None, phone: str | None, language: str,
              org_id: int | None, letter: Path | None, as_json: bool) -> None:
    """Add a staff member and print their invite code."""
    from conversations import admin

    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        member = admin.add_staff(session, cli_actor(), now, admin.organisation(session, org_id), name, list(roles),
                                 email, phone, language)
        code = admin.invite(session, cli_actor(), now, member, app.settings.invite_ttl_days)
        data = {"id": member.id, "name": member.name, "roles": list(roles),
                **_invite_output(app, session, member, code, letter)}
    emit(data, t("Staff member {id}: {name}", id=data["id"], name=name) + "\n"
         + tn("Invite code: {code} (valid {days} day)", "Invite code: {code} (valid {days} days)",
              data["valid_days"], code=code, days=data["valid_days"]), as_json)


@staff.command("list")
@json_option
@fail_cleanly
def staff_list(as_json: bool) -> None:
    """Every staff member with their roles."""
    from sqlalchemy import select

    from storage.models import StaffMember

    with unit_of_work() as (_app, session):
        rows = [{"id": s.id, "name": s.name, "roles": sorted(r.role for r in s.roles), "email": s.email,
                 "active": s.active} for s in session.scalars(select(StaffMember).order_by(StaffMember.id))]
    emit(rows, lambda: "\n".join(f"{r['id']:4}  {r['name']:30} {', '.join(r['roles'])}"
                                 + ("" if r["active"] else "  " + t("(left)")) for r in rows) or t("No staff yet."),
         as_json)


@cli.group(cls=LazyGroup, lazy=BELOW["case"])
def case() -> None:
    """Cases (families) and who works on them."""


@case.command("add")
@click.argument("title")
@click.option("--reference", help="Case reference (default: F-<year>-<number>).")
@click.option("--help-type", help="e.g. 'SPFH § 31 SGB VIII'.")
@click.option("--started", help="Date the help began (2027-03-01 or 01.03.2027).")
@click.option("--fachkraft", "fachkraefte", type=int, multiple=True, help="Staff id of a Fachkraft (repeatable).")
@click.option("--fallfuehrend", type=int, help="Staff id of the fallführende Fachkraft at the Jugendamt.")
@click.option("--org", "org_id", type=int)
@json_option
@fail_cleanly
def case_add(title: str, reference: str | None, help_type: str | None, started: str | None,
             fachkraefte: tuple[int, ...], fallfuehrend: int | None, org_id: int | None, as_json: bool) -> None:
    """Create a case and assign its team."""
    from conversations import admin

    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        created = admin.add_case(session, cli_actor(), now, admin.organisation(session, org_id), title, reference,
                                 help_type, parse_date(started))
        for staff_id in fachkraefte:
            admin.assign(session, cli_actor(), now, created, admin.staff_member(session, staff_id), "fachkraft")
        if fallfuehrend:
            admin.assign(session, cli_actor(), now, created, admin.staff_member(session, fallfuehrend), "fallfuehrend")
        data = admin.case_summary(session, created)
    emit(data, t("Case {reference}: {title}", reference=data["reference"], title=title), as_json)


def _case_text(data: dict[str, Any]) -> str:
    lines = [f"{data['reference']}  {data['title']}  ({data['help_type'] or '—'}, {data['organisation']})"]
    if data.get("closed_at"):
        lines.append(t("Closed {date} ({reason})", date=data["closed_at"][:10], reason=data["closed_reason"]))
    lines.append(t("Family:"))
    kinds = {"parent": t("parent"), "adult": t("adult"), "child": t("child")}
    lines += [f"  {m['id']:4} {m['name']:28} {kinds.get(m['kind'], m['kind']):11} {m['language']:3} "
              + (t("linked via {channel}", channel=m["linked"]) if m["linked"] else t("not linked"))
              for m in data["members"]]
    lines.append(t("Staff:"))
    lines += [f"  {s['id']:4} {s['name']:28} {s['role']}" for s in data["staff"]]
    return "\n".join(lines)


def _overview_text(tr: Any, reference: str, seen: Any) -> str:
    """This month's hours, open alerts and escalations, next appointments (case show)."""
    from conversations.appointments import describe, hours_text

    month = tr.month(seen.month.first_day)
    stmt = seen.statement
    if stmt is None:
        lines = [t("Hours in {month}: no budget set (`wegbegleiter budget set {reference} MONTH HOURS`)",
                   month=month, reference=reference)]
    else:
        lines = [t("Hours in {month}: {used} of {allowed} used ({percent} %), {remaining} left, {planned} still planned",
                   month=month, used=hours_text(tr, stmt.used_minutes), allowed=hours_text(tr, stmt.allowed_minutes),
                   percent=stmt.used_percent, remaining=hours_text(tr, stmt.remaining_minutes),
                   planned=hours_text(tr, stmt.planned_minutes))]
    lines.append(t("Open child-protection alerts:") + ("" if seen.alerts else " " + t("none")))
    lines += ["  " + t("#{id} since {when}{who}: `wegbegleiter alerts handle {id} --by STAFF_ID`", id=e.id,
                       when=tr.datetime(e.created_at, "short"),
                       who=f" ({e.member.display_name})" if e.member else "") for e in seen.alerts]
    lines.append(t("Open escalations (three appointments without participation):")
                 + ("" if seen.escalations else " " + t("none")))
    lines += ["  " + t("#{id} since {when}: `wegbegleiter escalations ack {id} --by STAFF_ID`", id=e.id,
                       when=tr.datetime(e.created_at, "short")) for e in seen.escalations]
    lines.append(t("Next appointments:") + ("" if seen.upcoming else " " + t("none planned")))
    lines += [f"  #{a.id} {describe(tr, a)}" for a in seen.upcoming]
    if seen.more_upcoming:
        lines.append("  " + tn("… and {count} more: `wegbegleiter appointments list {reference}`",
                               "… and {count} more: `wegbegleiter appointments list {reference}`",
                               seen.more_upcoming, count=seen.more_upcoming, reference=reference))
    return "\n".join(lines)


@case.command("show")
@click.argument("case_ref")
@json_option
@fail_cleanly
def case_show(case_ref: str, as_json: bool) -> None:
    """A case at a glance: family, team, this month's hours, open alerts and escalations, next appointments."""
    with_every_job()  # the overview imports the appointments', budget's and escalations' jobs
    from conversations import admin
    from conversations.case_overview import overview
    from conversations.i18n import translator

    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        found = admin.find_case(session, case_ref)
        data = admin.case_summary(session, found)
        seen = overview(session, found, now)
        data.update(seen.as_dict())
        text = _case_text(data) + "\n" + _overview_text(translator(language()), found.reference, seen)
        admin.audit(session, at=now, actor=cli_actor().label, action="case.read", object_type="case",
                    object_id=found.id, case_id=found.id)
    emit(data, text, as_json)


@case.command("list")
@json_option
@fail_cleanly
def case_list(as_json: bool) -> None:
    """Every case with its reference."""
    from sqlalchemy import select

    from storage.models import Case

    with unit_of_work() as (_app, session):
        rows = [{"id": c.id, "reference": c.reference, "title": c.title, "members": len(c.members)}
                for c in session.scalars(select(Case).order_by(Case.id))]
    emit(rows, lambda: "\n".join(f"{r['reference']:14} {r['title']}" for r in rows) or t("No cases yet."), as_json)


@cli.group(cls=LazyGroup, lazy=BELOW["member"])
def member() -> None:
    """Family members and their invite codes."""


@member.command("add")
@click.argument("case_ref")
@click.argument("first_name")
@click.option("--last-name")
@click.option("--kind", type=click.Choice(["parent", "adult", "child"]), default="parent", show_default=True)
@click.option("--born", help="Date of birth (2012-05-04 or 04.05.2012); decides the youth questionnaire.")
@click.option("--language", default="de", show_default=True)
@click.option("--email")
@click.option("--letter", type=click.Path(path_type=Path), help="Also write an invite letter (PDF) here.")
@json_option
@fail_cleanly
def member_add(case_ref: str, first_name: str, last_name: str | None, kind: str, born: str | None, language: str,
               email: str | None, letter: Path | None, as_json: bool) -> None:
    """Add a family member and print their invite code."""
    from conversations import admin

    with unit_of_work() as (app, session):
        now = app.services.clock.now()
        found = admin.find_case(session, case_ref)
        person = admin.add_member(session, cli_actor(), now, found, first_name, last_name, kind, parse_date(born),
                                  language, email)
        code = admin.invite(session, cli_actor(), now, person, app.settings.invite_ttl_days)
        data = {"id": person.id, "name": person.display_name, "case": found.reference,
                **_invite_output(app, session, person, code, letter)}
    emit(data, t("Family member {id}: {name} ({case})", id=data["id"], name=data["name"], case=data["case"])
         + "\n" + t("Invite code: {code}", code=code), as_json)


@cli.group()
def outbox() -> None:
    """Messages waiting for delivery."""


@outbox.command("status")
@json_option
@fail_cleanly
def outbox_status(as_json: bool) -> None:
    """How many messages are waiting, sent or failed."""
    from bot.outbox import status_counts

    with unit_of_work() as (_app, session):
        counts = status_counts(session)
    emit(counts, lambda: "\n".join(f"{k:10} {v}" for k, v in sorted(counts.items())) or t("The outbox is empty."),
         as_json)


@cli.group()
def i18n() -> None:
    """Translation catalogs: extract, update, compile, check."""


@i18n.command("extract")
def i18n_extract() -> None:
    """Collect the messages of the code into the templates (messages.pot, cli.pot)."""
    from bot import i18n_tool

    click.echo(i18n_tool.extract())
    click.echo(i18n_tool.extract_cli())


@i18n.command("update")
def i18n_update() -> None:
    """Extract, then bring every catalog up to date with the templates."""
    from bot import i18n_tool

    i18n_tool.update()


@i18n.command("compile")
def i18n_compile() -> None:
    """Compile the catalogs (.po to .mo)."""
    from bot import i18n_tool

    i18n_tool.compile_catalogs()


@i18n.command("check")
@json_option
def i18n_check(as_json: bool) -> None:
    """Fail when a catalog lacks a message, is fuzzy, or breaks a placeholder."""
    from bot import i18n_tool

    problems = i18n_tool.check() + i18n_tool.check(domain="cli")
    emit([str(p) for p in problems], lambda: "\n".join(map(str, problems)) or t("All catalogs complete."), as_json)
    if problems:
        sys.exit(1)


def main() -> None:
    try:
        cli(prog_name="wegbegleiter")
    except Exception as exc:  # an operator gets one line; LOG_LEVEL=DEBUG shows the trace
        import logging

        logging.getLogger("wegbegleiter").debug("unexpected error", exc_info=True)
        click.echo(t("Error: {problem}", problem=f"{exc.__class__.__name__}: {exc}"), err=True)
        sys.exit(1)

