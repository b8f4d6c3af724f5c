"""A complaint about the Jugendamt (issue 18): what the family is told and asked.

The Träger's complaint office can listen, but it cannot decide for the Jugendamt. So a family who chooses
"The Jugendamt" is told, before writing, that the Jugendamt has its own complaint route (its complaint
office, or the head of the Jugendamt; the contact from ``JUGENDAMT_COMPLAINTS`` or the organisation's
``complaints.jugendamt_contact``) and where independent help is (the Ombudsstelle, § 9a SGB VIII, with its
phone number). Before sending, they say whether the complaint office may pass it on to the Jugendamt's
complaint office: with their name, without it, or not at all. The officers' side, passing it on, is in
:mod:`conversations.complaints.forwarding`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.complaints import rules
from conversations.i18n import Translator
from conversations.messages import Reply
from conversations.settings import Settings
from storage.models import Organisation

NAMED, ANONYMOUS, NO = "named", "anonymous", "no"  # Complaint.forward_consent
FORWARDABLE = (NAMED, ANONYMOUS)


@dataclass(frozen=True)
class Route:
    contact: str  # how a family reaches the Jugendamt's complaint office ("" when not configured)
    email: str  # where an officer forwards a complaint ("" when not configured)


def route(settings: Settings, org: Organisation | None) -> Route:
    own: dict[str, Any] = ((org.settings or {}).get("complaints") or {}) if org else {}
    return Route(contact=str(own.get("jugendamt_contact", settings.jugendamt_complaints)).strip(),
                 email=str(own.get("jugendamt_email", settings.jugendamt_complaints_email)).strip())


def route_text(tr: Translator, settings: Settings, org: Organisation | None) -> str:
    """What a family is told when its complaint is about the Jugendamt: the Jugendamt's own route, the
    Ombudsstelle, and that nothing is passed on without their word."""
    _ = tr.gettext
    contact = route(settings, org).contact
    org_name = org.name if org else ""
    return "\n\n".join([
        _("Good to know: the Jugendamt has its own complaint procedure. You can also complain there directly, "
          "to its complaint office or to the head of the Jugendamt."),
        _("The Jugendamt's complaint office: {contact}").format(contact=contact) if contact
        else _("Your Fachkraft can tell you how to reach the Jugendamt's complaint office."),
        _("Independent help outside {org}, free and confidential: {ombudsstelle}").format(
            org=org_name, ombudsstelle=rules.policy(settings, org).ombudsstelle),
        _("You can also complain here. The complaint office of {org} passes your complaint on to the Jugendamt "
          "only if you agree.").format(org=org_name),
    ])


def consent_choices(tr: Translator, org_name: str, anonymous: bool) -> list[tuple[str, str]]:
    """(label, value): an anonymous complaint cannot go on with a name."""
    _ = tr.gettext
    named = [] if anonymous else [(_("Yes, with my name"), NAMED)]
    return [*named, (_("Yes, without my name"), ANONYMOUS), (_("No, only to {org}").format(org=org_name), NO)]


def forwarded_reply(tr: Translator, reference: str | None, consent: str | None) -> Reply:
    """The complainant hears that it went on, and how."""
    text = (tr.gettext("Your complaint {reference} has been passed on to the Jugendamt's complaint office, with "
                       "your name.") if consent == NAMED else
            tr.gettext("Your complaint {reference} has been passed on to the Jugendamt's complaint office, without "
                       "your name."))
    return Reply(text.format(reference=reference))
