"""Printable invite letters: the Träger's letterhead, the date, the person's name, the code and its expiry,
and the two ways to the bot, each with its QR code: Telegram (the @name, a deep link that links the chat
with one tap) and Matrix (the bot's Matrix ID and its ``matrix.to`` link; the code is then sent by hand).

A family member's letter speaks to the family (du for young people: the translator comes from
``conversations.address.translator_for``); staff get a letter of their own (:mod:`bot.staff_letter`).
Arabic letters run right to left (``conversations.documents``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import segno

from conversations.documents import FONTS, Document, new_pdf, paragraph  # noqa: F401  (moved there, issue 5)
from conversations.i18n import Translator


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code.replace('-', '')}"


def matrix_link(matrix_user_id: str) -> str:
    """``https://matrix.to/#/@wegbegleiter:example.org``: opens a chat with the bot in any Matrix app."""
    return f"https://matrix.to/#/{matrix_user_id}"


@dataclass(frozen=True)
class Letterhead:
    """The Träger as its letters print it."""

    name: str
    address: str | None = None
    phone: str | None = None
    phone_hours: str | None = None

    @classmethod
    def of(cls, organisation) -> Letterhead:  # type: ignore[no-untyped-def]
        return cls(organisation.name, organisation.address, organisation.phone, organisation.phone_hours)


@dataclass(frozen=True)
class Invitation:
    name: str  # the person's name
    code: str
    expires: datetime
    today: datetime
    telegram_username: str | None  # the bot's @name without "@"
    matrix_user_id: str | None  # "@wegbegleiter:example.org"


def _qr(link: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=6, border=2)
    out.seek(0)
    return out


def _head(pdf: Document, tr: Translator, head: Letterhead, today: datetime) -> None:
    """The letterhead at the reader's start, the date at the other side, a rule below."""
    _ = tr.gettext
    width = pdf.w - pdf.l_margin - pdf.r_margin
    top = pdf.get_y()
    lines = [(head.name, 13, True), *[(line, 9.5, False) for line in (head.address or "").splitlines()]]
    if head.phone:
        lines.append((_("Phone {phone}").format(phone=head.phone)
                      + (f" ({head.phone_hours})" if head.phone_hours else ""), 9.5, False))
    for text, size, bold in lines:
        pdf.set_x(pdf.l_margin + width * 0.4 if pdf.rtl else pdf.l_margin)
        pdf.use(size, bold)
        pdf.multi_cell(width * 0.6, size * 0.5, text, align=pdf.start, new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin if pdf.rtl else pdf.l_margin + width * 0.6, top)
    pdf.use(10)
    pdf.multi_cell(width * 0.4, 5, tr.date(today, "long"), align=pdf.end, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(bottom + 2)
    pdf.set_draw_color(150, 150, 150)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(8)


def _code_box(pdf: Document, tr: Translator, invitation: Invitation) -> None:
    _ = tr.gettext
    pdf.paragraph(_("Your code"), 11, True)
    pdf.latin(invitation.code, 24, True, height=13, align="C")
    pdf.paragraph(_("The code works once and until {date}. Please keep it to yourself.").format(
        date=tr.date(invitation.expires, "long")), 10)
    pdf.ln(4)


def _ways(pdf: Document, tr: Translator, invitation: Invitation) -> None:
    """Telegram and Matrix side by side, each with its QR code (right to left: Telegram on the right)."""
    _ = tr.gettext
    ways: list[tuple[str, str, str, str]] = []
    if invitation.telegram_username:
        bot = f"@{invitation.telegram_username}"
        ways.append(("Telegram", deep_link(invitation.telegram_username, invitation.code), bot, _(
            "Scan the QR code with your phone camera: Telegram opens the chat with {bot} and links it. "
            "Or search for {bot} in Telegram, press Start and send your code.").format(bot=bot)))
    if invitation.matrix_user_id:
        link = matrix_link(invitation.matrix_user_id)
        ways.append(("Matrix (Element)", link, invitation.matrix_user_id, _(
            "Scan the QR code or open the link in Element or another Matrix app, start a chat with {bot} "
            "and send your code.").format(bot=invitation.matrix_user_id)))
    if not ways:
        return
    width = pdf.w - pdf.l_margin - pdf.r_margin
    column = (width - 10) / 2
    top = pdf.get_y()
    bottom = top
    for index, (title, link, who, text) in enumerate(ways):
        slot = len(ways) - 1 - index if pdf.rtl else index
        x = pdf.l_margin + slot * (column + 10)
        pdf.set_xy(x, top)
        pdf.use(13, True)
        pdf.multi_cell(column, 7, title, align=pdf.start, new_x="LEFT", new_y="NEXT")
        pdf.image(_qr(link), x=x + (column - 42 if pdf.rtl else 0), w=42)
        pdf.set_x(x)
        pdf.direction("ltr")
        pdf._fixed = True
        pdf.set_font("Noto", "B", 10)
        pdf.multi_cell(column, 5.5, who, align=pdf.start, new_x="LEFT", new_y="NEXT")
        pdf.set_font("Noto", "", 8)
        pdf.multi_cell(column, 4.5, link, align=pdf.start, new_x="LEFT", new_y="NEXT")
        pdf._fixed = False
        pdf.direction("rtl" if pdf.rtl else "ltr")
        pdf.set_xy(x, pdf.get_y() + 1)
        pdf.use(10)
        pdf.multi_cell(column, 5, text, align=pdf.start, new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom + 4)


def _questions(pdf: Document, tr: Translator, head: Letterhead) -> None:
    if head.phone:
        text = tr.gettext("Questions? Call us: {phone}").format(phone=head.phone)
        pdf.paragraph(text + (f" ({head.phone_hours})" if head.phone_hours else ""), 10)


def letter(tr: Translator, head: Letterhead, invitation: Invitation, body: Callable[[Document], None]) -> bytes:
    pdf = Document(tr)
    pdf.set_title(tr.gettext("Your invitation to Wegbegleiter"))
    _head(pdf, tr, head, invitation.today)
    body(pdf)
    _code_box(pdf, tr, invitation)
    _ways(pdf, tr, invitation)
    _questions(pdf, tr, head)
    return bytes(pdf.output())


def invite_letter(tr: Translator, head: Letterhead, invitation: Invitation) -> bytes:
    """The letter for a family member (``tr`` says du to a young person)."""
    _ = tr.gettext

    def body(pdf: Document) -> None:
        pdf.paragraph(_("Your invitation to Wegbegleiter"), 17, True, 9)
        pdf.ln(3)
        pdf.paragraph(_("Hello {name},").format(name=invitation.name), 11)
        pdf.ln(1)
        pdf.paragraph(_("{organisation} invites you to Wegbegleiter, the chat helper for your family help. "
                        "It reminds you of appointments and asks for your view. You decide what you write.")
                      .format(organisation=head.name), 11)
        pdf.ln(4)

    return letter(tr, head, invitation, body)
