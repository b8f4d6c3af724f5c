"""Demo data: the people of SCENARIOS.md (Brücke e.V., Jugendamt Magdeburg-Nord, the Yılmaz family)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import admin
from conversations.admin import Actor
from conversations.clock import BERLIN, Clock
from conversations.context import Services
from storage.models import (
    Appointment,
    Case,
    ChatIdentity,
    FamilyMember,
    MemberKind,
    Organisation,
    Role,
    StaffMember,
)

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


def seed_month(session: Session, services: Services) -> None:
    """A month in the life of the demo (SCENARIOS.md), placed around today so a newcomer sees it at work:
    the Yılmaz family's weekly Hausbesuch on Tuesdays 10:00 (two weeks past, recorded; six coming), a budget
    of 20 hours a month, three goals and a Meilensteingespräch with Sabine Roth in nine days (its
    questionnaire is open now); Olga Petrenko's Thursday visits with Tobias Klein. Only once: an existing
    appointment of the Yılmaz case means the month is there already."""
    from conversations import appointments as appts
    from conversations import budget
    from conversations.milestone import core as milestone
    from conversations.rules.outcomes import AppointmentKind, Outcome

    cases = {c.title: c for c in session.scalars(select(Case))}
    yilmaz, petrenko = cases.get("Familie Yılmaz"), cases.get("Familie Petrenko")
    if yilmaz is None or petrenko is None or session.scalar(select(Appointment.id).where(
            Appointment.case_id == yilmaz.id).limit(1)):
        return
    staff = {s.name: s for s in session.scalars(select(StaffMember))}
    now = services.clock.now()
    today = now.astimezone(BERLIN).date()
    first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    budget.set_budget(session, ACTOR, now, yilmaz, 20 * 60, first_of_last_month)
    budget.set_budget(session, ACTOR, now, petrenko, 8 * 60, first_of_last_month)

    def at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)

    tuesday = today - timedelta(days=(today.weekday() - 1) % 7 or 7)  # the last Tuesday before today
    visits = appts.create_weekly(session, services, ACTOR, yilmaz, AppointmentKind.HAUSBESUCH,
                                 at(tuesday - timedelta(weeks=1), 10), 120, [staff["Jana Weber"]],
                                 appts.default_members(yilmaz), weeks=8, place="bei Familie Yılmaz")
    appts.record_outcome(session, services, ACTOR, visits[0], Outcome.TOOK_PLACE, 150)  # 2.5 h, at the door
    appts.record_outcome(session, services, ACTOR, visits[1], Outcome.TOOK_PLACE, 120)
    thursday = today + timedelta(days=(3 - today.weekday()) % 7 or 7)
    appts.create_weekly(session, services, ACTOR, petrenko, AppointmentKind.HAUSBESUCH, at(thursday, 15), 90,
                        [staff["Tobias Klein"]], appts.default_members(petrenko), weeks=4)
    for text in ("Emre geht jeden Tag zur Schule.", "Leyla hat eine feste Abendroutine.",
                 "Ayşe und Murat sprechen Termine für die Kinder miteinander ab."):
        milestone.add_goal(session, ACTOR, now, yilmaz, text)
    review_day = today + timedelta(days=9)
    milestone.create_milestone(session, ACTOR, now, yilmaz, at(review_day, 14), staff["Sabine Roth"],
                               place="Brücke e.V., Beratungsraum 2", services=services)


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
