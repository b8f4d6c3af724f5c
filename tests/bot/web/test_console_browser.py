"""The staff console in a real browser (Debian's chromium through Playwright): the role walks.

Screenshots of every page go to ``test-artifacts/console/`` (not committed).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import App
from conversations.clock import berlin
from storage.models import Case, Escalation, ExtraHoursRequest
from tests.bot.test_telegram import shared_standin, standin, tg_app  # noqa: F401  (fixtures)
from tests.bot.web.conftest import link_in, shot, sign_in, web_link
from tests.support.web import serving

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_jana_signs_in_with_the_link_from_her_chat_using_only_the_keyboard(web, staff_bot, codes, page):
    served, base = web
    link = await web_link(staff_bot, "jana", codes["Jana"])
    await page.goto(base + "/")
    assert "/signin" in page.url
    await shot(page, "signin")
    await page.goto(link)
    await shot(page, "signin-link")
    await page.keyboard.press("Tab")  # skip link
    await page.keyboard.press("Tab")  # the brand
    await page.keyboard.press("Tab")  # the button
    await page.keyboard.press("Enter")
    await page.wait_for_url(base + "/")
    assert await page.get_by_role("heading", level=1).inner_text() == "Schön, dass Sie da sind, Jana Weber"
    await shot(page, "home-jana")

    await page.goto(link)  # the same link again: used up
    assert "funktioniert nicht mehr" in await page.get_by_role("heading", level=1).inner_text()

    await page.goto(base + "/")
    await page.get_by_role("button", name="Abmelden", exact=True).click()
    await page.wait_for_url("**/signin?**")
    assert "Sie sind abgemeldet" in await page.get_by_role("status").inner_text()
    await shot(page, "signed-out")


async def test_the_sign_in_page_in_arabic_reads_right_to_left(web, page):
    served, base = web
    await page.goto(base + "/signin?lang=ar")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    await shot(page, "signin-ar")
    assert sign_in  # imported for the role walks


# --- Beschwerdestelle: Kerstin closes Olga's complaint; Olga reads the answer on Telegram -------------------
async def test_kerstin_closes_a_complaint_in_the_browser_and_olga_gets_the_answer_on_telegram(
        tg_app, standin, codes, page):  # noqa: F811
    from tests.bot.test_complaints_telegram import shows
    from tests.bot.test_telegram import link as tg_link
    from tests.bot.test_telegram import serving as tg_serving
    from tests.conversations.test_complaints import ABOUT_STAFF

    olga, kerstin, tobias = 5301, 5302, 5303
    with serving(tg_app) as (served, base):
        async with tg_serving(served):
            for chat, who in ((kerstin, "Kerstin"), (tobias, "Tobias"), (olga, "Olga")):
                await tg_link(standin, chat, codes[who])
            standin.say(olga, "/beschwerde")
            await shows(standin, olga, "Worüber")
            standin.press(olga, ABOUT_STAFF)
            await shows(standin, olga, "Um wen geht es?")
            standin.press(olga, "Tobias Klein")
            await shows(standin, olga, "Bitte erzählen Sie")
            standin.say(olga, "Herr Klein kommt oft zu spät und hört mir nicht zu.")
            await shows(standin, olga, "Danke, das habe ich aufgenommen")
            standin.press(olga, "Das ist alles")
            await shows(standin, olga, "Anonym heißt")
            standin.press(olga, "Anonym")
            await shows(standin, olga, "Möchten Sie eine Antwort?")
            standin.press(olga, "Ja, hier im Chat")
            await shows(standin, olga, "Bitte prüfen Sie")
            standin.press(olga, "Abschicken")
            await shows(standin, olga, "Ihr Zeichen")

            before = len(standin.texts(kerstin))
            standin.say(kerstin, "/web")
            link = link_in([await shows(standin, kerstin, "/signin/", before)])
            await sign_in(page, link)
            await page.get_by_role("link", name="Beschwerden").first.click()
            await page.wait_for_url("**/complaints")
            row = page.get_by_role("row").filter(has_text="B-2027-0001")
            assert "anonym" in await row.inner_text() and "Petrenko" not in await page.content()
            await shot(page, "complaints-queue")
            await row.get_by_role("link").click()
            await page.wait_for_url("**/complaints/*")
            assert "kommt oft zu spät" in await page.content()
            await page.get_by_role("button", name="Übernehmen").click()
            await page.get_by_text("Sie bearbeiten diese Beschwerde jetzt").wait_for()
            await shows(standin, olga, "ist aufgenommen")
            await page.get_by_text("Abschließen", exact=True).click()
            await page.get_by_label("Ergebnis").select_option(label="teilweise berechtigt")
            await page.get_by_label("Was wurde getan?").fill(
                "Wir haben mit Herrn Klein gesprochen; er kommt ab jetzt pünktlich.")
            await shot(page, "complaint-close")
            await page.get_by_role("button", name="Beschwerde abschließen").click()
            await page.get_by_text("Die Beschwerde ist abgeschlossen").wait_for()
            await shot(page, "complaint-closed")
            closed = await shows(standin, olga, "ist jetzt abgeschlossen")
            assert "er kommt ab jetzt pünktlich" in closed


# --- Fachkraft: Jana records that a visit took place, and the month's hours change ----------------------------
def plan_visit(served, when, hours: float = 2.0) -> int:  # type: ignore[no-untyped-def]
    """The Yılmaz case with a budget of 20 h in March 2027 and one home visit at ``when``."""
    from datetime import date

    from conversations import admin, appointments, budget
    from conversations.admin import Actor

    with served.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        budget.set_budget(session, Actor("test"), served.services.clock.now(), case, 20 * 60, date(2027, 3, 1))
        visit = appointments.create_appointment(session, served.services, Actor("test"), case, "hausbesuch", when,
                                                int(hours * 60), admin.team(case), appointments.default_members(case))
        return visit.id


async def test_jana_records_a_visit_and_the_budget_changes(web, staff_bot, codes, page, clock):
    served, base = web
    plan_visit(served, berlin(2027, 3, 2, 10, 0))
    clock.set(berlin(2027, 3, 2, 13, 0))
    await sign_in(page, await web_link(staff_bot, "jana", codes["Jana"]))
    await page.get_by_role("link", name="Meine Fälle").first.click()
    await page.wait_for_url("**/cases")
    await shot(page, "cases")
    await page.get_by_role("link", name="Familie Yılmaz").click()
    await page.wait_for_url("**/cases/*")
    statement = page.locator("#statement")
    assert "Verbraucht: 0 Std. (0 %)" in await statement.inner_text()
    row = page.get_by_role("row").filter(has_text="Hausbesuch")
    await row.get_by_label("Was passiert ist").select_option("took_place")
    await row.get_by_label("Stunden").fill("2,5")
    await row.get_by_role("button", name="Eintragen").click()
    await page.get_by_role("status").filter(has_text="Eingetragen. Die Stunden").wait_for()
    assert "Verbraucht: 2,5 Std. (12 %)" in await page.locator("#statement").inner_text()
    assert "fand statt, 2,5 Std." in await page.get_by_role("row").filter(has_text="Hausbesuch").inner_text()
    chart = page.get_by_role("img", name=re.compile("Diagramm der Stunden"))
    width = await chart.evaluate("""img => img.complete ? img.naturalWidth : new Promise(done => {
        img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); })""")
    assert width > 0  # the chart is drawn
    await shot(page, "case")


# --- Leitung: a new alert appears while the overview is open; she marks it handled ----------------------------
async def test_the_leitung_sees_a_new_alert_appear_and_marks_it_handled(web, staff_bot, codes, page, monkeypatch):
    from bot.web.console import overview

    monkeypatch.setattr(overview, "REFRESH_SECONDS", 1)
    served, base = web
    emre = await asyncio.to_thread(staff_bot.link, "emre", codes["Emre"])
    await sign_in(page, await web_link(staff_bot, "martina", codes["Martina"]))
    await page.goto(base + "/overview")
    assert "Nichts ist offen" in await page.locator("#open-alerts").inner_text()
    await asyncio.to_thread(emre.say, "ich halt das zuhause nicht mehr aus")
    alert = page.locator("#open-alerts .entry.alert")
    await alert.wait_for(timeout=15_000)  # the section refreshes by itself
    assert "ich halt das zuhause nicht mehr aus" in await alert.inner_text()
    await shot(page, "overview")
    await alert.get_by_label("Notiz (freiwillig)").fill("Mit Emre telefoniert, Jana fährt morgen hin.")
    await alert.get_by_role("button", name="Als erledigt markieren").click()
    await page.get_by_role("status").filter(has_text="Alle, die Bescheid bekommen hatten").wait_for()
    assert "Nichts ist offen" in await page.locator("#open-alerts").inner_text()
    with served.sessions() as session:
        escalation = session.scalar(select(Escalation))
        assert escalation.acknowledged_via == "console" and escalation.acknowledger.name == "Martina Hoffmann"
        assert escalation.note == "Mit Emre telefoniert, Jana fährt morgen hin."


# --- Jugendamt: Frau Dr. Schulz confirms extra hours from the link in her email ------------------------------
async def test_frau_dr_schulz_confirms_extra_hours_from_her_email_link(app, codes, page, clock):
    from bot.channels.email import EmailTransport
    from bot.outbox import ChannelSender
    from tests.support.smtp import smtp_mailbox

    mailbox = smtp_mailbox()
    mail_settings = replace(app.settings, smtp_host=mailbox.host, smtp_port=mailbox.port, smtp_starttls=False)
    mail_app = App(settings=mail_settings, db=app.db, services=replace(app.services, settings=mail_settings),
                   engine=app.engine)
    schulz = "k.schulz@jugendamt.example"
    with serving(mail_app) as (served, base):
        plan_visit(served, berlin(2027, 3, 2, 10, 0), hours=19)
        plan_visit(served, berlin(2027, 3, 9, 10, 0), hours=2)  # one hour beyond the 20 h of March
        sender = ChannelSender(served.sessions, clock, EmailTransport(served.settings, clock))
        while await sender.deliver_due():
            pass
        body = mailbox.only(schulz).get_body(("plain",)).get_content()
        link = re.search(r"https?://\S+/approve-hours/\S+", body).group()
        await page.goto(link)
        assert "1 Std." in await page.locator("main").inner_text()
        await shot(page, "email-link-extra-hours")
        await page.get_by_role("button", name="Zusätzliche Stunden bestätigen").click()
        await page.get_by_text("sind bestätigt").wait_for()
        await shot(page, "email-link-confirmed")
        with served.sessions() as session:
            request = session.scalar(select(ExtraHoursRequest))
            assert request.status == "approved" and request.decided_by is not None

        # She has no messenger: she signs in to the console with a link by email.
        mailbox.clear()
        await page.goto(base + "/signin")
        await page.get_by_label("Dienstliche E-Mail-Adresse").fill(schulz)
        await page.get_by_role("button", name="Anmelde-Link schicken").click()
        await page.get_by_role("status").wait_for()
        while await sender.deliver_due():
            pass
        await sign_in(page, link_in([mailbox.only(schulz).get_body(("plain",)).get_content()]))
        await page.get_by_role("link", name="Meine Fälle beim Jugendamt").first.click()
        await page.wait_for_url("**/jugendamt")
        assert "Nichts wartet auf Sie" in await page.locator("main").inner_text()
        await shot(page, "jugendamt")


# --- Gesprächsführung: Sabine reads both views side by side and records the evaluation -------------------------
async def test_sabine_reads_the_views_side_by_side_and_records_the_evaluation(web, staff_bot, codes, page, clock):
    from conversations.admin import Actor
    from conversations.milestone import core
    from storage.models import (
        FamilyMember,
        MilestoneAction,
        MilestoneEvaluation,
        MilestoneResponse,
        StaffMember,
    )

    served, base = web
    ops = Actor("test")
    with served.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        now = served.services.clock.now()
        goal = core.add_goal(session, ops, now, case, "Emre geht jeden Tag zur Schule", "richtungsziel")
        sabine = session.scalar(select(StaffMember).where(StaffMember.name == "Sabine Roth"))
        ms = core.create_milestone(session, ops, now, case, berlin(2027, 4, 14, 10, 0), sabine, services=served.services)
        ayse = session.scalar(select(FamilyMember).where(FamilyMember.first_name == "Ayşe"))
        jana = session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber"))
        for person, version, said in ((ayse, "adult", "Emre geht wieder fast jeden Tag, das ist gut."),
                                      (jana, "staff", "Emre fehlt noch oft montags.")):
            response = MilestoneResponse(milestone=ms, version=version, invited_at=now, submitted_at=now,
                                         **({"member_id": person.id} if version == "adult" else {"staff_id": person.id}))
            core.set_answer(response, f"goal:{goal.id}", text=said)
            session.add(response)
    await asyncio.to_thread(staff_bot.link, "sabine", codes["Sabine"])  # her chat, linked in March
    clock.set(berlin(2027, 4, 14, 12, 0))  # the talk is over
    await sign_in(page, await web_link(staff_bot, "sabine"))
    await page.get_by_role("link", name="Meilensteingespräche").first.click()
    await page.wait_for_url("**/milestones")
    await page.get_by_role("link", name=re.compile("14. April 2027")).click()
    await page.wait_for_url("**/milestones/*")
    row = page.get_by_role("row").filter(has_text="Emre geht jeden Tag zur Schule")
    cells = await row.get_by_role("cell").all_inner_texts()
    assert "fast jeden Tag" in cells[0] and "fehlt noch oft" in cells[1]  # family | Fachkräfte, side by side
    await page.get_by_label("Keine Anzeichen").check()
    await page.get_by_label("Blinde Flecken").fill("Die Schulangst von Emre war bisher kaum Thema.")
    await page.get_by_label("Was vereinbart wurde").first.fill("Gespräch mit der Schule über Emre")
    await page.get_by_label("Wer kümmert sich").first.select_option(label="Jana Weber")
    await page.get_by_label("Bis wann?").first.fill("2027-04-28")
    await shot(page, "milestone")
    await page.get_by_role("button", name="Auswertung speichern").click()
    await page.get_by_role("status").filter(has_text="Auswertung ist gespeichert").wait_for()
    assert "Die Schulangst von Emre" in await page.locator("main").inner_text()
    with served.sessions() as session:
        evaluation = session.scalar(select(MilestoneEvaluation))
        assert evaluation.child_protection_signs is False and "Schulangst" in evaluation.blind_spots
        action = session.scalar(select(MilestoneAction))
        assert action.assignee.name == "Jana Weber" and str(action.due_on) == "2027-04-28"


# --- a tablet in portrait: every page fits its width (no sideways scrolling but inside a wide table) ---------
async def test_the_pages_fit_a_tablet(web, staff_bot, codes, chromium):
    served, base = web
    context = await chromium.new_context(viewport={"width": 768, "height": 1024}, locale="de-DE")
    tablet = await context.new_page()
    try:
        await sign_in(tablet, await web_link(staff_bot, "martina", codes["Martina"]))
        for path in ("/", "/overview", "/complaints", f"/cases/{case_id(served)}"):
            await tablet.goto(base + path)
            wide = await tablet.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
            assert not wide, path
        await shot(tablet, "tablet-case")
    finally:
        await context.close()


def case_id(served) -> int:  # type: ignore[no-untyped-def]
    with served.sessions() as session:
        return session.scalar(select(Case.id).where(Case.title == "Familie Yılmaz"))
