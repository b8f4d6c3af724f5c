"""Attacks on the console, each refused without revealing data: another role's page, another case's id,
a missing or replayed CSRF token, a deactivated person's old session (sign-in links: test_console_signin)."""

from __future__ import annotations

from sqlalchemy import select

from conversations.clock import berlin
from storage.models import Appointment, AuditEvent, Case, StaffMember
from storage.models.complaints import Complaint
from tests.bot.web.conftest import link_in, signed_in
from tests.bot.web.test_console_browser import plan_visit


def petrenko_visit(served) -> int:  # type: ignore[no-untyped-def]
    """A past visit in the Petrenko case (Tobias's), which Jana does not work on."""
    from conversations import admin, appointments
    from conversations.admin import Actor

    with served.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Petrenko"))
        visit = appointments.create_appointment(session, served.services, Actor("test"), case, "hausbesuch",
                                                berlin(2027, 2, 23, 10, 0), 60, admin.team(case), [])
        return visit.id


def case_id(served, title: str) -> int:  # type: ignore[no-untyped-def]
    with served.sessions() as session:
        return session.scalar(select(Case.id).where(Case.title == title))


def test_another_roles_pages_are_not_found(web, staff_bot, codes):
    served, base = web
    jana = signed_in(staff_bot, base, "jana", codes["Jana"])
    for path in ("/complaints", "/overview", "/complaints/1", "/milestones/1"):
        page = jana.get(path)
        assert page.status_code == 404 and "Nicht gefunden" in page.text, path
    kerstin = signed_in(staff_bot, base, "kerstin", codes["Kerstin"])
    page = kerstin.get(f"/cases/{case_id(served, 'Familie Yılmaz')}")
    assert page.status_code == 404 and "Ayşe" not in page.text


def test_another_cases_id_reveals_nothing_and_changes_nothing(web, staff_bot, codes):
    served, base = web
    visit = petrenko_visit(served)
    petrenko = case_id(served, "Familie Petrenko")
    jana = signed_in(staff_bot, base, "jana", codes["Jana"])
    for path in (f"/cases/{petrenko}", f"/cases/{petrenko}/chart.png", f"/cases/{petrenko}/nachweis.pdf",
                 "/cases/999999", "/cases/abc"):
        page = jana.get(path)
        assert page.status_code == 404 and "Olga" not in page.text and "Petrenko" not in page.text, path
    own = jana.get(f"/cases/{case_id(served, 'Familie Yılmaz')}/nachweis.pdf?month=2027-02")
    assert own.status_code == 200 and own.content.startswith(b"%PDF")  # her own case's Nachweisblatt
    jana.get("/")
    # a form of her own case's page, aimed at the other case's visit: the path-bound token does not fit,
    # and with a token made for that very path (she cannot get one) the rule still says no
    mine = plan_visit(served, berlin(2027, 2, 24, 10, 0))
    jana.get(f"/cases/{case_id(served, 'Familie Yılmaz')}")
    token = jana.csrf(f"/appointments/{mine}/outcome")
    for csrf in (token, None):
        response = jana.post(f"/appointments/{visit}/outcome", {"outcome": "no_show"}, csrf=csrf)
        assert response.status_code in (403, 404) and "Petrenko" not in response.text
    with served.sessions() as session:
        assert session.get(Appointment, visit).outcome == "planned"


def test_a_complaint_about_the_officer_herself_never_shows(web, staff_bot, codes):
    served, base = web
    with served.sessions.begin() as session:
        kerstin = session.scalar(select(StaffMember).where(StaffMember.name == "Kerstin Braun"))
        org = kerstin.organisation_id
        complaint = Complaint(status="new", organisation_id=org, category="staff", about_staff_id=kerstin.id,
                              leitung_only=True, anonymous=True, reference="B-2027-0009",
                              created_at=served.services.clock.now(), submitted_at=served.services.clock.now())
        session.add(complaint)
        session.flush()
        complaint_id = complaint.id
    officer = signed_in(staff_bot, base, "kerstin", codes["Kerstin"])
    assert "B-2027-0009" not in officer.get("/complaints?status=").text
    page = officer.get(f"/complaints/{complaint_id}")
    assert page.status_code == 404 and "B-2027-0009" not in page.text
    officer.get("/")
    assert officer.post(f"/complaints/{complaint_id}/take", csrf=officer.csrf("/signout")).status_code == 403
    with served.sessions() as session:
        assert session.get(Complaint, complaint_id).officer_id is None
        reads = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "complaint",
                                                         AuditEvent.object_id == str(complaint_id))).all()
        assert reads == []  # refused requests leave no read behind (only the refusal itself)


def test_a_missing_or_replayed_token_records_nothing(web, staff_bot, codes, clock):
    served, base = web
    visit = plan_visit(served, berlin(2027, 3, 2, 10, 0))
    clock.set(berlin(2027, 3, 2, 13, 0))
    jana = signed_in(staff_bot, base, "jana", codes["Jana"])
    jana.get(f"/cases/{case_id(served, 'Familie Yılmaz')}")
    good = jana.csrf(f"/appointments/{visit}/outcome")
    other_form = jana.csrf("/signout")
    for csrf in (None, other_form, good[:-1] + ("0" if good[-1] != "0" else "1")):
        response = jana.post(f"/appointments/{visit}/outcome", {"outcome": "no_show"}, csrf=csrf)
        assert response.status_code == 403
    jana.get("/")
    jana.post("/signout")
    jana.sign_in(link_in(staff_bot.chat("jana").say("/web")))  # a new session: the old token is worthless
    response = jana.post(f"/appointments/{visit}/outcome", {"outcome": "no_show"}, csrf=good)  # old session's
    assert response.status_code == 403
    with served.sessions() as session:
        assert session.get(Appointment, visit).outcome == "planned"


def test_a_deactivated_persons_old_session_can_do_nothing(web, staff_bot, codes, clock):
    served, base = web
    visit = plan_visit(served, berlin(2027, 3, 2, 10, 0))
    clock.set(berlin(2027, 3, 2, 13, 0))
    jana = signed_in(staff_bot, base, "jana", codes["Jana"])
    yilmaz = case_id(served, "Familie Yılmaz")
    jana.get(f"/cases/{yilmaz}")
    token = jana.csrf(f"/appointments/{visit}/outcome")
    with served.sessions.begin() as session:
        session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber")).active = False
    response = jana.post(f"/appointments/{visit}/outcome", {"outcome": "no_show"}, csrf=token)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")
    page = jana.get(f"/cases/{yilmaz}")
    assert page.status_code == 303 and "Ayşe" not in page.text
    with served.sessions() as session:
        assert session.get(Appointment, visit).outcome == "planned"
