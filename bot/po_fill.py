"""Translator's helper: fill catalogs from a Python file of tables.

    python -m bot.po_fill de table.py      # DE = {"msgid": "German", ...}
    python -m bot.po_fill all table.py     # T = {"msgid": {"tr": "…", "ar": "…", …}, ...}
    python -m bot.po_fill de table.py cli  # the command line's own catalog (locales/de/LC_MESSAGES/cli.po)
    python -m bot.po_fill all table.py youth   # the du-forms for young people (youth.po)

Every upper-case dict in the file is read (later ones win). A value is the translation (a string, or a
tuple of plural forms), or a dict from language to translation, for writing one message in every
language at once. ``all`` fills every language the tables name. Editing the .po directly works as well.
Run it under ``flock /tmp/wb-i18n.lock`` when others may update the catalogs at the same time.
"""

from __future__ import annotations

import runpy
import sys
from typing import Any

from babel.messages.pofile import read_po, write_po

from conversations.i18n import catalog_dir

Translation = str | tuple[str, ...]
LANGUAGE_KEYS = {"ls": "de@leicht"}  # short keys usable in tables


def for_language(table: dict[str, Any], lang: str) -> dict[str, Translation]:
    """The table's translations for one language (values that are dicts are looked up by language)."""
    picked: dict[str, Translation] = {}
    for msgid, value in table.items():
        if isinstance(value, dict):
            value = {LANGUAGE_KEYS.get(k, k): v for k, v in value.items()}.get(lang)
        if value:
            picked[msgid] = tuple(value) if isinstance(value, list) else value
    return picked


def languages_in(table: dict[str, Any]) -> set[str]:
    return {LANGUAGE_KEYS.get(k, k) for v in table.values() if isinstance(v, dict) for k in v}


def fill(lang: str, table: dict[str, Any], domain: str = "messages") -> int:
    table = for_language(table, lang)
    path = catalog_dir() / lang / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    filled = 0
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key and key in table:
            value = table[key]
            if isinstance(message.id, tuple) and isinstance(value, str):
                value = (value,) * catalog.num_plurals  # one form fits every count (e.g. "{n} h")
            message.string = value
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False)
    return filled


def load_tables(source: str) -> dict[str, Any]:
    namespace = runpy.run_path(source)
    table: dict[str, Any] = {}
    for name, value in namespace.items():
        if name.isupper() and isinstance(value, dict):
            table.update(value)
    return table


if __name__ == "__main__":
    language, source = sys.argv[1], sys.argv[2]
    domain = sys.argv[3] if len(sys.argv) > 3 else "messages"
    tables = load_tables(source)
    for lang in sorted(languages_in(tables)) if language == "all" else [language]:
        print(lang, fill(lang, tables, domain), "messages filled")
