"""The invite letter for staff: their own text (what the chat does for them, how to treat the families'
data), the same letterhead, code and ways to the bot as the families' letter (:mod:`bot.letters`)."""

from __future__ import annotations

from bot.letters import Invitation, Letterhead, letter
from conversations.documents import Document
from conversations.i18n import Translator


def staff_letter(tr: Translator, head: Letterhead, invitation: Invitation) -> bytes:
    _ = tr.gettext

    def body(pdf: Document) -> None:
        pdf.paragraph(_("Your access to Wegbegleiter"), 17, True, 9)
        pdf.ln(3)
        pdf.paragraph(_("Hello {name},").format(name=invitation.name), 11)
        pdf.ln(1)
        pdf.paragraph(_("{organisation} has set up Wegbegleiter for you. In the chat you enter appointments and "
                        "record what happened, see the hours and the feedback of your families, and get "
                        "reminders, alerts and escalations.").format(organisation=head.name), 11)
        pdf.ln(1)
        pdf.paragraph(_("Link your chat once: open the bot as shown below and send it this code. The families' "
                        "messages are social data: use the chat only on a phone that locks, and pass on no "
                        "screenshots."), 11)
        pdf.ln(4)

    return letter(tr, head, invitation, body)
