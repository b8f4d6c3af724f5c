"""Printable invite letters: the code, a QR code of the Telegram deep link, and how to start."""

from __future__ import annotations

import io

import segno

from conversations.documents import FONTS, new_pdf, paragraph  # noqa: F401  (moved there, issue 5)
from conversations.i18n import Translator


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code.replace('-', '')}"


def invite_letter(tr: Translator, *, name: str, organisation: str, code: str, bot_username: str,
                  expires: str) -> bytes:
    _ = tr.gettext
    link = deep_link(bot_username, code)
    pdf = new_pdf()
    paragraph(pdf, _("Your invitation to Wegbegleiter"), size=18, bold=True, height=10)
    pdf.ln(4)
    paragraph(pdf, _("Hello {name},").format(name=name))
    pdf.ln(2)
    paragraph(pdf, _("{organisation} invites you to Wegbegleiter, the chat helper for your family help. "
                     "It reminds you of appointments and asks for your view. You decide what you write.")
              .format(organisation=organisation))
    pdf.ln(4)
    paragraph(pdf, _("With Telegram: scan this code with your phone camera."))
    qr = io.BytesIO()
    segno.make(link, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    pdf.image(qr, w=50)
    pdf.ln(2)
    paragraph(pdf, _("With Element (Matrix) or another way: write to Wegbegleiter and send this code:"))
    paragraph(pdf, code, size=22, bold=True, height=14)
    paragraph(pdf, _("The code works once and until {date}. Please keep it to yourself.").format(date=expires),
              size=11, height=6)
    return bytes(pdf.output())
