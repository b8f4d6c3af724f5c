"""The summary as a PDF (fpdf2): one table per topic, family | Fachkräfte, differences shaded.

``conversations`` must not import ``bot``, so the Unicode font (names like Yılmaz, emoji-free text) is
loaded by path from ``bot/fonts``, the one place the project keeps fonts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.fonts import FontFace

from conversations.i18n import Translator

if TYPE_CHECKING:
    from conversations.milestone.summary import Summary

FONTS = Path(__file__).resolve().parents[2] / "bot" / "fonts"
DIFFER = (255, 235, 200)  # a soft orange: "talk about this"
HEAD = (225, 232, 240)
FACES = {"😞": "1", "🙁": "2", "😐": "3", "🙂": "4", "😄": "5"}  # DejaVu Sans has no colour emoji


def plain(text: str) -> str:
    for face, number in FACES.items():
        text = text.replace(f"{face} ({number}/5)", f"{number}/5").replace(face, number)
    return text.replace("⚠", "!")


class Confidential(FPDF):
    """Every page names the case and says it is confidential (a page printed alone says so too)."""

    footer_text = ""

    def footer(self) -> None:
        if not self.footer_text:
            return
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.footer_text.format(page=self.page_no(), pages="{nb}"), align="C")
        self.set_text_color(0, 0, 0)


def _setup(pdf: FPDF) -> FPDF:
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, 18)
    pdf.add_page()
    return pdf


def new_pdf() -> FPDF:
    return _setup(Confidential(format="A4"))


def summary_pdf(tr: Translator, summary: Summary) -> bytes:
    _ = tr.gettext
    pdf = Confidential(format="A4")
    pdf.footer_text = _("{reference} · confidential · page {page} of {pages}").replace(
        "{reference}", summary.reference)
    _setup(pdf)
    pdf.set_font("DejaVu", "B", 9)
    pdf.set_text_color(150, 30, 30)
    pdf.multi_cell(0, 5, _("Confidential: social data (§ 35 SGB I), only for those taking part in the talk"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1)
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, summary.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 10)
    pdf.ln(2)
    pdf.multi_cell(0, 5, summary.briefing, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    if summary.reference:
        pdf.multi_cell(0, 5, _("Case reference: {reference}").format(reference=summary.reference),
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(0, 5, _("Answers sent by: {names}").format(names=", ".join(summary.answered) or "—"),
                   new_x="LMARGIN", new_y="NEXT")
    if summary.missing:
        pdf.multi_cell(0, 5, _("Not sent: {names}").format(names=", ".join(summary.missing)),
                       new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, _("Shaded rows: the family and the Fachkräfte see it differently."),
                   new_x="LMARGIN", new_y="NEXT")
    if summary.media_count:
        pdf.multi_cell(0, 5, _("Voice messages and files come with the chat message."), new_x="LMARGIN",
                       new_y="NEXT")
    for section in summary.sections:
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, section.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(col_widths=(34, 33, 33), line_height=5, text_align="LEFT",
                       headings_style=FontFace(emphasis="BOLD", fill_color=HEAD)) as table:
            head = table.row()
            for title in (_("Topic"), _("Family"), _("Fachkräfte")):
                head.cell(title)
            for r in section.rows:
                style = FontFace(fill_color=DIFFER) if r.differ else None
                cells = table.row()
                cells.cell(plain(("⚠ " if r.differ else "") + r.label), style=style)
                for side in (r.family, r.staff):
                    cells.cell(plain("\n".join(f"{n}: {a}" for n, a in side) or "—"), style=style)
    return bytes(pdf.output())
