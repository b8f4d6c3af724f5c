"""The jobs' commands are loaded when used (bot/cli_lazy.py), from the table in bot/cli_extensions.py: the table
must name every such command, where it is and its help; loading one must not change the chat's menu order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from bot.cli import cli
from bot.cli_extensions import BELOW, COMMANDS
from bot.cli_language import _clean, walk
from tests.support.cli import cli_env, wegbegleiter


def written_help(command: click.Command) -> str | None:
    return _clean(getattr(command, "_source_help", command.help))  # as written, whatever language it speaks now


def test_the_table_names_every_command_of_the_jobs_where_it_is_with_its_help():
    list(walk(cli, loading=True))  # imports every command module
    groups = {"": cli, **{name: cli.commands[name] for name in BELOW}}
    tables = {"": COMMANDS, **BELOW}
    for path, group in groups.items():
        assert isinstance(group, click.Group)
        elsewhere = {name: command for name, command in group.commands.items()
                     if command.callback and command.callback.__module__ != "bot.cli"}
        table = tables[path]
        assert sorted(elsewhere) == sorted(table), f"`wegbegleiter {path}`: bot/cli_extensions.py lists other commands"
        for name, command in elsewhere.items():
            assert table[name].module == command.callback.__module__, f"{path} {name}"
            assert table[name].help == written_help(command), f"{path} {name}: the table's help is not the command's"


def test_the_list_of_commands_comes_from_the_table_without_loading_them(tmp_path: Path):
    program = ("import sys; sys.argv = ['wegbegleiter', 'case', '--help']\nfrom bot.cli import main\ntry:\n    main()\n"
               "except SystemExit:\n    pass\n"
               "print(sorted(m for m in ('bot.cli_access', 'bot.cli_billing', 'sqlalchemy') if m in sys.modules), "
               "file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            env=cli_env(tmp_path, WEGBEGLEITER_CLI_LANGUAGE="en"), cwd=tmp_path, timeout=120)
    assert "close     The help ended: the family gets a goodbye" in result.stdout
    assert "set       Change what the Nachweisblatt says of a case" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_a_light_command_runs_without_the_flows(tmp_path: Path):
    assert wegbegleiter(tmp_path, "init").returncode == 0
    program = ("import sys; sys.argv = ['wegbegleiter', 'staff', 'list']\nfrom bot.cli import main\ntry:\n    main()\n"
               "except SystemExit:\n    pass\nprint('conversations.engine' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            env=cli_env(tmp_path), cwd=tmp_path, timeout=120)
    assert result.stdout == "Noch keine Mitarbeitenden.\n"
    assert result.stderr.strip().splitlines()[-1] == "False"


def test_a_jobs_command_loads_every_job_first_so_the_menu_keeps_its_order(tmp_path: Path):
    # cli_access imports the escalations and complaints jobs itself: imported first, they would register first.
    menu = "from conversations.registry import REGISTRY; print(list(REGISTRY.commands), file=sys.stderr)"
    lazily = ("import sys, click\nfrom bot.cli import cli\ncli.get_command(click.Context(cli), 'case')"
              ".get_command(click.Context(cli), 'close')\n" + menu)
    engine_first = "import sys\nimport conversations.engine\n" + menu
    orders = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=cli_env(tmp_path),
                             cwd=tmp_path, timeout=120).stderr.strip().splitlines()[-1]
              for program in (lazily, engine_first)]
    assert orders[0] == orders[1] and "open_escalations" in orders[0]


def test_a_mistyped_command_is_matched_against_the_commands_not_loaded_yet(tmp_path: Path):
    result = subprocess.run([sys.executable, "-m", "bot", "case", "clos"], capture_output=True, text=True,
                            env=cli_env(tmp_path, WEGBEGLEITER_CLI_LANGUAGE="en"), cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "No such command 'clos'. Did you mean 'close'?" in result.stderr
