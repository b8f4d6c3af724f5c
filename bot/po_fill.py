"""Translator's helper: fill a catalog from a Python dict file (``python -m bot.po_fill de table.py``).

Handy when a batch of new messages was written together; editing the .po directly works as well.
"""

from __future__ import annotations

import runpy
import sys

from babel.messages.pofile import read_po, write_po

from conversations.i18n import catalog_dir


def fill(lang: str, table: dict[str, str]) -> int:
    path = catalog_dir() / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    filled = 0
    for message in catalog:
        if message.id and message.id in table:
            message.string = table[message.id]
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False)
    return filled


if __name__ == "__main__":
    language, source = sys.argv[1], sys.argv[2]
    namespace = runpy.run_path(source)
    table = next(v for k, v in namespace.items() if k.isupper() and isinstance(v, dict))
    print(fill(language, table), "messages filled")
