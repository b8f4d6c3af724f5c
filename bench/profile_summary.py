"""Where the CPU goes, from py-spy's collapsed stacks (``py-spy record --format raw``)::

    .venv/bin/python bench/profile_summary.py FILE [--top 40] [--under FUNCTION]

Printed: the share of samples per function including what it calls (inclusive), the share spent in a
function's own code (self), and the share per top-level package of the code on the stack's top (where the
interpreter really was: sqlalchemy, nio, json, logging …). ``--under`` keeps only the stacks through a
function whose name contains the text (e.g. ``handle`` for the engine turn).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) from the root to the top of one collapsed stack."""
    found = []
    for frame in stack.split(";"):
        match = FRAME.match(frame.strip())
        found.append((match["function"], match["file"]) if match else (frame.strip(), ""))
    return found


def package(file: str) -> str:
    """The package a file belongs to: the folder after site-packages, or the project's top folder."""
    parts = Path(file).parts
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1:]
        return rest[0].removesuffix(".py") if rest else file
    for top in ("bot", "conversations", "storage"):
        if top in parts:
            return top
    return Path(file).stem if "python3" in file else (parts[-2] if len(parts) > 1 else file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--under", help="only stacks through a function whose name contains this")
    args = parser.parse_args()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in Path(args.file).read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        path = frames(stack)
        if args.under and not any(args.under in function for function, _file in path):
            continue
        total += count
        for name in {f"{function} ({Path(file).name})" for function, file in path}:
            inclusive[name] += count
        function, file = path[-1]
        own[f"{function} ({Path(file).name})"] += count
        packages[package(file)] += count
    print(f"{total} samples")
    for title, counter in (("inclusive", inclusive), ("self", own), ("package (self)", packages)):
        print(f"\n--- {title}")
        for name, count in counter.most_common(args.top):
            print(f"{100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
