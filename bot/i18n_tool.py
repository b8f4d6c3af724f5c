"""The catalog workflow (pybabel extract/update/compile) plus a check CI runs.

The check fails when a catalog lacks a translation, has a fuzzy entry, or a placeholder that differs
from the source: a family must never see English in the middle of Turkish, or a broken "{date}".

Besides ``messages`` (everything, adults addressed with Sie) and ``cli`` (the command line), the ``youth``
domain holds the du-forms of the messages family members can see, for young people (conversations.address).
``youth.pot`` holds every message extracted from a file that is not staff-only (STAFF_ONLY); a language's
``youth.po`` must give a du-form for each one whose adult translation uses the polite address
(FORMAL_ADDRESS), and no du-form may use it.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from conversations.i18n import YOUTH_DOMAIN, catalog_dir, translated_only

ROOT = Path(__file__).resolve().parents[1]


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


# Source files only staff, operators or the console read: their messages need no du-form. A new file
# counts as family-facing until it is listed here.
STAFF_ONLY = (
    "bot/cli", "bot/web/", "conversations/webconsole/", "conversations/budget.py", "conversations/escalations.py",
    "conversations/nachweis_sheet.py", "bot/staff_letter.py",
    "conversations/complaints/officer.py", "conversations/complaints/report.py",
    "conversations/milestone/evaluation.py", "conversations/milestone/staff.py", "conversations/milestone/briefing.py", "conversations/access/leaving.py",
    "conversations/hilfeplan/core.py", "conversations/hilfeplan/jobs.py", "conversations/hilfeplan/chat.py",
)

# The polite address, per language: what a young person's du-form must not contain (placeholders aside).
_DE = re.compile(r"\b(Sie|Ihnen|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihres)\b")
FORMAL_ADDRESS: dict[str, re.Pattern[str]] = {
    "de": _DE,
    "de@leicht": _DE,
    # siz and its forms; the plural endings -(ı)nız (possessive, verbs: "randevunuz", "istersiniz");
    # polite imperatives ("deneyin", "arayın", "seçin"), not the genitive ("şeyin", "ayın")
    "tr": re.compile(r"(?i)\b(siz|sizi|sizin|size|sizinle|sizden|sizde|sizce)\b"
                     r"|\b(?!yaln[ıi]z|deniz)\w*(iniz|ınız|unuz|ünüz)\w*"
                     r"|\b\w{2,}(eyin|ayın|uyun|üyün)\b"
                     r"|\b(seçin|yazın|basın|gelin|bakın|edin|verin|olun|gönderin|bildirin|yapın|alın|girin"
                     r"|iletin|kaydedin|çıkın|kalın|tutun)\b"),
    # ви/вы and ваш, the plural imperative ("напишіть", "зачекайте", "надішліть"; "напишите", "отправьте")
    "uk": re.compile(r"(?i)(?<!\w)(ви|вас|вам|вами|ваш\w*)(?!\w)|(?<!\w)\w+(іть|йте|ьте|іться|йтеся|ьтеся)(?!\w)"),
    "ru": re.compile(r"(?i)(?<!\w)(вы|вас|вам|вами|ваш\w*)(?!\w)"
                     r"|(?<!\w)(?!защите|сайте)\w+(ите|йте|ьте|итесь|йтесь|ьтесь)(?!\w)"),
    # أنتم and the plural suffix -كم ("موعدكم"), plural verbs ("تريدون", "اكتبوا")
    "ar": re.compile(r"(أنتم|انتم)|(?<!\w)(?!حكم|تحكم)\w+كم(?!\w)|(?<!\w)ت\w+ون(?!\w)|(?<!\w)[اأإ]\w+وا(?!\w)"),
}


def formal_words(lang: str, text: str) -> list[str]:
    """The words of ``text`` that address the reader politely in ``lang`` (none for languages without a list)."""
    pattern = FORMAL_ADDRESS.get(lang)
    plain = re.sub(r"\{[^{}]*\}", " ", text)
    return [m.group(0) for m in pattern.finditer(plain)] if pattern else []


def extract() -> Path:
    pot = catalog_dir() / "messages.pot"
    _pybabel("extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "--no-location", "--sort-output", "--no-wrap",
             "--project", "wegbegleiter", "-o", str(pot), str(ROOT))
    extract_youth()
    return pot


def extract_youth() -> Path:
    """``youth.pot``: the messages of every file that is not staff-only (STAFF_ONLY)."""
    with tempfile.TemporaryDirectory() as tmp:
        located = Path(tmp) / "located.pot"
        _pybabel("extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "--sort-output", "--no-wrap",
                 "--project", "wegbegleiter", "-o", str(located), str(ROOT))
        with located.open("rb") as fh:
            everything = read_po(fh)
    youth = Catalog(project="wegbegleiter", fuzzy=False)
    for message in everything:
        if message.id and any(not _relative(path).startswith(STAFF_ONLY) for path, _line in message.locations):
            youth.add(message.id, flags=message.flags, auto_comments=message.auto_comments)
    pot = catalog_dir() / f"{YOUTH_DOMAIN}.pot"
    with pot.open("wb") as fh:
        write_po(fh, youth, width=0, no_location=True, sort_output=True)
    return pot


def _relative(path: str) -> str:
    """A source path as the lists above name it ("bot/cli.py"), however pybabel reported it."""
    full = Path(path) if Path(path).is_absolute() else ROOT / path
    return full.resolve().relative_to(ROOT).as_posix()


def _languages() -> list[str]:
    return sorted(p.parent.parent.name for p in catalog_dir().glob("*/LC_MESSAGES/messages.po"))


# The command line's own domain (bot/cli_language.py): what commands print and their errors, the help of
# every command (read from the command tree), and click's own words (from click's gettext calls).
CLI_KEYWORDS = {"t": None, "tn": (1, 2)}


def explained_errors() -> set[str]:
    """Every error class whose message is a template (storage.errors.Explained), by name: each is a keyword,
    so ``AdminError("no case {ref!r}", ref=…)`` is extracted wherever it is raised."""
    import bot.runner  # noqa: F401  (NoChannel: imported by `run` only when it runs)
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
    helps = help_texts(cli)  # loads every command, and with them every job
    keywords = {**CLI_KEYWORDS, **dict.fromkeys(explained_errors())}
    for package in ("bot", "conversations", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(ROOT / package, keywords=keywords):
            catalog.add(message)
    for text in (*helps, *cli_constants()):
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
    youth = catalog_dir() / f"{YOUTH_DOMAIN}.pot"
    for lang in _languages():
        if not (catalog_dir() / lang / "LC_MESSAGES" / f"{YOUTH_DOMAIN}.po").exists():
            _pybabel("init", "-D", YOUTH_DOMAIN, "-i", str(youth), "-d", str(catalog_dir()), "-l", lang, "--no-wrap")
    for lang in _languages():  # the du-forms count like the adult texts (Turkish here: one form, not two)
        _copy_plural_forms(catalog_dir() / lang / "LC_MESSAGES")
    _pybabel("update", "-D", YOUTH_DOMAIN, "-i", str(youth), "-d", str(catalog_dir()), "--no-fuzzy-matching",
             "--ignore-obsolete", "--no-wrap")


_PLURAL_FORMS = re.compile(r'^"Plural-Forms: [^"]*"$', re.M)


def _copy_plural_forms(folder: Path) -> None:
    adult = _PLURAL_FORMS.search((folder / "messages.po").read_text(encoding="utf-8"))
    young = folder / f"{YOUTH_DOMAIN}.po"
    if adult and young.exists():
        young.write_text(_PLURAL_FORMS.sub(adult.group(0).replace("\\", "\\\\"), young.read_text(encoding="utf-8")),
                         encoding="utf-8")


def compile_catalogs() -> None:
    """Every .po to its .mo, leaving out what is untranslated (a du-form falls back to the adult text)."""
    for po in sorted(catalog_dir().glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as fh:
            catalog = translated_only(read_po(fh, locale=po.parent.parent.name))
        with po.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)


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
        if domain == "messages":
            problems += check_youth(lang, catalog)
    return problems


def _texts(string: str | tuple[str, ...] | None) -> list[str]:
    return [t for t in ((string,) if isinstance(string, str) else string or ()) if t]


def check_youth(lang: str, adult: Catalog) -> list[Problem]:
    """A du-form for every family-facing message whose adult form is polite, and no polite word in any."""
    pot = catalog_dir() / f"{YOUTH_DOMAIN}.pot"
    path = catalog_dir() / lang / "LC_MESSAGES" / f"{YOUTH_DOMAIN}.po"
    if not pot.exists():
        return []
    where = f"{lang} ({YOUTH_DOMAIN})"
    if not path.exists():
        return [Problem(where, "", f"missing {path.relative_to(catalog_dir())}: run `wegbegleiter i18n update`")]
    with pot.open("rb") as fh:
        template = read_po(fh)
    with path.open("rb") as fh:
        youth = read_po(fh, locale=lang)
    problems = []
    for message in template:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        entry, grown_up = youth.get(message.id), adult.get(message.id)
        du = _texts(entry.string) if entry is not None else []
        if entry is not None and isinstance(entry.string, tuple) and not all(entry.string):
            du = []  # a plural counts only with every form given (translated_only leaves it out otherwise)
        if not du:
            if grown_up is not None and any(formal_words(lang, t) for t in _texts(grown_up.string)):
                problems.append(Problem(where, msgid, "no du-form for a young reader"))
            continue
        if entry.fuzzy:
            problems.append(Problem(where, msgid, "fuzzy"))
        allowed = placeholders(msgid) | (placeholders(message.id[1]) if isinstance(message.id, tuple) else set())
        for text in du:
            if not placeholders(text) <= allowed or (isinstance(message.id, str) and placeholders(text) != allowed):
                problems.append(Problem(where, msgid, f"placeholders differ ({text[:40]!r})"))
            if formal_words(lang, text):
                problems.append(Problem(where, msgid, f"polite address in the du-form: {formal_words(lang, text)}"))
    return problems
