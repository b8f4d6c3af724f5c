"""No console page's query count grows with the rows it shows (no N+1): each page is counted with a small
Träger and again with a larger one, by a SQLAlchemy event listener on the engine the server uses."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event, select

from conversations import admin, appointments, budget
from conversations.admin import Actor
from conversations.clock import berlin
from conversations.complaints import procedure
from storage.models import (
    Case,
    Escalation,
    ExtraHoursRequest,
    FamilyMember,
    MemberKind,
    NachweisConfirmation,
    Role,
    StaffMember,
)
from storage.models.complaints import Complaint
from tests.bot.web.conftest import signed_in

OPS = Actor("test")
DEBUG: dict[str, list[str]] = {}


@contextmanager
def counting(engine):  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def grow(served, n: int) -> None:  # type: ignore[no-untyped-def]
    """n more cases for Jana (with Dr. Schulz), each with visits, an alert, an escalation, extra hours, a
    pending Nachweis and an unreachable member; n more complaints with entries; n milestones for Sabine."""
    now = served.services.clock.now()
    with served.sessions.begin() as session:
        staff = {s.name.split()[-1]: s for s in session.scalars(select(StaffMember))}
        jana, schulz, sabine, tobias = staff["Weber"], staff["Schulz"], staff["Roth"], staff["Klein"]
        org = jana.organisation
        start = session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0
        for i in range(n):
            case = admin.add_case(session, OPS, now, org, f"Familie Test {start + i}", reference=f"T-{start + i}")
            admin.assign(session, OPS, now, case, jana, Role.FACHKRAFT)
            admin.assign(session, OPS, now, case, tobias, Role.FACHKRAFT)
            admin.assign(session, OPS, now, case, schulz, Role.FALLFUEHREND)
            parent = admin.add_member(session, OPS, now, case, "Eva", f"Test{i}", MemberKind.PARENT)
            budget.set_budget(session, OPS, now, case, 10 * 60, date(2027, 2, 1))
            for day in (2, 9, 16):
                visit = appointments.create_appointment(session, served.services, OPS, case, "hausbesuch",
                                                        berlin(2027, 2, day, 10, 0), 120, [jana], [parent])
                appointments.record_outcome(session, served.services, OPS, visit, "took_place")
            appointments.create_appointment(session, served.services, OPS, case, "hausbesuch",
                                            now + timedelta(days=1 + i), 700, [jana], [parent])  # beyond the budget
            session.add_all([
                Escalation(kind="child_protection", key=f"cp:{case.id}", case=case, member=parent, message="…",
                           created_at=now, facts={"phrase": "halt das nicht aus"}),
                Escalation(kind="attendance", key=f"att:{case.id}", case=case, created_at=now, facts={"appointments": [
                    {"id": 1, "starts_at": now.isoformat(), "outcome": "no_show", "situation": "no_show"}]}),
                NachweisConfirmation(case=case, month="2027-02", status="pending", asked_at=now),
            ])
            complaint = Complaint(status="new", organisation_id=org.id, category="staff", about_staff_id=tobias.id,
                                  anonymous=i % 2 == 0, reference=f"B-2027-{start + i:04d}", created_at=now,
                                  submitted_at=now, take_up_due=now + timedelta(days=1),
                                  answer_due=now + timedelta(days=14), member_id=parent.id, case_id=case.id)
            session.add(complaint)
            procedure.add_entry(complaint, "account", "Es geht um die Termine.", now)
            procedure.add_entry(complaint, "question", "Welche Termine?", now, staff["Braun"])
        session.flush()
        assert session.scalar(select(ExtraHoursRequest.id).limit(1)) is not None
        assert session.scalar(select(FamilyMember.id).limit(1)) is not None
    del sabine


PAGES = {
    "Jana": ["/", "/cases", "/cases/{case}"],
    "Kerstin": ["/complaints", "/complaints/{complaint}"],
    "Martina": ["/overview"],
    "Schulz": ["/jugendamt"],
    "Sabine": ["/milestones"],
}


def counts(served, browsers, ids) -> dict[str, int]:  # type: ignore[no-untyped-def]
    result = {}
    for who, paths in PAGES.items():
        for path in paths:
            url = path.format(**ids)
            with counting(served.db) as statements:
                assert browsers[who].get(url).status_code == 200, (who, url)
            result[f"{who} {path}"] = len(statements)
            DEBUG[f"{who} {path}"] = list(statements)
    return result


def test_no_page_makes_more_queries_for_more_rows(web, staff_bot, codes):
    served, base = web
    grow(served, 2)
    browsers = {who: signed_in(staff_bot, base, who.lower(), codes[who]) for who in PAGES}
    with served.sessions() as session:
        case = session.scalar(select(Case.id).where(Case.reference.like("T-%")).order_by(Case.id))
        complaint = session.scalar(select(Complaint.id).order_by(Complaint.id))
    ids = {"case": case, "complaint": complaint}
    small = counts(served, browsers, ids)
    grow(served, 5)
    with served.sessions.begin() as session:  # the same case and complaint, now with more rows in them
        target = session.get(Complaint, complaint)
        for _ in range(5):
            procedure.add_entry(target, "reply", "Noch etwas.", served.services.clock.now())
    before = dict(DEBUG)
    large = counts(served, browsers, ids)
    for key in large:
        if large[key] != small[key]:
            from collections import Counter
            extra = Counter(DEBUG[key]) - Counter(before[key])
            print("N+1", key, [(k[:60] + " ... " + k[-140:], v) for k, v in extra.items()])
    assert large == small
