"""After the meeting: the Gesprächsführer*in records the evaluation with the two Fachkräfte (seed 000).

Signs of Kindeswohlgefährdung, blind spots, insights on the meta level, and the actions agreed. An action
with a person and a date becomes a reminder for that person on that date. Staff only: nothing here is
ever shown to the family.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import authz
from conversations.context import Context, audit
from conversations.flows.base import VALUE, WORDS, Flow, Frame
from conversations.messages import Choice
from conversations.milestone import core
from conversations.registry import REGISTRY, Action, Audience
from conversations.timeparse import TypedDateError, chat_moment
from storage.models import Milestone, MilestoneAction, MilestoneEvaluation, StaffMember

FLOW = "milestone_evaluation"


def evaluation_of(session: Session, ms: Milestone, staff: StaffMember, now: datetime) -> MilestoneEvaluation:
    """The talk's evaluation, begun now if there is none yet (the chat records it step by step)."""
    found = session.scalar(select(MilestoneEvaluation).where(MilestoneEvaluation.milestone_id == ms.id))
    if found is None:
        found = MilestoneEvaluation(milestone_id=ms.id, recorded_by=staff.id, recorded_at=now)
        session.add(found)
        session.flush()
    found.recorded_at = now
    return found


@dataclass(frozen=True)
class AgreedAction:
    text: str
    assignee_id: int | None = None  # with a date: a reminder for that person on that day
    due_on: date | None = None


def record_evaluation(session: Session, ms: Milestone, staff: StaffMember, now: datetime, *, signs: bool | None,
                      note: str | None, blind_spots: str | None, insights: str | None,
                      actions: Sequence[AgreedAction] = ()) -> MilestoneEvaluation:
    """The whole evaluation at once (the console's form): what is given replaces, actions are added."""
    found = evaluation_of(session, ms, staff, now)
    if signs is not None:
        found.child_protection_signs = signs
    if signs is False:
        found.child_protection_note = None
    elif note:
        found.child_protection_note = note
    found.blind_spots = blind_spots or found.blind_spots
    found.insights = insights or found.insights
    for action in actions:
        session.add(MilestoneAction(evaluation_id=found.id, text=action.text, assignee_id=action.assignee_id,
                                    due_on=action.due_on))
    session.flush()
    session.refresh(found, ["actions"])
    audit(session, at=now, actor=f"staff:{staff.id}", action="milestone.evaluated", object_type="milestone_evaluation",
          object_id=found.id, case_id=ms.case_id, actions=len(found.actions),
          child_protection_signs=found.child_protection_signs)
    return found


class Evaluation(Flow):
    name = FLOW
    first_step = "signs"
    typed_steps = {"signs_note": WORDS, "blind_spots": WORDS, "insights": WORDS, "action": WORDS, "when": VALUE}

    def _milestone(self, ctx: Context, frame: Frame) -> Milestone | None:
        ms = ctx.session.get(Milestone, int(frame.data.get("milestone", 0)))
        return ms if ms is not None and authz.may_record_evaluation(ctx.principal, ms, ctx.now) else None

    def _evaluation(self, ctx: Context, ms: Milestone) -> MilestoneEvaluation:
        assert ctx.staff is not None
        return evaluation_of(ctx.session, ms, ctx.staff, ctx.now)

    def ask(self, ctx: Context, frame: Frame) -> None:
        if self._milestone(ctx, frame) is None:
            ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
            ctx.finish()
            return
        super().ask(ctx, frame)

    def handle(self, ctx: Context, frame: Frame) -> None:
        ms = self._milestone(ctx, frame)
        if ms is None:
            ctx.finish()
            return
        frame.data["evaluation"] = self._evaluation(ctx, ms).id
        super().handle(ctx, frame)

    def _skip(self, ctx: Context) -> list[Choice]:
        return [Choice(ctx._("Skip"), "skip")]

    def _current(self, ctx: Context, frame: Frame) -> MilestoneEvaluation:
        found = ctx.session.get(MilestoneEvaluation, frame.data["evaluation"])
        assert found is not None
        return found

    # signs of Kindeswohlgefährdung
    def ask_signs(self, ctx: Context, frame: Frame) -> None:
        ms = self._milestone(ctx, frame)
        assert ms is not None
        ctx.say(ctx._("Evaluation of the Meilensteingespräch {case} with the Fachkräfte.\n\n"
                      "Were there signs of a risk to a child's welfare (Kindeswohlgefährdung)?").format(
                    case=ms.case.title),
                [Choice(ctx._("No signs"), "no"), Choice(ctx._("Yes, there were signs"), "yes"), *self._skip(ctx)])

    def on_signs(self, ctx: Context, frame: Frame) -> None:
        evaluation = self._current(ctx, frame)
        if ctx.choice in ("yes", "no"):
            evaluation.child_protection_signs = ctx.choice == "yes"
            self.goto(ctx, frame, "signs_note" if ctx.choice == "yes" else "blind_spots")
        elif ctx.choice == "skip":
            self.goto(ctx, frame, "blind_spots")
        else:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)

    def ask_signs_note(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Which signs? Please also start the Träger's child protection procedure (§ 8a SGB VIII) "
                      "if that has not happened yet."), self._skip(ctx))

    def on_signs_note(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice != "skip" and ctx.text:
            self._current(ctx, frame).child_protection_note = ctx.text
        self.goto(ctx, frame, "blind_spots")

    def ask_blind_spots(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Blind spots: what did the Fachkräfte not see, or see differently from the family?"),
                self._skip(ctx))

    def on_blind_spots(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice != "skip" and ctx.text:
            self._current(ctx, frame).blind_spots = ctx.text
        self.goto(ctx, frame, "insights")

    def ask_insights(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Insights on the meta level: what do you take from this talk?"), self._skip(ctx))

    def on_insights(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice != "skip" and ctx.text:
            self._current(ctx, frame).insights = ctx.text
        self.goto(ctx, frame, "action")

    # actions agreed, each optionally a reminder for a named person and date
    def ask_action(self, ctx: Context, frame: Frame) -> None:
        count = len(self._current(ctx, frame).actions)
        text = (ctx._("Which action did you agree on? Write it in one message.") if count == 0 else
                ctx._("Another action? Write it, or finish."))
        ctx.say(text, [Choice(ctx._("No (more) actions, finish"), "done")])

    def on_action(self, ctx: Context, frame: Frame) -> None:
        if ctx.choice == "done" or not ctx.text:
            self._done(ctx, frame)
            return
        action = MilestoneAction(evaluation_id=self._current(ctx, frame).id, text=ctx.text)
        ctx.session.add(action)
        ctx.session.flush()
        frame.data["action"] = action.id
        self.goto(ctx, frame, "who")

    def _people(self, ctx: Context, frame: Frame) -> list[StaffMember]:
        ms = self._milestone(ctx, frame)
        assert ms is not None
        return core.readers(ms)

    def ask_who(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("Who takes care of it? They get a reminder."),
                [*(Choice(s.name, f"staff:{s.id}") for s in self._people(ctx, frame)),
                 Choice(ctx._("No reminder"), "none")])

    def on_who(self, ctx: Context, frame: Frame) -> None:
        action = ctx.session.get(MilestoneAction, frame.data["action"])
        assert action is not None
        if ctx.choice and ctx.choice.startswith("staff:"):
            action.assignee_id = int(ctx.choice.split(":", 1)[1])
            self.goto(ctx, frame, "when")
        elif ctx.choice == "none":
            self.goto(ctx, frame, "action")
        else:
            ctx.say(ctx._("Please choose one of the buttons."))
            self.ask(ctx, frame)

    def ask_when(self, ctx: Context, frame: Frame) -> None:
        ctx.say(ctx._("By when? Write a date, for example {example}.").format(
            example=ctx.tr.date(ctx.now, "short")), [Choice(ctx._("No reminder"), "none")])

    def on_when(self, ctx: Context, frame: Frame) -> None:
        action = ctx.session.get(MilestoneAction, frame.data["action"])
        assert action is not None
        if ctx.choice == "none":
            action.assignee_id = None
            self.goto(ctx, frame, "action")
            return
        try:
            day = chat_moment(ctx.text, ctx.tr.lang, ctx.now).day
        except TypedDateError as problem:
            ctx.say(problem.message(ctx.tr))
            self.ask(ctx, frame)
            return
        if day is None:  # only a time of day
            ctx.say(ctx._("I could not read that date. Please write it like {example}.").format(
                example=ctx.tr.date(ctx.now, "short")))
            self.ask(ctx, frame)
            return
        action.due_on = day
        assignee = ctx.session.get(StaffMember, action.assignee_id) if action.assignee_id else None
        ctx.say(ctx._("Noted: {name} will be reminded on {date}.").format(
            name=assignee.name if assignee else "—", date=ctx.tr.date(day, "long")))
        self.goto(ctx, frame, "action")

    def _done(self, ctx: Context, frame: Frame) -> None:
        evaluation = self._current(ctx, frame)
        ms = self._milestone(ctx, frame)
        assert ms is not None
        ctx.session.refresh(evaluation, ["actions"])
        ctx.audit("milestone.evaluated", "milestone_evaluation", evaluation.id, case_id=ms.case_id,
                  actions=len(evaluation.actions), child_protection_signs=evaluation.child_protection_signs)
        ctx.say(ctx._("Thank you, the evaluation is recorded ({count} actions).").format(
            count=len(evaluation.actions)))
        ctx.finish()


def open_evaluation(ctx: Context, arg: str) -> None:
    ms = ctx.session.get(Milestone, int(arg)) if arg.isdigit() else None
    if ms is None or not authz.may_record_evaluation(ctx.principal, ms, ctx.now):
        ctx.say(ctx._("This is not available to you."))
        ctx.resume()
        return
    ctx.stack = [f for f in ctx.stack if f.flow != FLOW]
    ctx.start(FLOW, milestone=ms.id)


REGISTRY.flow(Evaluation())
REGISTRY.action(Action("ms_eval", open_evaluation, Audience.STAFF))
