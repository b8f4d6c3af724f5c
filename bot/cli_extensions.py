"""Imports each job's CLI commands so they attach to the `wegbegleiter` group. Add new modules here."""
