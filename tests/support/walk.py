"""Walking the conversations option by option, through a real channel, checking that every option of every
reply answers to its number and to its words.

A :class:`Walker` drives one person's chat: it types a start (a command word, or nothing when a pushed
message is waiting), and at every reply with options it

1. checks each option: its number and its label (also in capitals) must choose exactly that option, by the
   engine's own rules from the state the delivery wrote (:meth:`conversations.engine.Engine.resolve`);
2. types one option for real, by number or by words in turn, and checks that the turn acted on exactly it;
3. answers a question that wants typed text with a sample (words, or a value such as a date);

until the conversation offers nothing more. Which option it types: one not typed before at this question, so
repeated starts reach every question behind every option. With ``only_leading``, it types only options that
led somewhere new in an earlier walk (the same conversations in another language: every question is visited,
each option checked, without typing every option again).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.channels.base import OutgoingMessage
from conversations.clock import BERLIN
from conversations.engine import TurnResult
from conversations.flows.base import VALUE, WORDS
from conversations.registry import REGISTRY
from storage.models import ConversationState

SAMPLE_WORDS = "Am Dienstag war niemand zu Hause, weil Leyla krank war."
MAX_DEPTH = 14


def value_samples(now: Any) -> dict[tuple[str, str], str]:
    """A value each VALUE step accepts (a step without one here fails the walk: add it)."""
    local = now.astimezone(BERLIN)
    later = (local + timedelta(days=15)).strftime("%d.%m.%Y")
    return {
        ("appointment_new", "day"): later, ("appointment_new", "clock"): "10:00",
        ("appointment_new", "duration"): "2,5", ("appointment_duration", "minutes"): "2,5",
        ("complaint", "phone"): "0391 123456", ("milestone_evaluation", "when"): later,
    }


def shape(payload: str) -> str:
    """A payload without its ids: the same question about another appointment is the same question."""
    return re.sub(r"\d+", "#", payload)


@dataclass
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Walker:
    """One person at one chat; ``type`` is one real turn through the channel (see ``send``)."""

    name: str
    channel: str
    address: str
    app: Any
    send: Callable[[str], tuple[TurnResult, list[OutgoingMessage]]]  # type text, get the turn and what arrived
    deliver: Callable[[], list[OutgoingMessage]]  # what was pushed meanwhile, delivered now
    language: str
    avoid: Callable[[str, str], bool] = lambda flow, payload: False
    depth: int = MAX_DEPTH  # questions followed per walk
    taken: dict[tuple[Any, ...], set[int]] = field(default_factory=dict)
    leading: dict[tuple[Any, ...], set[int]] = field(default_factory=dict)  # options that led to a new question
    problems: list[Problem] = field(default_factory=list)
    productive: set[tuple[int, str]] = field(default_factory=set)  # (phase, start's name) that reached a question
    turns: int = 0
    checked: int = 0  # options checked by number and by words
    phase: int = 0
    _typed: int = 0
    _checked_questions: set[tuple[Any, ...]] = field(default_factory=set)

    # --- the chat's state -------------------------------------------------------------------------
    def state(self) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        with self.app.sessions() as session:
            row = session.scalar(select(ConversationState).where(ConversationState.channel == self.channel,
                                                                 ConversationState.address == self.address))
            return (list(row.stack or []), list(row.open_choices or [])) if row else ([], [])

    def where(self) -> tuple[str, str]:
        stack, _open = self.state()
        return (stack[-1]["flow"], stack[-1].get("step", "")) if stack else ("", "")

    def reset(self) -> None:
        """Back to no open flow, as if the person came back another day (no turn needed)."""
        with self.app.sessions.begin() as session:
            row = session.scalar(select(ConversationState).where(ConversationState.channel == self.channel,
                                                                 ConversationState.address == self.address))
            if row is not None:
                row.stack, row.offered, row.open_choices = [], {}, []

    # --- one turn ------------------------------------------------------------------------------
    def type(self, text: str) -> tuple[TurnResult, list[OutgoingMessage]]:
        self.turns += 1
        result, arrived = self.send(text)
        if result.replies == 0 and not arrived:
            self.problems.append(Problem(f"{self.name} typed {text[:40]!r}", "no reply"))
        return result, arrived

    # --- checking one question --------------------------------------------------------------------
    def check(self, message: OutgoingMessage, where: str) -> None:
        """Each option's number and words choose it (a question seen before with the same words is not
        checked again)."""
        seen = (tuple(shape(c.payload) for c in message.choices), tuple(c.label for c in message.choices))
        if seen in self._checked_questions:
            return
        self._checked_questions.add(seen)
        resolve = self.app.engine.resolve
        for number, choice in enumerate(message.choices, start=1):
            self.checked += 1
            if resolve(self.channel, self.address, str(number)) != choice.payload:
                self.problems.append(Problem(where, f"typing {number} does not choose {choice.label!r}"))
            got = resolve(self.channel, self.address, choice.label)
            if got != choice.payload:
                self.problems.append(Problem(where, f"typing {choice.label!r} chooses {got!r}, not {choice.payload!r}"))

    # --- walking --------------------------------------------------------------------------------
    def walk(self, start: str | None, *, only_leading: bool = False) -> bool:
        """One walk from ``start`` (a typed command; None: what was pushed is waiting). True if it typed an
        option not typed before (another walk from the same start may reach more)."""
        new = False
        if start is None:
            arrived = self.deliver()  # nothing typed: what was pushed to the person arrives
        else:
            _result, arrived = self.type(start)
        previous: tuple[Any, ...] | None = None
        chosen_index = -1
        for _step in range(self.depth):
            asking = [m for m in arrived if m.choices]
            flow, step = self.where()
            if asking:
                message = asking[-1]
                key = (flow, step, tuple(shape(c.payload) for c in message.choices))
                if previous is not None and key not in self.leading and key not in self.taken:
                    self.leading.setdefault(previous, set()).add(chosen_index)
                where = f"{self.language} {self.name} at {flow or 'no flow'}/{step or '-'} " \
                        f"({message.text.splitlines()[0][:60]!r})"
                self.check(message, where)
                taken = self.taken.setdefault(key, set())
                options = [i for i, c in enumerate(message.choices) if not self.avoid(flow, c.payload)]
                if only_leading:
                    options = [i for i in options if i in self.leading.get(key, set()) and i not in taken]
                fresh = [i for i in options if i not in taken]
                if not fresh:
                    return new
                index = fresh[0]
                taken.add(index)
                new = True
                choice = message.choices[index]
                self._typed += 1
                typed = str(index + 1) if self._typed % 2 else choice.label
                result, arrived = self.type(typed)
                if result.chosen != choice.payload:
                    self.problems.append(Problem(where, f"typed {typed!r}: the turn chose {result.chosen!r}, "
                                                        f"not {choice.payload!r}"))
                previous, chosen_index = key, index
                continue
            answer = REGISTRY.flows[flow].typed_steps.get(step) if flow in REGISTRY.flows else None
            if flow == "milestone" and step not in ("intro", "summary", "change"):
                answer = WORDS
            if answer is None:
                return new
            if answer == VALUE:
                sample = value_samples(self.app.services.clock.now()).get((flow, step))
                if sample is None:
                    self.problems.append(Problem(f"{flow}/{step}", "a typed value is asked; the walk has no sample"))
                    return new
            else:
                sample = SAMPLE_WORDS
            _result, arrived = self.type(sample)
            if self.where() == (flow, step) and not [m for m in arrived if m.choices]:
                return new  # the sample was not taken: nothing more to learn here
        return new

    def explore(self, starts: list[tuple[str, str]], *, only_leading: bool = False, rounds: int = 12) -> None:
        """Walk from each start (a name, and what to type) until a walk types nothing new. With
        ``only_leading``, only the starts that reached a question before (commands that only show a text
        need no second look)."""
        self.phase += 1
        for name, start in starts:
            if only_leading and (self.phase, name) not in self.productive:
                continue
            for _round in range(rounds):
                self.reset()
                before = len(self.taken)
                walked = self.walk(start, only_leading=only_leading)
                if len(self.taken) > before or walked:
                    self.productive.add((self.phase, name))
                if not walked:
                    break

    def pushed(self, *, only_leading: bool = False) -> None:
        """Walk from what was pushed to the person (a reminder, an alert), where they are."""
        self.walk(None, only_leading=only_leading)
