"""Three appointments in a row without the family: one escalation, by chat and email, acknowledged, never lost.

SCENARIOS.md, March 2027: Tue 16th cancelled by Ayşe the evening before (under 24 h), Tue 23rd nobody opens
the door, Tue 30th cancelled the same morning. Frau Dr. Schulz (email only) gets one email and acknowledges
it; Jana and Tobias are told it went out.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot import scheduler, web
from bot.app import App, build
from bot.channels.email import EmailTransport
from bot.outbox import LEASE, ChannelSender
from conversations import appointments
from conversations.clock import berlin
from conversations.rules.outcomes import Outcome
from storage.models import Appointment, Case, Escalation, OutboxMessage, StaffMember
from tests.support.smtp import Mailbox, smtp_mailbox

SCHULZ = "k.schulz@jugendamt.example"
LEITUNG = "leitung@bruecke.example"


@pytest.fixture
def mailbox() -> Mailbox:
    return smtp_mailbox()


def email_app(app: App, mailbox: Mailbox) -> App:
    settings = replace(app.settings, smtp_host=mailbox.host, smtp_port=mailbox.port, smtp_starttls=False,
                       public_base_url="http://127.0.0.1:9")
    return App(settings=settings, db=app.db, services=replace(app.services, settings=settings), engine=app.engine)


def deliver_email(app: App, mailbox: Mailbox) -> int:
    sender = ChannelSender(app.sessions, app.services.clock, EmailTransport(email_app(app, mailbox).settings,
                                                                            app.services.clock))

    async def drain() -> int:
        total = 0
        while sent := await sender.deliver_due():
            total += sent
        return total

    return asyncio.run(drain())


def weekly_visits(app: App) -> list[int]:
    """Tuesdays 10:00–12:00 from 9 March; returns the appointment ids."""
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        jana = session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber"))
        visits = appointments.create_weekly(session, app.services, "cli", case, "hausbesuch",
                                            berlin(2027, 3, 9, 10), 120, [jana], case.members[:1], weeks=5)
        return [v.id for v in visits]


def at(app: App, clock, moment, what, appointment_id: int) -> None:  # type: ignore[no-untyped-def]
    clock.set(moment)
    with app.sessions.begin() as session:
        visit = session.get(Appointment, appointment_id)
        if what == "family_cancels":
            appointments.cancel(session, app.services, "cli", visit, by_family=True)
        else:
            appointments.record_outcome(session, app.services, "cli", visit, what)


def three_misses(app: App, clock, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    at(app, clock, berlin(2027, 3, 9, 12, 30), Outcome.TOOK_PLACE, ids[0])
    at(app, clock, berlin(2027, 3, 15, 22, 40), "family_cancels", ids[1])  # under 24 h before
    at(app, clock, berlin(2027, 3, 23, 12, 30), Outcome.NO_SHOW, ids[2])
    at(app, clock, berlin(2027, 3, 30, 8, 15), "family_cancels", ids[3])  # the same morning


def escalations(app: App) -> list[Escalation]:
    with app.sessions() as session:
        return list(session.scalars(select(Escalation).where(Escalation.kind == "attendance")
                                    .options(selectinload(Escalation.acknowledger))))


def ack_link(mail) -> str:  # type: ignore[no-untyped-def]
    body = mail.get_content()
    match = re.search(r"http://127\.0\.0\.1:9(/ack/\S+)", body)
    assert match, body
    return match.group(1)


def open_link(app: App, path: str, method: str = "GET") -> tuple[int, str]:
    async def go() -> tuple[int, str]:
        async with TestClient(TestServer(web.make_app(app), host="127.0.0.1")) as client:
            response = await client.request(method, path)
            return response.status, await response.text()

    return asyncio.run(go())


def test_three_misses_one_escalation_by_chat_and_email_acknowledged_by_link(app, bot, codes, clock, mailbox):
    jana, tobias = bot.link("jana", codes["Jana"]), bot.link("tobias", codes["Tobias"])
    ayse = bot.link("ayse", codes["Ayşe"])
    ids = weekly_visits(app)
    three_misses(app, clock, ids)

    assert len(escalations(app)) == 1
    clock.set(berlin(2027, 3, 30, 9, 0))
    family = ayse.receive()
    assert family and not any("Schulz" in t or "fallführend" in t or "Jugendamt" in t for t in family)
    deliver_email(app, mailbox)
    mail = mailbox.only(SCHULZ)
    body = mail.get_content()
    reference = re.search(r"F-\d{4}-\d{4}", body).group(0)
    assert reference in mail["Subject"]
    for day in ("16. März 2027", "23. März 2027", "30. März 2027"):
        assert day in body
    assert "Jana Weber" in body and "Tobias Klein" in body and "0391 555 0100" in body  # who to ask
    assert "Yılmaz" not in body and "Ayşe" not in body  # no more personal data than needed
    assert mail["Message-ID"].startswith("<wegbegleiter-outbox-")

    told = jana.receive()
    assert any("Dr. Katrin Schulz" in t and "informiert" in t for t in told)
    assert any("Dr. Katrin Schulz" in t for t in tobias.receive())
    assert not any("versäumt" in t or "nicht wahrgenommen" in t for t in told)  # nobody blames the family
    # a cancellation is not a visit that "took place without the family"
    assert any("Die Familie hat an den letzten 3 vereinbarten Terminen nicht teilgenommen" in t for t in told)
    assert not any("ohne die Familie statt" in t for t in told)

    # A fourth appointment without participation continues the same streak: no second escalation.
    at(app, clock, berlin(2027, 4, 6, 12, 30), Outcome.NO_SHOW, ids[4])
    assert len(escalations(app)) == 1
    deliver_email(app, mailbox)
    assert len(mailbox.to(SCHULZ)) == 1

    # Opening the link only asks; the button acknowledges (mail scanners open links, people press buttons).
    status, page = open_link(app, ack_link(mail))
    assert status == 200 and "<form" in page and escalations(app)[0].acknowledged_at is None
    status, page = open_link(app, ack_link(mail), "POST")
    assert status == 200 and "Danke" in page
    escalation = escalations(app)[0]
    assert escalation.acknowledged_via == "email-link" and escalation.acknowledged_at == clock.now()
    assert any("bestätigt" in t for t in jana.receive())

    # A forged or altered link does nothing.
    assert open_link(app, ack_link(mail).replace("sig=", "sig=x"), "POST")[0] == 403


def test_a_restart_between_the_third_miss_and_delivery_still_delivers_once(app, settings, codes, clock, mailbox):
    ids = weekly_visits(app)
    three_misses(app, clock, ids)
    app.db.dispose()  # the process dies before anything was delivered

    restarted = build(settings, clock)
    # The first delivery attempt dies too, after claiming the email but before the server saw it.
    sender = ChannelSender(restarted.sessions, clock, EmailTransport(email_app(restarted, mailbox).settings, clock))
    claimed = sender._claim_due(10)
    assert [m.address for m in claimed if m.channel == "email"] == [SCHULZ]
    restarted.db.dispose()

    clock.advance(LEASE + timedelta(seconds=1))
    again = build(settings, clock)
    scheduler.run_all(again.services)  # a scan after the restart creates nothing twice
    deliver_email(again, mailbox)
    deliver_email(again, mailbox)
    assert len(mailbox.to(SCHULZ)) == 1
    assert len(escalations(again)) == 1


def test_no_acknowledgement_within_a_working_day_reminds_and_tells_the_leitung(app, codes, clock, mailbox):
    ids = weekly_visits(app)
    three_misses(app, clock, ids)  # Tuesday 30 March, 08:15
    deliver_email(app, mailbox)

    clock.set(berlin(2027, 3, 31, 8, 0))  # not yet one working day
    scheduler.run_all(app.services)
    deliver_email(app, mailbox)
    assert len(mailbox.to(SCHULZ)) == 1 and mailbox.to(LEITUNG) == []

    clock.set(berlin(2027, 3, 31, 8, 20))
    scheduler.run_all(app.services)
    scheduler.run_all(app.services)  # twice: still one reminder
    deliver_email(app, mailbox)
    reminder = mailbox.to(SCHULZ)[1]
    assert len(mailbox.to(SCHULZ)) == 2 and "Erinnerung" in reminder.get_content()
    leitung = mailbox.only(LEITUNG)
    assert "nicht bestätigt" in leitung.get_content() and "Dr. Katrin Schulz" in leitung.get_content()

    # The Leitung may settle it (after a phone call), with the link in her own email.
    status, _page = open_link(app, ack_link(leitung), "POST")
    assert status == 200
    assert escalations(app)[0].acknowledger.name == "Martina Hoffmann"


def test_the_fallfuehrende_fachkraft_with_a_chat_acknowledges_by_button(app, bot, codes, clock, mailbox):
    schulz = bot.link("schulz", codes["Schulz"])
    ids = weekly_visits(app)
    three_misses(app, clock, ids)
    deliver_email(app, mailbox)
    assert len(mailbox.to(SCHULZ)) == 1  # by email as well

    message = schulz.receive()
    assert any("16. März 2027" in t for t in message)
    answer = schulz.press("Empfang bestätigen")
    assert any("Danke" in t for t in answer)
    assert escalations(app)[0].acknowledged_via == "chat"
    assert any("bereits" in t for t in schulz.press("Empfang bestätigen"))  # a second press changes nothing


def test_a_visit_that_took_place_starts_a_new_streak(app, codes, clock, mailbox):
    ids = weekly_visits(app)
    at(app, clock, berlin(2027, 3, 9, 12, 30), Outcome.NO_SHOW, ids[0])
    at(app, clock, berlin(2027, 3, 16, 12, 30), Outcome.NO_SHOW, ids[1])
    at(app, clock, berlin(2027, 3, 23, 12, 30), Outcome.TOOK_PLACE, ids[2])
    at(app, clock, berlin(2027, 3, 30, 12, 30), Outcome.NO_SHOW, ids[3])
    assert escalations(app) == []
    with app.sessions() as session:
        assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.channel == "email")) is None


def cli(settings, *args: str) -> object:  # type: ignore[no-untyped-def]
    import json

    from click.testing import CliRunner

    from bot.cli import cli as wegbegleiter

    env = {"DATABASE_URL": settings.database_url, "WEGBEGLEITER_SECRET_KEY": settings.secret_key,
           "WEGBEGLEITER_DATA_DIR": settings.data_dir, "LOG_LEVEL": "WARNING"}
    result = CliRunner(env=env).invoke(wegbegleiter, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_history_shows_who_was_told_when_by_which_way_and_who_acknowledged(app, settings, bot, codes, clock,
                                                                               mailbox):
    bot.link("jana", codes["Jana"])
    three_misses(app, clock, weekly_visits(app))
    deliver_email(app, mailbox)
    bot.deliver()
    assert [e["acknowledged"] for e in cli(settings, "escalations", "list", "--open", "--json")] == [None]
    with app.sessions() as session:
        schulz_id = session.scalar(select(StaffMember.id).where(StaffMember.name == "Dr. Katrin Schulz"))
    cli(settings, "escalations", "ack", str(escalations(app)[0].id), "--by", str(schulz_id),
        "--note", "per Telefon", "--json")

    [entry] = cli(settings, "escalations", "list", "--case", "F-2027-0001", "--json")
    assert entry["acknowledged"]["by"] == "Dr. Katrin Schulz" and entry["acknowledged"]["via"] == "cli"
    told = {(t["to"], t["purpose"], t["channel"], t["status"]) for t in entry["told"]}
    assert ("Dr. Katrin Schulz", "notify", "email", "sent") in told
    assert ("Jana Weber", "team", "test", "sent") in told
    assert [d["situation"] for d in entry["facts"]["appointments"]] == [
        "late_family_cancellation", "no_show", "late_family_cancellation"]
    assert cli(settings, "escalations", "list", "--open", "--json") == []


def test_an_organisation_changes_its_rule_from_the_command_line(app, settings, codes, clock, mailbox):
    rule = cli(settings, "escalations", "rule", "--json")
    assert rule["streak_length"] == 3 and rule["effects"]["no_show"] == "counts"
    changed = cli(settings, "escalations", "rule", "--set", "streak_length=2",
                  "--set", "effects.provider_cancellation=resets", "--json")
    assert changed["streak_length"] == 2 and changed["effects"]["provider_cancellation"] == "resets"

    ids = weekly_visits(app)
    at(app, clock, berlin(2027, 3, 9, 12, 30), Outcome.NO_SHOW, ids[0])
    at(app, clock, berlin(2027, 3, 16, 12, 30), Outcome.NO_SHOW, ids[1])  # the second is enough now
    assert len(escalations(app)) == 1

    from click.testing import CliRunner

    from bot.cli import cli as wegbegleiter

    env = {"DATABASE_URL": settings.database_url, "WEGBEGLEITER_SECRET_KEY": settings.secret_key,
           "WEGBEGLEITER_DATA_DIR": settings.data_dir}
    wrong = CliRunner(env=env).invoke(wegbegleiter, ["escalations", "rule", "--set", "streak=2"])
    assert wrong.exit_code == 1 and "unknown setting(s) streak" in wrong.output
    assert cli(settings, "escalations", "rule", "--json")["streak_length"] == 2  # nothing was saved


def test_the_runner_serves_the_link_endpoint_on_http_listen(app):
    import socket

    import aiohttp

    from bot.runner import start_web

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    listening = replace(app.settings, http_listen=f"127.0.0.1:{port}")
    served = App(settings=listening, db=app.db, services=replace(app.services, settings=listening),
                 engine=app.engine)

    async def go() -> tuple[int, str]:
        runner = await start_web(served)
        try:
            async with aiohttp.ClientSession() as http, \
                    http.get(f"http://127.0.0.1:{port}/ack/1?m=1&sig=forged") as response:
                return response.status, await response.text()
        finally:
            await runner.cleanup()

    status, page = asyncio.run(go())
    assert status == 403 and "ungültig" in page


def test_outcomes_entered_out_of_order_still_escalate_once(app, codes, clock, mailbox):
    ids = weekly_visits(app)
    at(app, clock, berlin(2027, 3, 9, 12, 30), Outcome.NO_SHOW, ids[0])
    at(app, clock, berlin(2027, 3, 16, 12, 30), Outcome.NO_SHOW, ids[1])
    at(app, clock, berlin(2027, 3, 30, 12, 30), Outcome.TOOK_PLACE, ids[3])  # Jana records the 30th first
    assert escalations(app) == []
    at(app, clock, berlin(2027, 3, 30, 13, 0), Outcome.NO_SHOW, ids[2])  # ... and then the 23rd
    assert len(escalations(app)) == 1
    deliver_email(app, mailbox)
    assert "23. März 2027" in mailbox.only(SCHULZ).get_content()
