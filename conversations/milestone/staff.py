"""Staff in the chat: /meilenstein lists the reviews they may read and sends a summary on request.

Only the Gesprächsführer*in and the case's Fachkräfte may read a family's answers (as the family was
told); every reading is audited.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from conversations import authz
from conversations.context import Context
from conversations.i18n import N_
from conversations.messages import Choice
from conversations.milestone import summary
from conversations.milestone.scan import summary_message
from conversations.registry import REGISTRY, Action, Audience, Command
from storage.models import Appointment, Milestone, Role

RECENT = timedelta(days=60)


def readable(ctx: Context) -> list[Milestone]:
    rows = ctx.session.scalars(select(Milestone).join(Appointment)
                               .where(Appointment.starts_at > ctx.now - RECENT).order_by(Appointment.starts_at))
    return [ms for ms in rows if authz.may_read_milestone_answers(ctx.principal, ms)]


def list_milestones(ctx: Context, _arg: str) -> None:
    found = readable(ctx)
    if not found:
        ctx.say(ctx._("There is no Meilensteingespräch for you at the moment."))
        ctx.resume()
        return
    ctx.say(ctx._("Which summary would you like to see?"),
            [Choice(f"{ms.case.title} – {ctx.tr.date(ms.appointment.starts_at, 'medium')}", f"act:ms_summary:{ms.id}")
             for ms in found])


def show_summary(ctx: Context, arg: str) -> None:
    ms = ctx.session.get(Milestone, int(arg)) if arg.isdigit() else None
    if ms is None or not authz.may_read_milestone_answers(ctx.principal, ms):
        ctx.say(ctx._("This is not available to you."))
        ctx.resume()
        return
    reply = summary_message(ctx.tr, ctx.session, ms)
    ctx.say(reply.text, attachments=reply.attachments)
    evaluation = summary.evaluation_text(ctx.tr, ms)
    record = ([Choice(ctx._("Record the evaluation"), f"act:ms_eval:{ms.id}")]
              if authz.may_record_evaluation(ctx.principal, ms, ctx.now) else [])
    if evaluation or record:
        ctx.say(evaluation or ctx._("The evaluation after the talk is not recorded yet."), record)
    ctx.audit("milestone.summary_read", "milestone", ms.id, case_id=ms.case_id)
    ctx.resume()


REGISTRY.command(Command("milestone", {"de": "meilenstein", "en": "milestone"},
                         N_("Meilensteingespräch: summaries"), list_milestones, Audience.STAFF,
                         roles=(Role.FACHKRAFT, Role.GESPRAECHSFUEHRUNG), in_menu=True))
REGISTRY.action(Action("ms_summary", show_summary, Audience.STAFF))
