"""Command groups whose commands from other modules are imported only when one of them is used.

`wegbegleiter --help` and the light commands (``staff list``, ``outbox status``) would otherwise import every
job's command module, and with it the engine, every flow and the models, before any command runs (about a
second; bench/startup.py). A :class:`LazyGroup` knows the names and the help of those commands from a table
(:mod:`bot.cli_extensions`), lists them from it, and imports a command's module when the command is looked up
to run it or to show its own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import click

from bot.cli_language import localise, t


class Lazy(NamedTuple):
    """Where a command is defined (its module attaches it to the group on import) and its help as written there
    (the catalog's msgid: the list of commands shows its first sentence, translated)."""

    module: str
    help: str


def with_every_job() -> None:
    """Register every job (flows, menu commands, outcome listeners, tasks) in the order of conversations.jobs.

    Before a job's command module imports the job itself: a job imported first registers first and moves in
    the chat's menu and /hilfe; and its domain code may rely on the other jobs' listeners (the hour budget and
    the three-misses escalation when an appointment's outcome is recorded)."""
    importlib.import_module("bot.app")


class LazyGroup(click.Group):
    """A group with commands of its own plus ``lazy`` ones (name → :class:`Lazy`) from other modules."""

    def __init__(self, *args: Any, lazy: Mapping[str, Lazy] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            with_every_job()
            importlib.import_module(self.lazy[cmd_name].module)  # its commands attach themselves to their groups
            localise(ctx.find_root().command)  # in the operator's language, like the commands loaded at the start
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                            list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as unknown:  # "Did you mean …?" from every command, loaded or not
            raise click.exceptions.NoSuchCommand(unknown.command_name, possibilities=self.list_commands(ctx),
                                                 ctx=ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists them (name and the first sentence of the help), without importing the lazy ones."""
        names = [name for name in self.list_commands(ctx)
                 if name not in self.commands or not self.commands[name].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(map(len, names))
        shown = {name: self.commands.get(name) or click.Command(name, help=t(self.lazy[name].help)) for name in names}
        rows = [(name, command.get_short_help_str(limit)) for name, command in shown.items()]
        with formatter.section(t("Commands")):
            formatter.write_dl(rows)
