"""`wegbegleiter goals …` and `wegbegleiter milestone …`: Hilfeplan goals and Meilensteingespräche.

Children are family members of kind ``child`` (`wegbegleiter member add CASE Leyla --kind child --born …`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bot.cli import CLI, cli, emit, fail_cleanly, json_option, unit_of_work
from bot.cli_language import language as cli_language
from bot.cli_language import t
from conversations import admin, timeparse
from conversations.clock import BERLIN, iso
from conversations.context import audit
from conversations.i18n import translator
from conversations.milestone import core, summary
from conversations.milestone.core import GoalLevel


def parse_when(value: str) -> datetime:
    """"2027-04-14 10:00", "2027-04-14T10:00" or "14.04.2027 10:00", Berlin wall-clock time."""
    return timeparse.cli_moment(value).astimezone(BERLIN)


@cli.group()
def goals() -> None:
    """Goals of a case's Hilfeplan (Richtungsziele, Handlungsziele, Handlungsschritte, Vereinbarungen)."""


@goals.command("add")
@click.argument("case_ref")
@click.argument("text")
@click.option("--level", type=click.Choice([lv.value for lv in GoalLevel]), default=GoalLevel.HANDLUNGSZIEL.value,
              show_default=True)
@json_option
@fail_cleanly
def goals_add(case_ref: str, text: str, level: str, as_json: bool) -> None:
    """Add a goal to a case's Hilfeplan."""
    with unit_of_work() as (app, session):
        goal = core.add_goal(session, CLI, app.services.clock.now(), admin.find_case(session, case_ref), text, level)
        data = {"id": goal.id, "case": goal.case.reference, "level": goal.level, "text": goal.text}
    emit(data, t("Goal {id} ({level}) added to {case}.", id=data["id"], level=level, case=data["case"]), as_json)


@goals.command("list")
@click.argument("case_ref")
@json_option
@fail_cleanly
def goals_list(case_ref: str, as_json: bool) -> None:
    """A case's goals and its children (whose wellbeing the questionnaires ask about)."""
    with unit_of_work() as (app, session):
        found = admin.find_case(session, case_ref)
        rows = [{"id": g.id, "level": g.level, "text": g.text} for g in core.goals(session, found)]
        kids = [{"id": c.id, "first_name": c.first_name, "born": c.birth_date} for c in core.children(found)]
        audit(session, at=app.services.clock.now(), actor=CLI.label, action="goals.read", object_type="case",
              object_id=found.id, case_id=found.id)
    emit({"goals": rows, "children": kids}, lambda: "\n".join(
        [f"{r['id']:4}  {r['level']:17} {r['text']}" for r in rows] or [t("No goals yet.")])
        + "\n" + t("Children: {names}", names=", ".join(k["first_name"] for k in kids) or "—"), as_json)


@goals.command("update")
@click.argument("goal_id", type=int)
@click.option("--text")
@click.option("--archive", is_flag=True, help="The goal is no longer part of the Hilfeplan.")
@json_option
@fail_cleanly
def goals_update(goal_id: int, text: str | None, archive: bool, as_json: bool) -> None:
    """Change a goal's text, or archive it."""
    with unit_of_work() as (app, session):
        goal = core.update_goal(session, CLI, app.services.clock.now(), goal_id, text=text, archive=archive)
        data = {"id": goal.id, "text": goal.text, "archived": goal.archived_at is not None}
    emit(data, t("Goal {id} updated.", id=goal_id), as_json)


@cli.group()
def milestone() -> None:
    """Meilensteingespräche: the family's and the Fachkräfte's views, collected beforehand."""


@milestone.command("add")
@click.argument("case_ref")
@click.option("--date", "when", required=True, help="Start, Berlin time: 2027-04-14 10:00 or 14.04.2027 10:00.")
@click.option("--leader", type=int, required=True, help="Staff id of the Gesprächsführer*in (not on the team).")
@click.option("--duration", type=int, default=90, show_default=True, help="Minutes.")
@click.option("--place")
@json_option
@fail_cleanly
def milestone_add(case_ref: str, when: str, leader: int, duration: int, place: str | None, as_json: bool) -> None:
    """Plan a Meilensteingespräch; the questionnaires go out by themselves beforehand."""
    with unit_of_work() as (app, session):
        ms = core.create_milestone(session, CLI, app.services.clock.now(), admin.find_case(session, case_ref),
                                   parse_when(when), admin.staff_member(session, leader), duration, place,
                                   services=app.services)
        data = {"id": ms.id, "case": ms.case.reference, "starts_at": iso(ms.appointment.starts_at),
                "leader": ms.leader.name, "invitations_days_before": app.settings.milestone_invite_days}
    emit(data, t("Meilensteingespräch {id} for {case} with {leader}; the questionnaires go out {days} days before.",
                 id=data["id"], case=data["case"], leader=data["leader"], days=data["invitations_days_before"]),
         as_json)


@milestone.command("summary")
@click.argument("milestone_id", type=int)
@click.option("--pdf", "pdf_path", type=click.Path(path_type=Path), help="Also write the PDF here.")
@click.option("--language", help="Language of the summary (default: the command line's).")
@json_option
@fail_cleanly
def milestone_summary(milestone_id: int, pdf_path: Path | None, language: str | None, as_json: bool) -> None:
    """The summary for the Gesprächsführer*in (only sent answers; the read is audited)."""
    with unit_of_work() as (app, session):
        ms = core.milestone(session, milestone_id)
        tr = translator(language or cli_language())
        built = summary.build(tr, ms)
        text = summary.as_text(tr, built, markup=False)  # the chat's *bold* is noise in a terminal
        evaluation = summary.evaluation_text(tr, ms, markup=False)
        if evaluation:
            text += "\n\n" + evaluation
        if pdf_path:
            pdf_path.write_bytes(summary.as_pdf(tr, built))
        audit(session, at=app.services.clock.now(), actor=CLI.label, action="milestone.summary_read",
              object_type="milestone", object_id=ms.id, case_id=ms.case_id)
        data = {"id": ms.id, "answered": built.answered, "missing": built.missing, "text": text,
                "pdf": str(pdf_path) if pdf_path else None}
    emit(data, text + (f"\n\nPDF: {pdf_path}" if pdf_path else ""), as_json)
