"""Flows are explicit state machines: a named step per question, stored in the chat's state.

A flow defines ``ask_<step>`` (say the question) and ``on_<step>`` (take the answer) for each step.
The engine stores the frame (flow, step, data) after every turn, so a restart resumes where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from conversations.context import Context


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
