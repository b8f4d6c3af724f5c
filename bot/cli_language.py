"""The command line speaks the operator's language: ``WEGBEGLEITER_CLI_LANGUAGE`` (``de`` by default, or ``en``).

Its texts are a gettext domain of their own, ``cli`` (``locales/cli.pot``, ``locales/de/LC_MESSAGES/cli.po``;
the msgids are English), so operator output never asks the chat's six catalogs for a translation.
Three kinds of text go through it:

- what commands print and their errors: ``t("Case {reference}: {title}", reference=…, title=…)``,
  ``tn("{n} row", "{n} rows", n, n=n)``, and ``AdminError("no case {ref!r}", ref=…)`` (translated where the
  CLI reports it);
- click's help: every command's docstring and every option's ``help=`` (translated when the CLI starts,
  see :func:`localise`; nothing to mark);
- click's own words ("Usage:", "Missing argument …"), from click's gettext calls.

``wegbegleiter i18n update`` extracts all three into ``cli.pot`` and updates ``cli.po``; ``i18n check`` and
the tests fail while a German text is missing. Placeholders are ``str.format`` fields, as in the chat.
"""

from __future__ import annotations

import gettext as _gettext
import importlib
import inspect
import os
from collections.abc import Iterator
from typing import Any

import click

from conversations.i18n import domain_translations

DOMAIN = "cli"
LANGUAGES = ("de", "en")
DEFAULT = "de"
SETTING = "WEGBEGLEITER_CLI_LANGUAGE"

_current = {"lang": DEFAULT}


def use(lang: str) -> None:
    """Speak ``lang`` from now on (an unknown value falls back to German; `config` names the mistake)."""
    _current["lang"] = lang if lang in LANGUAGES else DEFAULT


def language() -> str:
    return _current["lang"]


def _catalog() -> _gettext.NullTranslations:
    return domain_translations(_current["lang"], DOMAIN)


def t(message: str, /, **params: Any) -> str:
    """``message`` in the operator's language, its ``{fields}`` filled from ``params``."""
    text = _catalog().gettext(message)
    return text.format(**params) if params else text


def tn(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The singular or plural form for ``n``, in the operator's language, filled from ``params``."""
    text = _catalog().ngettext(singular, plural, n)
    return text.format(**params) if params else text


def configured_language(environ: dict[str, str] | None = None) -> str:
    """The CLI language from the environment or the settings file, never failing: a wrong setting elsewhere
    must still be reported in the operator's language."""
    from bot import config

    try:
        value = config.peek("cli_language", environ)
    except config.ConfigError:
        value = None
    return value if value in LANGUAGES else DEFAULT


# --- click ----------------------------------------------------------------------------------------------------------
CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "shell_completion", "termui", "types",
                 "utils", "_termui_impl")


def _click_gettext(message: str) -> str:
    return _catalog().gettext(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog().ngettext(singular, plural, n)


def _speak_through_click() -> None:
    """Click's modules bind ``gettext``/``ngettext`` from the standard library at import; point them at ours."""
    for name in CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = _click_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]


def _clean(text: str | None) -> str | None:
    return inspect.cleandoc(text).partition("\f")[0].strip() if text else None


def walk(command: click.Command, *, loading: bool = False) -> Iterator[click.Command]:
    """The command and those below it: the ones loaded so far, or with ``loading`` every one (a lazy group's
    commands are imported when looked up, bot/cli_lazy.py)."""
    yield command
    if isinstance(command, click.Group):
        if loading:
            context = click.Context(command)
            below = [command.get_command(context, name) for name in command.list_commands(context)]
        else:
            below = list(command.commands.values())
        for sub in below:
            if sub is not None:
                yield from walk(sub, loading=loading)


def _texts(command: click.Command) -> Iterator[tuple[Any, str]]:
    """Each help text of a command and its parameters, with the object that holds it."""
    for attr in ("help", "short_help", "epilog"):
        yield command, attr
    for param in command.params:
        if isinstance(param, click.Option):
            yield param, "help"


def help_texts(root: click.Command) -> set[str]:
    """Every help text of the command tree, as the catalog lists them (for ``i18n update``)."""
    found = set()
    for command in walk(root, loading=True):
        for holder, attr in _texts(command):
            source = getattr(holder, f"_source_{attr}", getattr(holder, attr))
            if cleaned := _clean(source):
                found.add(cleaned)
    return found


def localise(root: click.Command) -> None:
    """Translate the help of every command below ``root`` into the current language (the English source is
    kept, so a later call in another language starts from it)."""
    _speak_through_click()
    for command in walk(root):
        for param in command.params:  # click names a path type at import, before it speaks our language
            if isinstance(param.type, click.Path):
                kind = "file" if not param.type.dir_okay else "directory" if not param.type.file_okay else "path"
                param.type.name = _catalog().gettext(kind)
        for holder, attr in _texts(command):
            if not hasattr(holder, f"_source_{attr}"):
                setattr(holder, f"_source_{attr}", getattr(holder, attr))
            source = _clean(getattr(holder, f"_source_{attr}"))
            setattr(holder, attr, _catalog().gettext(source) if source else getattr(holder, f"_source_{attr}"))


class LocalisedGroup(click.Group):
    """The top-level group: chooses the language and translates the help before click parses anything
    (``--help`` is answered during parsing)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        use(configured_language(dict(os.environ)))
        localise(self)
        return super().main(*args, **kwargs)
