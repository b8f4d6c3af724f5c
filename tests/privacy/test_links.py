"""Signed links in emails, over real HTTP: they expire, work once, refuse another website's POST, and
answer 403 (never 500) to anything malformed.

Frau Dr. Schulz (Jugendamt, email only) gets the email about three appointments without the family
(SCENARIOS.md, March 2027) with a link to acknowledge it; the server runs on 127.0.0.1, the email goes
through a real SMTP server.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.app import App
from bot.channels.email import EmailTransport
from bot.outbox import ChannelSender
from storage import crypto
from storage.models import LinkUse
from tests.conftest import with_settings
from tests.conversations.test_escalation import SCHULZ, escalations, three_misses, weekly_visits
from tests.support.smtp import Mailbox, smtp_mailbox
from tests.support.web import serving


@pytest.fixture
def mailbox() -> Mailbox:
    return smtp_mailbox()


def served_with_mail(app: App, mailbox: Mailbox, **changes: object):  # type: ignore[no-untyped-def]
    changed = with_settings(app, smtp_host=mailbox.host, smtp_port=mailbox.port, smtp_starttls=False, **changes)
    return serving(changed)


def emailed_ack_link(app: App, base: str, mailbox: Mailbox) -> str:
    """The three misses happen, the email goes out; the path of the acknowledge link in it."""
    three_misses(app, app.services.clock, weekly_visits(app))
    sender = ChannelSender(app.sessions, app.services.clock, EmailTransport(app.settings, app.services.clock))

    async def drain() -> None:
        while await sender.deliver_due():
            pass

    asyncio.run(drain())
    body = mailbox.only(SCHULZ).get_body(("plain",)).get_content()
    match = re.search(re.escape(base) + r"(/ack/\S+)", body)
    assert match, body
    return match.group(1)


@pytest.fixture
def served(app: App, codes: dict[str, str], mailbox: Mailbox) -> Iterator[tuple[App, str, httpx.Client]]:
    with served_with_mail(app, mailbox) as (served_app, base), httpx.Client(base_url=base, timeout=10) as http:
        yield served_app, base, http


def acknowledged(app: App) -> bool:
    return escalations(app)[0].acknowledged_at is not None


def test_a_link_works_once(served, mailbox):
    app, base, http = served
    link = emailed_ack_link(app, base, mailbox)
    first = http.get(link)
    assert first.status_code == 200 and "<form" in first.text and not acknowledged(app)
    confirmed = http.post(link, headers={"Origin": base, "Sec-Fetch-Site": "same-origin"})
    assert confirmed.status_code == 200 and "Danke" in confirmed.text and acknowledged(app)

    again = http.post(link)
    assert again.status_code == 410 and "nur einmal" in again.text and "<form" not in again.text
    assert http.get(link).status_code == 410
    with app.sessions() as session:
        assert session.query(LinkUse).count() == 1


def test_a_link_expires_after_the_days_set(app, codes, mailbox, clock):
    with served_with_mail(app, mailbox, link_ttl_days=3) as (served_app, base), httpx.Client(base_url=base) as http:
        link = emailed_ack_link(served_app, base, mailbox)
        clock.advance(timedelta(days=3) - timedelta(minutes=1))
        assert http.get(link).status_code == 200
        clock.advance(timedelta(minutes=1))
        expired = http.get(link)
        assert expired.status_code == 410 and "abgelaufen" in expired.text and "3 Tage" in expired.text
        assert "<form" not in expired.text
        assert http.post(link).status_code == 410 and not acknowledged(served_app)


def test_the_default_lifetime_is_fourteen_days(served, mailbox, clock):
    app, base, http = served
    link = emailed_ack_link(app, base, mailbox)
    clock.advance(timedelta(days=13, hours=23))
    assert http.get(link).status_code == 200
    clock.advance(timedelta(hours=1))
    assert http.post(link).status_code == 410 and not acknowledged(app)


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://sub.127.0.0.1"},
])
def test_a_post_from_another_website_changes_nothing(served, mailbox, headers):
    app, base, http = served
    link = emailed_ack_link(app, base, mailbox)
    refused = http.post(link, headers=headers)
    assert refused.status_code == 403 and "anderen Website" in refused.text and not acknowledged(app)
    # the real button still works afterwards: nothing was used up
    assert http.post(link, headers={"Origin": base}).status_code == 200 and acknowledged(app)


def test_malformed_signatures_get_403_never_500(served, mailbox):
    app, base, http = served
    link = emailed_ack_link(app, base, mailbox)
    path, _sep, query = link.partition("?")
    arg = path.rsplit("/", 1)[1]
    outbox = re.search(r"m=(\d+)", query).group(1)  # type: ignore[union-attr]
    sig = re.search(r"sig=([^&]+)", query).group(1)  # type: ignore[union-attr]
    other_route = crypto.sign(f"approve-hours:{arg}:{outbox}")
    variants = [
        f"/ack/{arg}", f"/ack/{arg}?m={outbox}", f"/ack/{arg}?m={outbox}&sig=",
        f"/ack/{arg}?m={outbox}&sig=%ZZ", f"/ack/{arg}?m={outbox}&sig=%C3%BC%00",
        f"/ack/{arg}?m={outbox}&sig=%ED%A0%80", f"/ack/{arg}?m={outbox}&sig={'A' * 5000}",
        f"/ack/{arg}?m={outbox}&sig={sig[:-1]}", f"/ack/{arg}?m={outbox}&sig={sig}x",
        f"/ack/{arg}?m={outbox}&sig={other_route}", f"/ack/%C2%B2?m={outbox}&sig={sig}",
        f"/ack/%D9%A1?m={outbox}&sig={sig}", f"/ack/{arg}?m=%C2%B2&sig={sig}",
        f"/ack/{arg}?m=99999999999999999999999999&sig={sig}", f"/ack/-1?m={outbox}&sig={sig}",
        f"/ack/{arg}?m={outbox}&m=1&sig=x&sig={sig}", f"/ack/{arg}%00?m={outbox}&sig={sig}",
    ]
    for variant in variants:
        for method in ("GET", "POST"):
            response = http.request(method, variant)
            assert response.status_code == 403, (variant, method, response.status_code)
            assert "ungültig" in response.text
    assert not acknowledged(app)
    # a valid signature for an email that does not exist (another server's, or deleted since) is not found
    gone = http.get(f"/ack/{arg}?m=4242&sig={crypto.sign(f'ack:{arg}:4242')}")
    assert gone.status_code == 404 and "ungültig" in gone.text
    assert http.get(link).status_code == 200


def test_the_page_keeps_its_address_to_itself(served, mailbox):
    app, base, http = served
    page = http.get(emailed_ack_link(app, base, mailbox))
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_the_purge_forgets_used_links_once_they_would_have_expired(served, mailbox, clock):
    from conversations.privacy import purge

    app, base, http = served
    link = emailed_ack_link(app, base, mailbox)
    assert http.post(link).status_code == 200
    clock.advance(timedelta(days=15))
    purge.run(app.services, dry_run=False)
    with app.sessions() as session:
        assert session.query(LinkUse).count() == 0
    assert http.post(link).status_code == 410  # expired now, and still not used twice


def test_the_extra_hours_link_works_once_too(served, mailbox):
    """The approve link (Frau Dr. Schulz confirms hours beyond the budget): the same rules as every link."""
    from sqlalchemy import select

    from conversations.clock import berlin
    from storage.models import ExtraHoursRequest
    from tests.bot.web.test_console_browser import plan_visit

    app, base, http = served
    plan_visit(app, berlin(2027, 3, 2, 10, 0), hours=19)
    plan_visit(app, berlin(2027, 3, 9, 10, 0), hours=2)  # one hour beyond the 20 h of March
    sender = ChannelSender(app.sessions, app.services.clock, EmailTransport(app.settings, app.services.clock))

    async def drain() -> None:
        while await sender.deliver_due():
            pass

    asyncio.run(drain())
    [mail] = [m for m in mailbox.to(SCHULZ) if "/approve-hours/" in m.get_body(("plain",)).get_content()]
    assert "F-2027-0001" in mail["Subject"] and "Yılmaz" not in mail["Subject"]
    link = re.search(re.escape(base) + r"(/approve-hours/\S+)", mail.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]
    assert http.post(link, headers={"Origin": "https://evil.example"}).status_code == 403
    assert http.post(link, headers={"Origin": base}).status_code == 200
    with app.sessions() as session:
        assert session.scalar(select(ExtraHoursRequest.status)) == "approved"
    assert http.post(link, headers={"Origin": base}).status_code == 410
    assert http.get(link.replace("sig=", "sig=A")).status_code == 403
