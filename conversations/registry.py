"""Where every job plugs into the core: flows, commands, menu entries, actions, data sections, tasks.

A job's module registers what it offers at import time; :mod:`conversations.flows` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from conversations.i18n import TELEGRAM_COMMAND, ascii_spellings, ascii_word, base_language, command_words

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from conversations.context import Context, Services
    from conversations.flows.base import Flow
    from storage.models import FamilyMember, StaffMember


class Audience(StrEnum):
    ANYONE = "anyone"  # also a chat that is not linked yet
    LINKED = "linked"  # any linked person
    FAMILY = "family"
    STAFF = "staff"


@dataclass(frozen=True)
class Command:
    """A command such as /hilfe. ``words`` maps a language to its spelling; ``aliases`` are extra spellings."""

    key: str
    words: dict[str, str]
    description: str  # marked with N_, translated when shown
    handler: Callable[[Context, str], None]
    audience: Audience = Audience.LINKED
    roles: tuple[str, ...] = ()  # staff roles, any of which allows it; empty: every staff member
    in_menu: bool = False  # also offered as a choice in the main menu
    aliases: tuple[str, ...] = ()

    def word(self, lang: str) -> str:
        """The word shown to a reader of ``lang``: the command's own, else the table in conversations.i18n."""
        for code in (lang, base_language(lang)):
            word = self.words.get(code) or command_words(self.key).get(code)
            if word:
                return word
        return self.words.get("de") or self.key

    def telegram_word(self, lang: str) -> str:
        """The spelling Telegram's command menu accepts ([a-z0-9_]): the word, its ASCII form
        (yardım → yardim), or else the English word."""
        word = self.word(lang)
        for candidate in (word, ascii_word(word), self.words.get("en", ""), self.key):
            if TELEGRAM_COMMAND.fullmatch(candidate):
                return candidate
        return self.key

    def spellings(self) -> frozenset[str]:
        return self._spellings

    @cached_property
    def _spellings(self) -> frozenset[str]:
        # Worked out once: looking a typed word up among every command's spellings is part of most turns.
        words = {w.casefold() for w in (*self.words.values(), *command_words(self.key).values(),
                                         *self.aliases, self.key)}
        return frozenset(words | {a for w in words for a in ascii_spellings(w) if TELEGRAM_COMMAND.fullmatch(a)})


@dataclass(frozen=True)
class Action:
    """A choice that stays valid outside the current question (e.g. "confirm" on a reminder).

    Its payload is ``act:<name>:<argument>``; the handler must check that the argument belongs to the
    person who pressed it.
    """

    name: str
    handler: Callable[[Context, str], None]
    audience: Audience = Audience.LINKED
    # Its question is answered in words (an officer's question about a complaint): text typed while it is
    # the open question starts the action and is taken as the answer, without pressing the button first.
    answered_in_words: bool = False


PersonalDataSection = Callable[["Session", "FamilyMember | StaffMember"], dict[str, Any]]


@dataclass(frozen=True)
class PeriodicTask:
    """Work the scheduler runs every ``every`` seconds (scans of due reminders, deadlines, ...)."""

    name: str
    every: int
    run: Callable[[Services], None]


@dataclass
class Registry:
    flows: dict[str, Flow] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    data_sections: dict[str, PersonalDataSection] = field(default_factory=dict)
    tasks: dict[str, PeriodicTask] = field(default_factory=dict)
    # Called for every free text a family member sends, before the flow sees it (danger screening).
    text_screens: list[Callable[[Context], None]] = field(default_factory=list)
    # Called in the same transaction whenever an appointment's outcome is recorded or changed
    # (session, services, appointment): the hour budget, the three-misses escalation, ...
    outcome_listeners: list[Callable[[Session, Services, Any], None]] = field(default_factory=list)

    def flow(self, flow: Flow) -> Flow:
        self.flows[flow.name] = flow
        return flow

    def command(self, command: Command) -> Command:
        self.commands[command.key] = command
        return command

    def action(self, action: Action) -> Action:
        self.actions[action.name] = action
        return action

    def find_command(self, word: str) -> Command | None:
        word = word.casefold()
        for command in self.commands.values():
            if word in command.spellings():
                return command
        return None


REGISTRY = Registry()
