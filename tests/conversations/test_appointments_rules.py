"""Appointments and the budget in the running system: approvals, warnings, crisis reports, reminders that
survive restarts, buttons of other families, outcome listeners and the family's objection to the Nachweis."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import run_all
from conversations import admin, budget
from conversations import appointments as appts
from conversations.clock import berlin
from conversations.registry import REGISTRY
from storage.models import Appointment, Case, ExtraHoursRequest, NachweisConfirmation, OutboxMessage


def yilmaz(session) -> Case:  # type: ignore[no-untyped-def]
    return session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))


def add(app, start, minutes=120, kind="hausbesuch"):  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        case = yilmaz(session)
        jana = admin.team(case)[0]
        return appts.create_appointment(session, app.services, jana, case, kind, start, minutes, [jana],
                                        appts.default_members(case)).id


def outbox(app, kind: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


@pytest.fixture
def linked(bot, codes, app, clock):  # type: ignore[no-untyped-def]
    chats = {name: bot.link(name.lower(), codes[name], "English") for name in ("Jana", "Ayşe", "Olga")}
    with app.sessions.begin() as session:
        budget.set_budget(session, "cli", clock.now(), yilmaz(session), 4 * 60, date(2027, 3, 1))
    return chats


def test_hours_beyond_the_budget_wait_for_the_fallfuehrende_fachkraft(app, linked, bot, codes):
    add(app, berlin(2027, 3, 2, 10))
    add(app, berlin(2027, 3, 9, 10))
    assert outbox(app, "budget.over") == []
    jana = linked["Jana"]
    jana.receive()
    jana.say("/appointment")
    jana.press("Home visit")
    jana.say("16.03.2027")
    jana.say("10:00")
    jana.say("1,5")
    assert "goes beyond the budget for that month (0 h left)" in "\n".join(jana.press("Once"))
    warning = "\n".join(jana.press("Yes, enter it"))  # 5.5 h planned against 4 h
    assert "goes beyond the budget" in warning and "by 1.5 h" in warning
    mail = outbox(app, "budget.approval")
    assert [m.channel for m in mail] == ["email"] and mail[0].choices[0]["payload"].startswith("act:approve_hours:")
    # Jana cannot approve her own extra hours; Dr. Schulz can, by the link in her email (GET asks, POST
    # confirms, as the web endpoint calls it), or by the button in a chat; a second time changes nothing.
    with app.sessions.begin() as session:
        request = session.scalar(select(ExtraHoursRequest))
        with pytest.raises(admin.AdminError):
            budget.approve_extra_hours(session, app.services, request.id, admin.team(yilmaz(session))[0].id)
        assert budget.approve_by_link(session, app.services, request.id, mail[0].id + 1, confirm=True) is None
        page = budget.approve_by_link(session, app.services, request.id, mail[0].id, confirm=False)
        assert page.button == "Zusätzliche Stunden bestätigen" and request.status == "pending"
        page = budget.approve_by_link(session, app.services, request.id, mail[0].id, confirm=True)
        assert "sind bestätigt" in page.text and page.button is None and request.status == "approved"
    schulz = bot.link("schulz", codes["Schulz"], "English")
    assert "are confirmed" in "\n".join(schulz.say(payload=f"act:approve_hours:{request.id}"))
    assert "confirmed 1.5 h extra" in "\n".join(linked["Jana"].receive())
    with app.sessions() as session:
        stmt = budget.case_statement(session, yilmaz(session), budget.Month(2027, 3))
        assert stmt.allowed_minutes == 5.5 * 60


def test_thresholds_warn_once_and_a_crisis_over_budget_is_reported(app, linked, clock):
    first = add(app, berlin(2027, 3, 2, 10), 200)
    crisis = add(app, berlin(2027, 3, 3, 22), 60, "krisenintervention")
    assert outbox(app, "budget.over") == [] or all("Crisis" not in m.text for m in outbox(app, "budget.over"))
    clock.set(berlin(2027, 3, 4, 8, 30))  # both have taken place (the outcomes may only be recorded then)
    with app.sessions.begin() as session:
        appts.record_outcome(session, app.services, "cli", session.get(Appointment, first), "took_place", 200)
    assert "83 %" in "\n".join(linked["Jana"].receive())  # 200 of 240 min
    with app.sessions.begin() as session:
        appts.record_outcome(session, app.services, "cli", session.get(Appointment, crisis), "took_place", 90)
        appts.record_outcome(session, app.services, "cli", session.get(Appointment, crisis), "took_place", 90)
    texts = "\n".join(linked["Jana"].receive())
    assert texts.count("has used 120 %") == 1  # the 100 % warning, once; the 80 % one is not repeated
    assert len(outbox(app, "budget.threshold")) == 2
    report = outbox(app, "budget.crisis")
    assert len(report) == 1 and report[0].address == "k.schulz@jugendamt.example"
    assert "Meldung einer Krisenintervention" in report[0].text and report[0].next_attempt_at == clock.now()


def test_a_weekly_load_over_48_hours_warns_the_fachkraft(app, linked):
    for day in (8, 9, 10, 11):
        add(app, berlin(2027, 3, day, 8), 12 * 60)
    assert outbox(app, "budget.weekly_load") == []
    add(app, berlin(2027, 3, 12, 8), 60)
    assert "more than the 48 hours" in "\n".join(linked["Jana"].receive())


def test_reminders_after_a_restart_are_sent_once_and_only_while_ahead(app, linked, clock):
    ayse = linked["Ayşe"]
    early = add(app, berlin(2027, 3, 4, 9, 0), 60)  # Thursday 09:00
    later = add(app, berlin(2027, 3, 5, 14, 0), 60)  # Friday 14:00
    ayse.receive()
    # Down from Monday until Thursday 10:00: Thursday's visit is over, so no late reminder for it;
    # Friday's "two days before" and "morning of" moments passed: only the newest (none yet: 08:00 Friday
    # is ahead), so the two-days reminder goes out late, once.
    clock.set(berlin(2027, 3, 4, 10, 0))
    run_all(app.services)
    run_all(app.services)
    got = ayse.receive()
    assert len(got) == 1 and "Friday, March 5, 2027" in got[0]
    clock.set(berlin(2027, 3, 5, 8, 0))
    run_all(app.services)
    assert "today is your appointment" in ayse.receive()[0]
    run_all(app.services)
    assert ayse.receive() == []
    with app.sessions() as session:
        keys = [m.dedupe_key for m in session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "appointment.reminder"))]
    assert len(keys) == 2 and not any(f"remind:{early}:" in k for k in keys)
    assert all(f"remind:{later}:" in k for k in keys)


def test_a_button_of_another_family_changes_nothing(app, linked):
    visit = add(app, berlin(2027, 3, 9, 10))
    olga = linked["Olga"]
    for action in ("appt_confirm", "appt_cancel", "appt_move"):
        assert "no longer valid" in olga.say(payload=f"act:{action}:{visit}")[0]
    linked["Ayşe"].receive()
    assert "no longer valid" in linked["Ayşe"].say(payload=f"act:appt_outcome:{visit}:no_show")[0]  # family ≠ staff
    with app.sessions() as session:
        appointment = session.get(Appointment, visit)
        assert appointment.outcome == "planned" and appointment.confirmed_at is None


def test_listeners_hear_every_outcome_also_a_family_cancellation(app, linked, clock, monkeypatch):
    heard: list[str] = []
    monkeypatch.setattr(REGISTRY, "outcome_listeners",
                        [*REGISTRY.outcome_listeners, lambda s, services, a: heard.append(a.outcome)])
    visit = add(app, berlin(2027, 3, 9, 10))
    ayse = linked["Ayşe"]
    ayse.say(payload=f"act:appt_cancel:{visit}")
    ayse.press("Cancel without a reason")
    assert heard == ["cancelled_by_family"]
    clock.set(berlin(2027, 3, 9, 10))
    with app.sessions.begin() as session:
        appts.record_outcome(session, app.services, "cli", session.get(Appointment, visit), "no_show")
    assert heard == ["cancelled_by_family", "no_show"]


def test_the_family_can_say_the_nachweis_is_wrong(app, linked, clock):
    visit = add(app, berlin(2027, 3, 9, 10))
    clock.set(berlin(2027, 3, 9, 12, 30))
    with app.sessions.begin() as session:
        appts.record_outcome(session, app.services, "cli", session.get(Appointment, visit), "took_place", 150)
    linked["Ayşe"].receive()
    clock.set(berlin(2027, 4, 1, 7, 59))  # quiet hours: not yet
    run_all(app.services)
    assert linked["Ayşe"].receive() == []
    clock.set(berlin(2027, 4, 1, 8, 0))
    run_all(app.services)
    ayse = linked["Ayşe"]
    ayse.receive()
    ayse.press("Something is wrong")
    assert "passed it on" in ayse.say("Am 9. März waren es nur 2 Stunden")[0]
    assert "are not right: Am 9. März" in "\n".join(linked["Jana"].receive())
    assert "already been answered" in ayse.press("All right")[0]
    with app.sessions() as session:
        conf = session.scalar(select(NachweisConfirmation))
        assert conf.status == "disputed" and conf.remark == "Am 9. März waren es nur 2 Stunden"
    sent = outbox(app, "nachweis")
    assert len(sent) == 1 and "dass etwas nicht stimmt: Am 9. März" in sent[0].text
    clock.advance(timedelta(days=1))
    run_all(app.services)
    assert len(outbox(app, "nachweis.question")) == 1  # asked once per month


def test_a_wish_for_another_date_is_answered_by_moving_the_appointment(app, linked, clock):
    visit = add(app, berlin(2027, 3, 9, 10))
    ayse, jana = linked["Ayşe"], linked["Jana"]
    ayse.receive()
    ayse.say(payload=f"act:appt_move:{visit}")
    assert "passed your wish on to Jana Weber" in "\n".join(ayse.say("Donnerstag nachmittags"))
    request = "\n".join(jana.receive())
    assert "asks for another date" in request and "Their wish: Donnerstag nachmittags" in request
    jana.press("Move the appointment")
    jana.say("11.03.2027")
    assert "Moved to Home visit: Thursday, March 11, 2027" in "\n".join(jana.say("15:00"))
    moved = ayse.receive()
    assert moved and "Your appointment has changed" in moved[0]
    ics = ayse.seen[-1].attachments[0].data
    assert b"SEQUENCE:1" in ics and b"DTSTART:20270311T140000Z" in ics and b"METHOD:REQUEST" in ics


def test_crisis_interventions_need_no_signature_unless_the_organisation_wants_it(app, linked, clock):
    from conversations import nachweis
    from conversations.rules.billing import Month

    crisis = add(app, berlin(2027, 3, 3, 22), 60, "krisenintervention")
    visit = add(app, berlin(2027, 3, 9, 10))
    clock.set(berlin(2027, 3, 9, 12))
    with app.sessions.begin() as session:
        for ident in (crisis, visit):
            appts.record_outcome(session, app.services, "cli", session.get(Appointment, ident), "took_place")
        case = yilmaz(session)
        assert [a.id for a in nachweis.to_confirm(session, case, Month(2027, 3))] == [visit]
        case.organisation.settings = {**case.organisation.settings, "nachweis_crisis_exempt": False}
        session.flush()
        assert [a.id for a in nachweis.to_confirm(session, case, Month(2027, 3))] == [crisis, visit]


def test_my_data_lists_my_appointments_and_not_those_of_others(app, linked):
    add(app, berlin(2027, 3, 9, 10))
    ayse, olga = linked["Ayşe"], linked["Olga"]
    ayse.receive()
    ayse.say("/my_data")
    export = json.loads(next(m for m in reversed(ayse.seen) if m.attachments).attachments[0].data)
    assert [a["starts_at"][:10] for a in export["appointments"]] == ["2027-03-09"]
    olga.say("/my_data")
    export = json.loads(next(m for m in reversed(olga.seen) if m.attachments).attachments[0].data)
    assert export["appointments"] == []


def test_the_link_in_the_approval_email_confirms_through_the_web_endpoint(app, linked):
    import asyncio
    from urllib.parse import urlsplit

    from aiohttp.test_utils import TestClient, TestServer

    from bot import web

    for day in (2, 9, 16):  # 6 h planned against a budget of 4 h
        add(app, berlin(2027, 3, day, 10))
    mail = outbox(app, "budget.approval")[0]
    link = web.link_for("http://127.0.0.1:9", mail.choices[0]["payload"], mail.id)
    path = urlsplit(link).path + "?" + urlsplit(link).query

    async def open_link() -> list[tuple[int, str]]:
        async with TestClient(TestServer(web.make_app(app), host="127.0.0.1")) as client:
            pages = []
            for method, target in (("GET", path), ("POST", path), ("GET", path.replace("sig=", "sig=x"))):
                response = await client.request(method, target)
                pages.append((response.status, await response.text()))
            return pages

    with app.sessions() as session:
        assert session.scalar(select(ExtraHoursRequest)).status == "pending"
    asked, confirmed, forged = asyncio.run(open_link())
    assert asked[0] == 200 and "<button" in asked[1]  # the page asks; only the button's POST confirms
    assert confirmed[0] == 200 and "bestätigt" in confirmed[1]
    assert forged[0] == 403
    with app.sessions() as session:
        assert session.scalar(select(ExtraHoursRequest)).status == "approved"
