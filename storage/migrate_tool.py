"""Developer helper: write a new migration from the models (``python -m storage.migrate_tool "message"``).

Uses a throwaway SQLite database at the current head, so the result does not depend on local state.
"""

from __future__ import annotations

import sys
import tempfile

from alembic import command

from storage.db import alembic_config, make_engine, migrate


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "change"
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/scratch.db")
        migrate(engine)
        cfg = alembic_config(engine)
        command.revision(cfg, message=message, autogenerate=True, rev_id=None)


if __name__ == "__main__":
    main()
