"""The catalog workflow (pybabel extract/update/compile) plus a check CI runs.

The check fails when a catalog lacks a translation, has a fuzzy entry, or a placeholder that differs
from the source: a family must never see English in the middle of Turkish, or a broken "{date}".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Formatter

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from conversations.i18n import catalog_dir

ROOT = Path(__file__).resolve().parents[1]


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> Path:
    pot = catalog_dir() / "messages.pot"
    _pybabel("extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "--no-location", "--sort-output", "--no-wrap",
             "--project", "wegbegleiter", "-o", str(pot), str(ROOT))
    return pot


# The command line's own domain (bot/cli_language.py): what commands print and their errors, the help of
# every command (read from the command tree), and click's own words (from click's gettext calls).
CLI_KEYWORDS = {"t": None, "tn": (1, 2)}


def explained_errors() -> set[str]:
    """Every error class whose message is a template (storage.errors.Explained), by name: each is a keyword,
    so ``AdminError("no case {ref!r}", ref=…)`` is extracted wherever it is raised."""
    from storage.errors import Explained

    found, todo = set(), [Explained]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found


def cli_constants() -> tuple[str, ...]:
    """Error messages kept in constants (raised in more than one place), which extraction cannot see."""
    from storage.db import NOT_READY

    return (NOT_READY,)


def extract_cli() -> Path:
    import click

    from bot.cli import cli
    from bot.cli_language import DOMAIN, help_texts

    catalog = Catalog(project="wegbegleiter", domain=DOMAIN)
    keywords = {**CLI_KEYWORDS, **dict.fromkeys(explained_errors())}  # the command tree imported every job
    for package in ("bot", "conversations", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(ROOT / package, keywords=keywords):
            catalog.add(message)
    for text in (*help_texts(cli), *cli_constants()):
        catalog.add(text)
    for _file, _line, message, _comments, _context in extract_from_dir(Path(click.__file__).parent):
        catalog.add(message)
    pot = catalog_dir() / f"{DOMAIN}.pot"
    with pot.open("wb") as fh:
        write_po(fh, catalog, width=None, no_location=True, sort_output=True)  # type: ignore[arg-type]
    return pot


def update() -> None:
    pot = extract()
    # --no-wrap: one line per message, as bot.po_fill writes them, so an update changes only what changed
    _pybabel("update", "-i", str(pot), "-d", str(catalog_dir()), "--no-fuzzy-matching", "--ignore-obsolete",
             "--no-wrap")
    cli_pot = extract_cli()
    _pybabel("update", "-D", "cli", "-i", str(cli_pot), "-d", str(catalog_dir()), "--no-fuzzy-matching",
             "--ignore-obsolete", "--no-wrap")


def compile_catalogs() -> None:
    _pybabel("compile", "-D", "messages cli", "-d", str(catalog_dir()))


@dataclass(frozen=True)
class Problem:
    language: str
    msgid: str
    what: str

    def __str__(self) -> str:
        return f"{self.language}: {self.what}: {self.msgid[:70]!r}"


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields (with any format spec) that ``str.format`` fills in; a stray brace counts too."""
    try:
        return {"{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
                for _lit, name, spec, conv in Formatter().parse(text) if name is not None}
    except ValueError as broken:  # "{name" or a lone "}": str.format would fail on it
        return {f"<{broken}>"}


def check(languages: list[str] | None = None, domain: str = "messages") -> list[Problem]:
    """Every source message translated, nothing fuzzy, the same placeholders as the source."""
    pot = catalog_dir() / f"{domain}.pot"
    with pot.open("rb") as fh:
        source = read_po(fh)
    problems: list[Problem] = []
    for po_path in sorted(catalog_dir().glob(f"*/LC_MESSAGES/{domain}.po")):
        lang = po_path.parent.parent.name
        if languages and lang not in languages:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in source:
            if not message.id:
                continue
            entry = catalog.get(message.id)
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            if entry is None or not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
                problems.append(Problem(lang, msgid, "missing"))
                continue
            if entry.fuzzy:
                problems.append(Problem(lang, msgid, "fuzzy"))
            if isinstance(message.id, tuple):  # plural forms: each may leave out the count ("one hour")
                allowed = placeholders(message.id[0]) | placeholders(message.id[1])
                broken = [t for t in entry.string if not placeholders(t) <= allowed]
            else:
                broken = [entry.string] if placeholders(entry.string) != placeholders(msgid) else []
            for text in broken:
                problems.append(Problem(lang, msgid, f"placeholders differ ({text[:40]!r})"))
    return problems
