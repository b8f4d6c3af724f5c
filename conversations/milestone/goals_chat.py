"""/ziele: a Fachkraft enters and updates her cases' Hilfeplan goals in the chat (the CLI does the same).

Only the case's own Fachkräfte may change its goals; every change is audited (``core.add_goal`` and
``core.update_goal``).
"""

from __future__ import annotations

from conversations.admin import Actor
from conversations.context import Context
from conversations.flows.base import WORDS, Flow, Frame
from conversations.i18n import N_
from conversations.messages import Choice
from conversations.milestone import core
from conversations.milestone.core import GOAL_LEVEL_LABELS, GoalLevel
from conversations.registry import REGISTRY, Audience, Command
from storage.models import Case, CaseGoal, Role

FLOW = "milestone_goals"


def my_cases(ctx: Context) -> list[Case]:
    staff = ctx.staff
    if staff is None:
        return []
    cases = {a.case.id: a.case for a in staff.assignments if a.role == Role.FACHKRAFT and a.until is None}
    return sorted(cases.values(), key=lambda c: c.title)


class Goals(Flow):
    name = FLOW
    first_step = "case"
    typed_steps = {"text": WORDS}
    cancelled_text = N_("Thank you. The goals are saved.")

    def _case(self, ctx: Context, frame: Frame) -> Case | None:
        return next((c for c in my_cases(ctx) if c.id == frame.data.get("case")), None)

    def _goal(self, ctx: Context, frame: Frame, goal_id: object) -> CaseGoal | None:
        case = self._case(ctx, frame)
        if case is None or not str(goal_id).isdigit():
            return None
        return next((g for g in core.goals(ctx.session, case) if g.id == int(str(goal_id))), None)

    def _actor(self, ctx: Context) -> Actor:
        return Actor(ctx.actor)

    def begin(self, ctx: Context, frame: Frame) -> None:
        cases = my_cases(ctx)
        if len(cases) == 1:
            frame.data["case"] = cases[0].id
            self.goto(ctx, frame, "menu")
        elif not cases:
            ctx.say(ctx._("You are not a Fachkraft of any case at the moment."))
            ctx.finish()
        else:
            self.goto(ctx, frame, "case")

    def ask_case(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Which family?"), [Choice(c.title, f"case:{c.id}") for c in my_cases(ctx)])

    def on_case(self, ctx: Context, frame: Frame) -> None:
        chosen = (ctx.choice or "").removeprefix("case:")
        if chosen.isdigit() and any(c.id == int(chosen) for c in my_cases(ctx)):
            frame.data["case"] = int(chosen)
            self.goto(ctx, frame, "menu")
        else:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)

    def ask_menu(self, ctx: Context, frame: Frame) -> None:
        case = self._case(ctx, frame)
        if case is None:
            ctx.finish()
            return
        goals = core.goals(ctx.session, case)
        lines = [ctx._("Goals of the Hilfeplan for {case}:").format(case=case.title)]
        lines += [f"{i}. {core.level_label(ctx.tr, g.level)}: {g.text}" for i, g in enumerate(goals, start=1)]
        if not goals:
            lines.append(ctx._("No goals yet."))
        choices = [Choice(ctx._("Add a goal"), "add")]
        if goals:
            choices += [Choice(ctx._("Change a goal"), "edit"), Choice(ctx._("Remove a goal"), "archive")]
        ctx.say("\n".join(lines), [*choices, Choice(ctx._("Done"), "done")])

    def on_menu(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice == "add":
            self.goto(ctx, frame, "level")
        elif ctx.choice in ("edit", "archive"):
            frame.data["mode"] = ctx.choice
            self.goto(ctx, frame, "pick")
        elif ctx.choice == "done":
            ctx.say(ctx._("Thank you. The goals are saved."))
            ctx.finish()
        else:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)

    def ask_level(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("What kind of goal is it?"),
                [Choice(ctx._(GOAL_LEVEL_LABELS[lv]), lv.value) for lv in GoalLevel])

    def on_level(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice not in {lv.value for lv in GoalLevel}:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)
            return
        frame.data["level"] = ctx.choice
        frame.data.pop("goal", None)
        self.goto(ctx, frame, "text")

    def ask_text(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Please write the goal as it stands in the Hilfeplan, in plain words the family "
                      "understands."))

    def on_text(self, ctx: Context, frame: Frame) -> None:
        case = self._case(ctx, frame)
        if case is None or not ctx.text:
            self.ask(ctx, frame)
            return
        if frame.data.get("goal"):
            core.update_goal(ctx.session, self._actor(ctx), ctx.now, int(frame.data.pop("goal")), text=ctx.text)
        else:
            core.add_goal(ctx.session, self._actor(ctx), ctx.now, case, ctx.text, frame.data.get("level", "handlungsziel"))
        self.goto(ctx, frame, "menu")

    def ask_pick(self, ctx: Context, frame: Frame) -> None:
        case = self._case(ctx, frame)
        goals = core.goals(ctx.session, case) if case else []
        question = ctx._("Which goal?")
        ctx.say(question, [*(Choice(g.text[:60], f"goal:{g.id}") for g in goals), Choice(ctx._("Back"), "back")])

    def on_pick(self, ctx: Context, frame: Frame) -> None:
        goal = self._goal(ctx, frame, (ctx.choice or "").removeprefix("goal:"))
        if goal is None:
            self.goto(ctx, frame, "menu")
        elif frame.data.get("mode") == "archive":
            core.update_goal(ctx.session, self._actor(ctx), ctx.now, goal.id, archive=True)
            self.goto(ctx, frame, "menu")
        else:
            frame.data["goal"] = goal.id
            self.goto(ctx, frame, "text")


REGISTRY.flow(Goals())
REGISTRY.command(Command("goals", {"de": "ziele", "en": "goals"}, N_("Hilfeplan goals of my families"),
                         lambda ctx, _arg: ctx.start(FLOW), Audience.STAFF, roles=(Role.FACHKRAFT,)))
