"""Errors whose one-line message is a template and its values (here, at the bottom, so every layer may use it).

The operators' CLI shows them in the operator's language (the ``cli`` catalog, see ``bot/cli_language.py``);
``str(error)`` is the English sentence, for logs and for anyone else.
"""

from __future__ import annotations

from typing import Any


class Explained(Exception):
    """``Explained("no case {ref!r}", ref="F-1")``: the template is the msgid, the values fill it."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)
