"""The Gesprächsführer*in's briefing at the top of the summary (seed 000, "Partizipation auf Augenhöhe").

Staff only: it speaks to the person who leads the talk.
"""

from __future__ import annotations

from conversations.i18n import Translator


def briefing(tr: Translator) -> str:
    return tr.gettext("The setting: the family and its two Fachkräfte sit side by side, opposite you; you question "
                      "both sides, never the family alone. Let the family speak first.")
