"""Flows are explicit state machines: a named step per question, stored in the chat's state.

A flow defines ``ask_<step>`` (say the question) and ``on_<step>`` (take the answer) for each step.
The engine stores the frame (flow, step, data) after every turn, so a restart resumes where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from conversations.i18n import N_
from conversations.messages import Choice

if TYPE_CHECKING:
    from conversations.context import Context
    from storage.models import FamilyMember, StaffMember

CANCEL_CHOICE = "nav:cancel"  # the option "Cancel" that leaves a guided flow (Flow.cancel)
WORDS = "words"  # a typed answer that is kept as written
VALUE = "value"  # a typed answer that is read as a value (a date, a time, a duration, a code)


@dataclass
class Frame:
    flow: str
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.flow, "step": self.step, "data": self.data}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Frame:
        return cls(flow=raw["flow"], step=raw.get("step", ""), data=dict(raw.get("data") or {}))


class Flow:
    name: ClassVar[str] = ""
    first_step: ClassVar[str] = ""
    # Flows that take files, photos or voice notes (a complaint, a questionnaire answer) say so; elsewhere
    # the engine explains kindly that it can only read text and buttons there.
    accepts_attachments: ClassVar[bool] = False
    # Said when the person leaves the flow with "Cancel" (typed in their language, /abbrechen, or the
    # option); a flow that has more to undo overrides :meth:`cancel`.
    cancelled_text: ClassVar[str] = N_("All right, we stop here.")
    # The steps whose answer may be typed: WORDS (what was written is kept: a reason, a complaint, a goal)
    # or VALUE (a code, a date, a duration). Every other step is answered by choosing an option; there the
    # engine answers other text itself (nothing typed is taken as a choice it is not). At a WORDS step a
    # bare number that is no option is asked about once before it is kept.
    typed_steps: ClassVar[dict[str, str]] = {}

    def typed_answer(self, ctx: Context, frame: Frame) -> str | None:
        """WORDS, VALUE, or None when the current step is answered by choosing an option."""
        return self.typed_steps.get(frame.step)

    def cancel(self, ctx: Context, frame: Frame) -> None:
        """Leave the flow ("Abbrechen"): say what it means, and go back to what it interrupted."""
        ctx.say(ctx._(self.cancelled_text))
        ctx.finish()

    def cancel_choice(self, ctx: Context) -> Choice:
        return Choice(ctx._("Cancel"), CANCEL_CHOICE)

    def other_text(self, ctx: Context, frame: Frame, *, screened: bool) -> None:
        """Text that is no option, at a step answered by choosing one: nothing is taken; say how to answer
        and ask again. After a danger screen's help only the question comes back (no "please choose")."""
        if ctx.text and not screened:
            ctx.say(ctx._("Please answer with one of the options: type its number or its words."))
        self.resume(ctx, frame)

    def begin(self, ctx: Context, frame: Frame) -> None:
        self.goto(ctx, frame, self.first_step)

    def goto(self, ctx: Context, frame: Frame, step: str) -> None:
        frame.step = step
        self.ask(ctx, frame)

    def ask(self, ctx: Context, frame: Frame) -> None:
        getattr(self, f"ask_{frame.step}")(ctx, frame)

    def handle(self, ctx: Context, frame: Frame) -> None:
        getattr(self, f"on_{frame.step}")(ctx, frame)

    def resume(self, ctx: Context, frame: Frame) -> None:
        """Ask the current question again (after an interruption or an answer that did not fit)."""
        self.ask(ctx, frame)

    def addressed(self, ctx: Context, frame: Frame) -> FamilyMember | StaffMember | None:
        """Whom this open flow knows a chat not linked yet to be (onboarding: the invited person, once their
        code was right): everything said in the chat then addresses them as they are addressed (du or Sie)."""
        return None
