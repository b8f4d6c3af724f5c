"""/fristen for staff: the coming Hilfeplan deadlines of one's cases, each marked done with one tap.

The same button (``act:hp_done:<id>``) sits under every reminder, overdue notice and warning; the handler asks
:func:`authz.may_mark_deadline_done` every time, so a forwarded or forged button changes nothing.
"""

from __future__ import annotations

from conversations import authz
from conversations.clock import BERLIN
from conversations.context import Context
from conversations.hilfeplan import core
from conversations.hilfeplan.jobs import DONE_ACTION
from conversations.i18n import N_
from conversations.messages import Choice
from conversations.registry import REGISTRY, Action, Audience, Command
from storage.models import Role
from storage.models.hilfeplan import HilfeplanItem

WEEKS = 12  # an Entwicklungsbericht takes a while to write
SHOWN = 10  # buttons: the ten most pressing


def show_deadlines(ctx: Context, arg: str) -> None:
    _ = ctx._
    found = core.coming_for(ctx.session, ctx.principal, ctx.now, WEEKS)
    today = ctx.now.astimezone(BERLIN).date()
    if not found:
        ctx.say(_("No open Hilfeplan deadlines in the next {weeks} weeks.").format(weeks=WEEKS))
        return ctx.offer_way_back()
    lines = [_("Hilfeplan deadlines of your cases (next {weeks} weeks):").format(weeks=WEEKS)]
    for item in found:
        late = " – " + _("overdue") if item.due_on < today else ""
        lines.append(f"• {ctx.tr.date(item.due_on, 'medium')}: {core.item_label(ctx.tr, item)} – "
                     f"{item.case.title}{late}")
    mine = [i for i in found if authz.may_mark_deadline_done(ctx.principal, i)][:SHOWN]
    if mine:
        lines += ["", _("Done already? Tap it:")]
    ctx.audit("hilfeplan.deadlines_read", "staff", ctx.staff.id if ctx.staff else None)
    ctx.say("\n".join(lines), [Choice(_("Done: {item}").format(
        item=f"{core.item_label(ctx.tr, i)}, {i.case.title}"), f"act:{DONE_ACTION}:{i.id}") for i in mine])
    ctx.offer_way_back()


def on_done(ctx: Context, arg: str) -> None:
    _ = ctx._
    item = ctx.session.get(HilfeplanItem, int(arg)) if arg.isdigit() else None
    if item is None or item.obsolete_at is not None or not authz.may_mark_deadline_done(ctx.principal, item):
        ctx.say(_("That button is no longer valid. Nothing was changed."))
        return ctx.resume()
    label = f"{core.item_label(ctx.tr, item)} – {item.case.title}"
    if item.done_at is not None:
        ctx.say(_("This is already marked as done: {item}.").format(item=label))
        return ctx.resume()
    core.mark_done(ctx.session, ctx.principal, ctx.now, item)
    ctx.say(_("Marked as done: {item}.").format(item=label))
    ctx.resume()


REGISTRY.command(Command("deadlines", {"de": "fristen", "en": "deadlines"}, N_("Hilfeplan deadlines of my cases"),
                         show_deadlines, Audience.STAFF, roles=(Role.FACHKRAFT, Role.LEITUNG)))
REGISTRY.action(Action(DONE_ACTION, on_done, Audience.STAFF))
