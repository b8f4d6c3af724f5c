"""PDF documents with a Unicode font (names like Yılmaz, every offered language).

Shared by the bot's invite letters and the conversations' monthly proof (Nachweisblatt); it lives here
because conversations must not import bot. The font files ship with the ``bot`` package (bot/fonts).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

FONTS = Path(__file__).resolve().parent.parent / "bot" / "fonts"


def new_pdf() -> FPDF:
    """An A4 PDF with a Unicode font (names like Yılmaz, every offered language)."""
    from fpdf import FPDF  # imported here: the CLI and the engine start without it (about 0.3 s)

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    return pdf


def paragraph(pdf: FPDF, text: str, size: int = 12, bold: bool = False, height: float = 7) -> None:
    """A block of text across the page, the cursor back at the left margin below it."""
    pdf.set_font("DejaVu", "B" if bold else "", size)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
