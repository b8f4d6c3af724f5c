"""Imports each job's CLI commands so they attach to the `wegbegleiter` group. Add new modules here."""
from bot import cli_complaints  # noqa: E402,F401  (complaints: issue 9)
