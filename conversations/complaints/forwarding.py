"""Passing a complaint about the Jugendamt on to the Jugendamt's complaint office (issue 18), for officers.

:func:`forward` is the one function behind the chat's button and the console's, allowed by
:func:`conversations.authz.may_forward_complaint` (an officer or the Leitung who may handle it, once, and
only as the complainant agreed). It goes by email to ``JUGENDAMT_COMPLAINTS_EMAIL`` (or the organisation's
``complaints.jugendamt_email``) through the outbox: what the complainant wrote, their name only when they
agreed to that. The email is German (it goes to an office, not to a person with a chosen language). The
complainant is told. Files stay with the Träger; the email says how many there are.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy.orm import Session

from conversations import authz
from conversations.clock import BERLIN
from conversations.complaints import jugendamt, procedure
from conversations.context import Services
from conversations.i18n import Translator
from conversations.messages import Choice, Reply
from conversations.outbox import enqueue
from storage.models import FamilyMember, Organisation, StaffMember
from storage.models.complaints import Complaint


class Forwarded(enum.StrEnum):
    DONE = "done"
    NOT_ALLOWED = "not_allowed"  # not about the Jugendamt, no consent, or this person may not handle it
    ALREADY = "already"
    NO_ADDRESS = "no_address"


def address_of(session: Session, services: Services, complaint: Complaint) -> str:
    return jugendamt.route(services.settings, session.get(Organisation, complaint.organisation_id)).email


def email_text(session: Session, complaint: Complaint, staff: StaffMember, org: Organisation | None,
               now: datetime) -> tuple[str, str]:
    """(subject, text) of the email to the Jugendamt's complaint office, in German."""
    org_name = org.name if org else ""
    received = (complaint.submitted_at or now).astimezone(BERLIN)
    lines = [f"{org_name} hat am {received:%d.%m.%Y} eine Beschwerde über das Jugendamt erhalten und gibt sie "
             "mit dem Einverständnis der Person, die sich beschwert, an Sie weiter."]
    member = session.get(FamilyMember, complaint.member_id) if complaint.member_id else None
    if complaint.forward_consent == jugendamt.NAMED and not complaint.anonymous and member is not None:
        lines.append(f"Von: {member.display_name}")
        if member.case.jugendamt_file_number:
            lines.append(f"Ihr Aktenzeichen: {member.case.jugendamt_file_number}")
    else:
        lines.append("Die Person möchte nicht namentlich genannt werden.")
    lines += ["", "Was geschehen ist, in ihren eigenen Worten:", ""]
    lines += [e.text for e in complaint.entries if e.kind in ("account", "reply")]
    if complaint.files:
        lines += ["", f"Dateien dazu ({len(complaint.files)}) liegen bei {org_name}; bitte fragen Sie bei Bedarf."]
    lines += ["", f"Weitergegeben von {staff.name}, Beschwerdestelle von {org_name}. "
                  f"Zeichen: {complaint.reference}"]
    if org is not None and org.phone:
        lines.append(f"Rückfragen: {org.phone}")
    subject = f"Beschwerde über das Jugendamt, weitergegeben von {org_name} ({complaint.reference})"
    return subject, "\n".join(lines)


def forward(session: Session, services: Services, complaint: Complaint, staff: StaffMember,
            now: datetime) -> Forwarded:
    """Pass a complaint about the Jugendamt on to the Jugendamt's complaint office, as the complainant agreed."""
    if complaint.forwarded_at is not None:
        return Forwarded.ALREADY
    if not authz.may_forward_complaint(authz.as_staff(staff), complaint):
        return Forwarded.NOT_ALLOWED
    org = session.get(Organisation, complaint.organisation_id)
    address = jugendamt.route(services.settings, org).email
    if not address:
        return Forwarded.NO_ADDRESS
    subject, text = email_text(session, complaint, staff, org, now)
    enqueue(session, channel="email", address=address, reply=Reply(text), now=now, language="de",
            kind="complaint.forwarded", dedupe_key=f"complaint:{complaint.id}:forwarded", subject=subject)
    complaint.forwarded_at, complaint.forwarded_by = now, staff.id
    procedure.log(session, now, f"staff:{staff.id}", "complaint.forwarded", complaint,
                  consent=complaint.forward_consent)
    reference, consent = complaint.reference, complaint.forward_consent
    procedure.tell_complainant(session, services, complaint,
                               lambda tr: jugendamt.forwarded_reply(tr, reference, consent), now,
                               kind="complaint.forwarded")
    return Forwarded.DONE


def result_text(tr: Translator, result: Forwarded, complaint: Complaint, address: str) -> str:
    """What the officer is told, in the chat."""
    _ = tr.gettext
    return {
        Forwarded.DONE: _("Complaint {reference} was passed on to {address}. The complainant has been told."),
        Forwarded.ALREADY: _("Complaint {reference} was passed on to the Jugendamt already."),
        Forwarded.NOT_ALLOWED: _("Complaint {reference} cannot be passed on: it is not about the Jugendamt, or the "
                                 "complainant did not agree."),
        Forwarded.NO_ADDRESS: _("No address of the Jugendamt's complaint office is set "
                                "(JUGENDAMT_COMPLAINTS_EMAIL). Nothing was sent."),
    }[result].format(reference=complaint.reference, address=address)


def consent_text(tr: Translator, complaint: Complaint) -> str:
    _ = tr.gettext
    return {jugendamt.NAMED: _("with the complainant's name"),
            jugendamt.ANONYMOUS: _("without the complainant's name")}.get(complaint.forward_consent or "", _("no"))


def summary_line(tr: Translator, complaint: Complaint) -> str | None:
    """For the officer's summary of a complaint about the Jugendamt: passed on, or what the complainant allowed."""
    if complaint.category != "jugendamt":
        return None
    if complaint.forwarded_at:
        return tr.gettext("Passed on to the Jugendamt: {when}").format(when=tr.when(complaint.forwarded_at))
    return tr.gettext("May be passed on to the Jugendamt: {consent}").format(consent=consent_text(tr, complaint))


def choices(tr: Translator, complaint: Complaint) -> list[Choice]:
    """The officer's button, while it may be passed on (authz decides again when it is pressed)."""
    if complaint.category == "jugendamt" and complaint.forward_consent in jugendamt.FORWARDABLE \
            and complaint.forwarded_at is None:
        return [Choice(tr.gettext("Pass on to the Jugendamt"), f"act:complaint_forward:{complaint.id}")]
    return []
