"""Casework administration shared by the CLI and staff chat flows: organisations, staff, cases, members.

Every change leaves an audit event naming who made it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.core import UnknownLocaleError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conversations import invites
from conversations.clock import iso
from conversations.context import audit
from conversations.i18n import available_languages
from conversations.rules.working_days import Calendar
from storage.errors import Explained
from storage.models import (
    Case,
    CaseAssignment,
    ChatIdentity,
    FamilyMember,
    MemberKind,
    Organisation,
    Role,
    StaffMember,
    StaffRole,
)

CASE_ROLES = (Role.FACHKRAFT, Role.FALLFUEHREND, Role.GESPRAECHSFUEHRUNG)


class AdminError(Explained):
    """A request that cannot be carried out; the message says why, in one line
    (``AdminError("no case {ref!r}", ref=ref)``: the CLI shows it in the operator's language)."""


@dataclass(frozen=True)
class Actor:
    label: str  # "cli", "staff:3"


def _check_language(language: str) -> None:
    """Any language babel knows may be stored; until it has a catalog, the person reads German."""
    try:
        Locale.parse(language)
    except (ValueError, LookupError, UnknownLocaleError):  # babel's UnknownLocaleError is neither
        raise AdminError("unknown language {language!r}; offered are {offered}", language=language,
                         offered=", ".join(available_languages())) from None


def add_organisation(session: Session, actor: Actor, now: datetime, name: str, phone: str | None = None,
                     phone_hours: str | None = None) -> Organisation:
    org = Organisation(name=name, phone=phone, phone_hours=phone_hours, settings={}, created_at=now)
    session.add(org)
    session.flush()
    audit(session, at=now, actor=actor.label, action="organisation.created", object_type="organisation",
          object_id=org.id)
    return org


def update_organisation(session: Session, actor: Actor, now: datetime, org: Organisation, *,
                        bundesland: str | None = None, closed_days: list[str] | None = None,
                        name: str | None = None, address: str | None = None, phone: str | None = None,
                        phone_hours: str | None = None) -> Organisation:
    """Change an organisation's details: its working-day settings (its Bundesland's holidays, its own closing
    days) and what its letters and the Nachweisblatt print in their head (name, postal address, phone, hours).
    An empty string clears a detail; ``None`` keeps it."""
    if name is not None and not name.strip():
        raise AdminError("an organisation needs a name")
    for field, value in (("name", name), ("address", address), ("phone", phone), ("phone_hours", phone_hours)):
        if value is not None:
            setattr(org, field, value.replace("\\n", "\n").strip() or None)
    settings = dict(org.settings or {})
    if bundesland is not None:
        settings["bundesland"] = bundesland.upper()
    if closed_days is not None:
        settings["closed_days"] = closed_days
    try:
        Calendar.of(settings)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    org.settings = settings
    audit(session, at=now, actor=actor.label, action="organisation.changed", object_type="organisation",
          object_id=org.id, bundesland=settings.get("bundesland"), closed_days=settings.get("closed_days"),
          details=sorted(f for f, v in (("name", name), ("address", address), ("phone", phone),
                                        ("phone_hours", phone_hours)) if v is not None))
    return org


def update_case(session: Session, actor: Actor, now: datetime, case: Case, *, title: str | None = None,
                help_type: str | None = None, jugendamt: str | None = None,
                file_number: str | None = None) -> Case:
    """Change what the Nachweisblatt's head says of a case: its title, help type (with its legal basis), the
    Jugendamt and the Jugendamt's file number (Aktenzeichen). An empty string clears; ``None`` keeps."""
    if title is not None and not title.strip():
        raise AdminError("a case needs a title")
    changed = []
    for field, value in (("title", title), ("help_type", help_type), ("jugendamt", jugendamt),
                         ("jugendamt_file_number", file_number)):
        if value is not None:
            setattr(case, field, value.strip() or None)
            changed.append(field)
    audit(session, at=now, actor=actor.label, action="case.changed", object_type="case", object_id=case.id,
          case_id=case.id, fields=changed)
    return case


def organisation(session: Session, org_id: int | None) -> Organisation:
    if org_id is not None:
        org = session.get(Organisation, org_id)
    else:
        org = session.scalar(select(Organisation).order_by(Organisation.id))
    if org is None:
        if org_id is None:
            raise AdminError("no organisation yet: run `wegbegleiter org add NAME` first")
        raise AdminError("no organisation with id {id}", id=org_id)
    return org


def add_staff(session: Session, actor: Actor, now: datetime, org: Organisation, name: str, roles: list[str],
              email: str | None = None, phone: str | None = None, language: str = "de") -> StaffMember:
    valid = {r.value for r in Role}
    wrong = [r for r in roles if r not in valid]
    if wrong or not roles:
        if wrong:
            raise AdminError("give at least one role from {roles} (not a role: {wrong})",
                             roles=", ".join(sorted(valid)), wrong=", ".join(wrong))
        raise AdminError("give at least one role from {roles}", roles=", ".join(sorted(valid)))
    _check_language(language)
    staff = StaffMember(organisation=org, name=name, email=email, phone=phone, language=language, created_at=now,
                        roles=[StaffRole(role=r) for r in dict.fromkeys(roles)])
    session.add(staff)
    session.flush()
    audit(session, at=now, actor=actor.label, action="staff.created", object_type="staff_member",
          object_id=staff.id, roles=roles)
    return staff


def staff_member(session: Session, staff_id: int) -> StaffMember:
    staff = session.get(StaffMember, staff_id)
    if staff is None:
        raise AdminError("no staff member with id {id}", id=staff_id)
    return staff


def next_reference(session: Session, now: datetime) -> str:
    count = session.scalar(select(func.count(Case.id))) or 0
    return f"F-{now.year}-{count + 1:04d}"


def add_case(session: Session, actor: Actor, now: datetime, org: Organisation, title: str,
             reference: str | None = None, help_type: str | None = None,
             started_on: date | None = None) -> Case:
    reference = reference or next_reference(session, now)
    if session.scalar(select(Case.id).where(Case.reference == reference)):
        raise AdminError("a case with reference {reference} exists already", reference=reference)
    case = Case(organisation=org, reference=reference, title=title, help_type=help_type, started_on=started_on,
                created_at=now)
    session.add(case)
    session.flush()
    audit(session, at=now, actor=actor.label, action="case.created", object_type="case", object_id=case.id,
          case_id=case.id)
    return case


def find_case(session: Session, ref: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == ref))
    if case is None and ref.isdigit():
        case = session.get(Case, int(ref))
    if case is None:
        raise AdminError("no case {ref!r} (give its reference, e.g. F-2027-0001, or its id)", ref=ref)
    return case


def assign(session: Session, actor: Actor, now: datetime, case: Case, staff: StaffMember, role: str) -> CaseAssignment:
    if role not in {r.value for r in CASE_ROLES}:
        raise AdminError("case role must be one of {roles}", roles=", ".join(r.value for r in CASE_ROLES))
    if not staff.has_role(role):
        raise AdminError("{name} does not hold the role {role}", name=staff.name, role=role)
    if role == Role.GESPRAECHSFUEHRUNG and any(
        a.staff_id == staff.id and a.role == Role.FACHKRAFT and a.until is None for a in case.assignments
    ):
        raise AdminError("{name} works on this case and cannot lead its Meilensteingespräch", name=staff.name)
    existing = next((a for a in case.assignments if a.staff_id == staff.id and a.role == role), None)
    if existing is not None:
        existing.until = None
        return existing
    assignment = CaseAssignment(case=case, staff=staff, role=role, since=now)
    session.add(assignment)
    session.flush()
    audit(session, at=now, actor=actor.label, action="case.assigned", object_type="case", object_id=case.id,
          case_id=case.id, staff_id=staff.id, role=role)
    return assignment


def add_member(session: Session, actor: Actor, now: datetime, case: Case, first_name: str,
               last_name: str | None = None, kind: str = MemberKind.PARENT, birth_date: date | None = None,
               language: str = "de", email: str | None = None) -> FamilyMember:
    if kind not in {k.value for k in MemberKind}:
        raise AdminError("kind must be one of {kinds}", kinds=", ".join(k.value for k in MemberKind))
    _check_language(language)
    member = FamilyMember(case=case, first_name=first_name, last_name=last_name, kind=kind,
                          birth_date=birth_date, language=language, email=email, created_at=now)
    session.add(member)
    session.flush()
    audit(session, at=now, actor=actor.label, action="member.created", object_type="family_member",
          object_id=member.id, case_id=case.id)
    return member


def family_member(session: Session, member_id: int) -> FamilyMember:
    member = session.get(FamilyMember, member_id)
    if member is None:
        raise AdminError("no family member with id {id}", id=member_id)
    return member


def invite(session: Session, actor: Actor, now: datetime, person: FamilyMember | StaffMember,
           ttl_days: int, *, revoke_unused: bool = True) -> str:
    """A new code for the person. Only the newest letter works: earlier codes not used yet expire now
    (a lost letter must not link a stranger's chat). ``revoke_unused=False`` is for a code that is used
    the moment it is made and never shown (the terminal chat links itself), so the letter stays valid."""
    if revoke_unused:
        invites.revoke_unused(session, person, now)
    code = invites.issue(session, person, now=now, ttl_days=ttl_days)
    kind = "family_member" if isinstance(person, FamilyMember) else "staff_member"
    audit(session, at=now, actor=actor.label, action="invite.issued", object_type=kind, object_id=person.id,
          case_id=person.case_id if isinstance(person, FamilyMember) else None)
    return code


def team(case: Case, role: str = Role.FACHKRAFT) -> list[StaffMember]:
    """The staff currently assigned to a case in one role (default: the Fachkräfte)."""
    return [a.staff for a in case.assignments if a.role == role and a.until is None and a.staff.active]


def case_summary(session: Session, case: Case) -> dict[str, Any]:
    linked: dict[int | None, list[str]] = {}
    for row in session.scalars(select(ChatIdentity).where(ChatIdentity.member_id.in_([m.id for m in case.members]))
                               .order_by(ChatIdentity.id)):
        linked.setdefault(row.member_id, []).append(row.channel)
    return {
        "id": case.id,
        "reference": case.reference,
        "title": case.title,
        "help_type": case.help_type,
        "jugendamt": case.jugendamt,
        "jugendamt_file_number": case.jugendamt_file_number,
        "organisation": case.organisation.name,
        "started_on": case.started_on.isoformat() if case.started_on else None,
        "closed_at": iso(case.closed_at),
        "closed_reason": case.closed_reason,
        "members": [
            {"id": m.id, "name": m.display_name, "kind": m.kind, "language": m.language,
             "linked": ", ".join(linked.get(m.id, [])) or None}
            for m in case.members
        ],
        "staff": [
            {"id": a.staff.id, "name": a.staff.name, "role": a.role}
            for a in case.assignments if a.until is None
        ],
    }


# --- people by name ----------------------------------------------------------------------------------
Person = FamilyMember | StaffMember


def person_name(person: Person) -> str:
    return person.display_name if isinstance(person, FamilyMember) else person.name


def name_words(text: str) -> list[str]:
    """The words of a name as people type them: case, accents, ı and ß folded ("Ayşe Yılmaz" → ayse, yilmaz)."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i").replace("ß", "ss"))
    return re.findall(r"\w+", "".join(c for c in folded if not unicodedata.combining(c)))


def people(session: Session) -> list[Person]:
    """Every family member and every active staff member, in the order they were added."""
    members = session.scalars(select(FamilyMember).order_by(FamilyMember.id))
    staff = session.scalars(select(StaffMember).where(StaffMember.active.is_(True)).order_by(StaffMember.id))
    return [*members, *staff]


def find_people(session: Session, name: str) -> list[Person]:
    """The people a typed name fits: each typed word is a word of the name ("ayse", "Jana Weber", "Schulz");
    if nobody fits that way, each typed word begins one ("Kers")."""
    wanted = name_words(name)
    if not wanted:
        return []
    candidates = [(p, name_words(person_name(p))) for p in people(session)]
    exact = [p for p, words in candidates if all(w in words for w in wanted)]
    return exact or [p for p, words in candidates if all(any(n.startswith(w) for n in words) for w in wanted)]
