"""PDF documents in every offered script: Noto Sans (Latin, Cyrillic) and Noto Sans Arabic, shipped in the
package (``bot/fonts``, SIL Open Font License), shaped by HarfBuzz (fpdf2's text shaping, uharfbuzz).

A :class:`Document` is written for one reader (a :class:`~conversations.i18n.Translator`): in a
right-to-left language (Arabic) its paragraphs run right to left and are aligned right, its letters joined
as Arabic is written; names, codes and numbers inside keep their own direction (the Unicode bidi algorithm,
applied by fpdf2). Every page can carry a footer ("Created on …", "Page x of y").

Shared by the bot's invite letters (bot/letters.py) and the monthly proof (conversations/nachweis_sheet.py);
it lives here because conversations must not import bot. The font files ship with the ``bot`` package.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fpdf import FPDF

from conversations.i18n import Translator, isolate_ltr_runs, translator

FONTS = Path(__file__).resolve().parent.parent / "bot" / "fonts"
LATIN, ARABIC = "Noto", "NotoArabic"
_FILES = {(LATIN, ""): "NotoSans-Regular.ttf", (LATIN, "B"): "NotoSans-Bold.ttf",
          (ARABIC, ""): "NotoSansArabic-Regular.ttf", (ARABIC, "B"): "NotoSansArabic-Bold.ttf"}


def _is_rtl(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("R", "AL")


class Document(FPDF):
    """An A4 page in the reader's script and direction, with an optional footer on every page."""

    def __init__(self, tr: Translator | None = None, *, landscape: bool = False,
                 footer: Callable[[Document], str] | None = None) -> None:
        super().__init__(orientation="L" if landscape else "P", format="A4")
        self.tr = tr or translator("de")
        self.rtl = self.tr.rtl
        self.footer_text = footer
        self._fixed = False
        for (family, style), filename in _FILES.items():
            self.add_font(family, style, str(FONTS / filename))
        # DejaVu Sans as before, for documents that name it (the yearly report): embedded only when used.
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        # Arabic text in Noto Sans Arabic, Latin and Cyrillic (names, codes, links) in Noto Sans: each
        # font covers what the other lacks, and fpdf2 picks per character.
        self.main_family = ARABIC if self.rtl else LATIN
        self.set_fallback_fonts([LATIN if self.rtl else ARABIC], exact_match=False)
        self.direction("rtl" if self.rtl else "ltr")
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)
        self.set_title("")
        self.add_page()

    def _by_content(self, text: str) -> str:
        """In a right-to-left document, a text without a right-to-left letter (an address, a name, a
        phone number) keeps its own order: "39104 Magdeburg", not "Magdeburg 39104"; in a right-to-left
        text, each left-to-right run is isolated ("0391 555 0100" stays whole, not "0100 555 0391")."""
        if not self.rtl or self._fixed:
            return text
        rtl = any(_is_rtl(c) for c in text)
        self.direction("rtl" if rtl else "ltr")
        return "\n".join(isolate_ltr_runs(line) for line in text.split("\n")) if rtl else text

    def multi_cell(self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any) -> Any:
        return super().multi_cell(w, h, self._by_content(text), *args, **kwargs)

    def cell(self, w: float | None = None, h: float | None = None, text: str = "", *args: Any,
             **kwargs: Any) -> Any:
        return super().cell(w, h, self._by_content(text), *args, **kwargs)

    def direction(self, direction: str) -> None:
        """Paragraphs from now on run ``"ltr"`` or ``"rtl"``."""
        self.set_text_shaping(use_shaping_engine=True, direction=direction,
                              script="arab" if direction == "rtl" else None,
                              language="ara" if direction == "rtl" else None)

    def use(self, size: float = 11, bold: bool = False) -> None:
        self.set_font(self.main_family, "B" if bold else "", size)

    @property
    def start(self) -> str:
        """Where a line of text begins: "L", or "R" for right-to-left readers."""
        return "R" if self.rtl else "L"

    @property
    def end(self) -> str:
        return "L" if self.rtl else "R"

    def paragraph(self, text: str, size: float = 11, bold: bool = False, height: float | None = None,
                  align: str | None = None) -> None:
        """A block of text across the page, aligned where the reader starts, the cursor below it."""
        self.use(size, bold)
        self.multi_cell(0, height or size * 0.55, text, align=align or self.start, new_x="LMARGIN", new_y="NEXT")

    def latin(self, text: str, size: float = 11, bold: bool = False, height: float | None = None,
              align: str | None = None) -> None:
        """A line that is left to right whatever the reader's direction (a code, a link, an ID)."""
        self.direction("ltr")
        self._fixed = True
        self.set_font(LATIN, "B" if bold else "", size)
        self.multi_cell(0, height or size * 0.55, text, align=align or self.start, new_x="LMARGIN",
                        new_y="NEXT")
        self._fixed = False
        self.direction("rtl" if self.rtl else "ltr")

    def footer(self) -> None:
        if self.footer_text is None:
            return
        self.set_y(-12)
        self.use(8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.footer_text(self), align="C")
        self.set_text_color(0, 0, 0)

    def page_of(self) -> str:
        """"Page x of y" in the reader's language (y is filled in when the document is finished)."""
        return self.tr.gettext("Page {page} of {pages}").format(page=self.page_no(), pages=self.str_alias_nb_pages)


def new_pdf(tr: Translator | None = None) -> Document:
    """An A4 PDF in the reader's script and direction (German and left to right without a translator)."""
    return Document(tr)


def paragraph(pdf: FPDF, text: str, size: int = 12, bold: bool = False, height: float = 7) -> None:
    """A block of text across the page, the cursor back at the left margin below it."""
    if isinstance(pdf, Document):
        pdf.paragraph(text, size, bold, height)
        return
    pdf.set_font(LATIN, "B" if bold else "", size)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
