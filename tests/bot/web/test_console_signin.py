"""Signing in to the staff console without passwords, and what keeps a session honest.

HTTP-level: the same requests a browser sends (the browser walks are in test_console_browser.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from storage.models import AuditEvent, OutboxMessage, StaffMember
from storage.models.console import ConsoleSession
from tests.bot.web.conftest import link_in, signed_in
from tests.support.web import Browser


def test_web_in_the_chat_sends_a_link_that_signs_in_once(web, staff_bot, codes):
    served, base = web
    jana = staff_bot.link("jana", codes["Jana"])
    answer = jana.say("/web")
    assert any("10 Minuten" in t for t in answer)
    link = link_in(answer)

    browser = Browser(base)
    assert browser.get("/").status_code == 303  # not signed in: to the sign-in page
    page = browser.get(link.removeprefix(base))
    assert page.status_code == 200 and "Anmelden" in page.text  # GET only shows a button (link previews)
    assert browser.get(link.removeprefix(base)).status_code == 200  # ... and does not use the link up
    browser.sign_in(link)
    home = browser.get("/")
    assert home.status_code == 200 and "Jana Weber" in home.text

    again = Browser(base)  # the same link a second time, in another browser
    assert again.get(link.removeprefix(base)).status_code == 403
    again.get("/signin")
    assert again.post(link.removeprefix(base), csrf=again.csrf("/signin")).status_code == 403
    assert again.get("/").status_code == 303


def test_the_session_cookie_is_httponly_and_same_site_strict(web, staff_bot, codes):
    served, base = web
    chat = staff_bot.link("kerstin", codes["Kerstin"])
    browser = Browser(base)
    link = link_in(chat.say("/web")).removeprefix(base)
    browser.get(link)
    response = browser.post(link)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("wb_console="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1; behind https (PUBLIC_BASE_URL) it is Secure


def test_a_link_expires_after_ten_minutes(web, staff_bot, codes, clock):
    served, base = web
    link = link_in(staff_bot.link("jana", codes["Jana"]).say("/web"))
    clock.advance(timedelta(minutes=10, seconds=1))
    browser = Browser(base)
    page = browser.get(link.removeprefix(base))
    assert page.status_code == 403 and "funktioniert nicht mehr" in page.text


def test_the_email_form_answers_the_same_for_known_and_unknown_addresses(web, codes):
    served, base = web
    answers = []
    for address in ("k.schulz@jugendamt.example", "nobody@example.org"):
        browser = Browser(base)
        browser.get("/signin")
        response = browser.post("/signin", {"email": address})
        assert response.status_code == 303
        page = browser.get(response.headers["location"]).text
        answers.append((response.headers["location"], re.sub(r'name="csrf" value="[^"]+"', "", page)))
    assert answers[0] == answers[1]
    with served.sessions() as session:
        mails = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email",
                                                            OutboxMessage.kind == "console.sign_in")).all()
        assert [m.address for m in mails] == ["k.schulz@jugendamt.example"]
        assert "/signin/" in mails[0].text


def test_the_email_form_needs_its_csrf_token(web, codes):
    served, base = web
    browser = Browser(base)
    browser.get("/signin")
    response = browser.post("/signin", {"email": "k.schulz@jugendamt.example"}, csrf=None)
    assert "form_expired" in response.headers["location"]
    with served.sessions() as session:
        assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "console.sign_in")) is None


def test_sign_out_ends_the_session_and_everywhere_ends_them_all(web, staff_bot, codes):
    served, base = web
    first = signed_in(staff_bot, base, "jana", codes["Jana"])
    second = Browser(base)
    second.sign_in(link_in(staff_bot.chat("jana").say("/web")))
    first.get("/")
    assert first.post("/signout/everywhere").status_code == 303
    assert first.get("/").status_code == 303 and second.get("/").status_code == 303
    third = Browser(base)
    third.sign_in(link_in(staff_bot.chat("jana").say("/web")))
    third.get("/")
    third.post("/signout")
    assert third.get("/").status_code == 303


def test_an_idle_session_ends(web, staff_bot, codes, clock):
    served, base = web
    browser = signed_in(staff_bot, base, "jana", codes["Jana"])
    clock.advance(timedelta(minutes=29))
    assert browser.get("/").status_code == 200  # a click keeps it alive
    clock.advance(timedelta(minutes=29))
    assert browser.get("/").status_code == 200
    clock.advance(timedelta(minutes=31))
    response = browser.get("/")
    assert response.status_code == 303 and "signed_out" in response.headers["location"]


def test_a_deactivated_person_loses_her_session_at_once(web, staff_bot, codes):
    served, base = web
    browser = signed_in(staff_bot, base, "jana", codes["Jana"])
    assert browser.get("/").status_code == 200
    with served.sessions.begin() as session:
        session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber")).active = False
    response = browser.get("/")
    assert response.status_code == 303 and "Jana" not in response.text
    with served.sessions() as session:
        assert session.scalar(select(ConsoleSession)).ended_at is not None


def test_a_post_without_or_with_another_forms_csrf_token_changes_nothing(web, staff_bot, codes):
    served, base = web
    browser = signed_in(staff_bot, base, "jana", codes["Jana"])
    browser.get("/")
    for token in (None, browser.csrf("/signout"), "0" * 64):
        response = browser.post("/signout/everywhere", csrf=token)
        assert response.status_code == 403 and "Jana" not in response.text
    assert browser.get("/").status_code == 200  # still signed in: nothing happened
    with served.sessions() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "console.refused")).all()
        assert len(refused) == 3 and {e.detail["reason"] for e in refused} == {"csrf"}


def test_a_token_from_an_earlier_session_is_refused(web, staff_bot, codes):
    served, base = web
    browser = signed_in(staff_bot, base, "jana", codes["Jana"])
    browser.get("/")
    old = browser.csrf("/signout/everywhere")
    browser.post("/signout")
    browser.sign_in(link_in(staff_bot.chat("jana").say("/web")))
    assert browser.post("/signout/everywhere", csrf=old).status_code == 403
    assert browser.get("/").status_code == 200
