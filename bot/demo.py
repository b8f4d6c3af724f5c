"""Demo data: the people of SCENARIOS.md (Brücke e.V., Jugendamt Magdeburg-Nord, the Yılmaz family)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import admin
from conversations.admin import Actor
from conversations.clock import Clock
from storage.models import ChatIdentity, FamilyMember, MemberKind, Organisation, Role, StaffMember

TRAEGER = "Brücke e.V."
ACTOR = Actor("demo")


@dataclass(frozen=True)
class DemoInvite:
    who: str
    role: str
    code: str


def seed(session: Session, clock: Clock, ttl_days: int) -> None:
    """Create the demo organisation, staff and families once."""
    if session.scalar(select(Organisation.id).where(Organisation.name == TRAEGER)):
        return
    now = clock.now()
    org = admin.add_organisation(session, ACTOR, now, TRAEGER, phone="0391 555 0100",
                                 phone_hours="Mo–Fr 8:00–18:00")
    admin.update_organisation(session, ACTOR, now, org, address="Breiter Weg 12\n39104 Magdeburg")
    jugendamt = admin.add_organisation(session, ACTOR, now, "Jugendamt Magdeburg-Nord", phone="0391 540 0000")
    staff = {
        "jana": admin.add_staff(session, ACTOR, now, org, "Jana Weber", [Role.FACHKRAFT], language="de"),
        "tobias": admin.add_staff(session, ACTOR, now, org, "Tobias Klein", [Role.FACHKRAFT], language="de"),
        "schulz": admin.add_staff(session, ACTOR, now, jugendamt, "Dr. Katrin Schulz", [Role.FALLFUEHREND],
                                  email="k.schulz@jugendamt.example"),
        "sabine": admin.add_staff(session, ACTOR, now, org, "Sabine Roth", [Role.GESPRAECHSFUEHRUNG]),
        "kerstin": admin.add_staff(session, ACTOR, now, org, "Kerstin Braun", [Role.BESCHWERDE]),
        "leitung": admin.add_staff(session, ACTOR, now, org, "Martina Hoffmann", [Role.LEITUNG, Role.ADMIN],
                                   email="leitung@bruecke.example"),
    }
    yilmaz = admin.add_case(session, ACTOR, now, org, "Familie Yılmaz", help_type="SPFH § 31 SGB VIII",
                            started_on=date(2026, 9, 1))
    admin.update_case(session, ACTOR, now, yilmaz, jugendamt="Jugendamt Magdeburg-Nord", file_number="51.2-0815/26")
    for who, role in (("jana", Role.FACHKRAFT), ("tobias", Role.FACHKRAFT), ("schulz", Role.FALLFUEHREND),
                      ("sabine", Role.GESPRAECHSFUEHRUNG)):
        admin.assign(session, ACTOR, now, yilmaz, staff[who], role)
    admin.add_member(session, ACTOR, now, yilmaz, "Ayşe", "Yılmaz", MemberKind.PARENT, date(1992, 5, 3), "tr")
    admin.add_member(session, ACTOR, now, yilmaz, "Murat", "Yılmaz", MemberKind.PARENT, date(1988, 2, 11), "de")
    admin.add_member(session, ACTOR, now, yilmaz, "Emre", "Yılmaz", MemberKind.CHILD, date(2011, 6, 2), "de")
    admin.add_member(session, ACTOR, now, yilmaz, "Leyla", "Yılmaz", MemberKind.CHILD, date(2017, 9, 14), "de")
    petrenko = admin.add_case(session, ACTOR, now, org, "Familie Petrenko", help_type="Erziehungsbeistand § 30",
                              started_on=date(2026, 6, 15))
    admin.update_case(session, ACTOR, now, petrenko, jugendamt="Jugendamt Magdeburg-Nord", file_number="51.2-0433/26")
    admin.assign(session, ACTOR, now, petrenko, staff["tobias"], Role.FACHKRAFT)
    admin.assign(session, ACTOR, now, petrenko, staff["schulz"], Role.FALLFUEHREND)
    admin.add_member(session, ACTOR, now, petrenko, "Olga", "Petrenko", MemberKind.PARENT, date(1997, 1, 20), "uk")


def console_links(session: Session, clock: Clock, base_url: str) -> dict[str, str]:
    """Sign-in links to the staff console for Jana (Fachkraft) and Kerstin (Beschwerdestelle)."""
    from conversations.webconsole import signin

    links = {}
    for name in ("Jana Weber", "Kerstin Braun"):
        staff = session.scalar(select(StaffMember).where(StaffMember.name == name))
        token = signin.issue(session, staff, clock.now(), "demo") if staff else None
        if token:
            links[name] = signin.link_url(base_url, token)
    return links


def fresh_invites(session: Session, clock: Clock, ttl_days: int) -> list[DemoInvite]:
    """A new code for everyone in the demo who has not linked a chat yet."""
    now = clock.now()
    linked_members = set(session.scalars(select(ChatIdentity.member_id).where(ChatIdentity.member_id.is_not(None))))
    linked_staff = set(session.scalars(select(ChatIdentity.staff_id).where(ChatIdentity.staff_id.is_not(None))))
    result: list[DemoInvite] = []
    for member in session.scalars(select(FamilyMember).order_by(FamilyMember.id)):
        if member.id not in linked_members:
            code = admin.invite(session, ACTOR, now, member, ttl_days)
            result.append(DemoInvite(f"{member.display_name} ({member.case.title})", member.kind, code))
    for staff in session.scalars(select(StaffMember).order_by(StaffMember.id)):
        if staff.id not in linked_staff:
            code = admin.invite(session, ACTOR, now, staff, ttl_days)
            result.append(DemoInvite(staff.name, ", ".join(r.role for r in staff.roles), code))
    return result
