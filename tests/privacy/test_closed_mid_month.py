"""A help that ends in the middle of a month: its proof for the days it ran still reaches the Jugendamt, and
the Fachkraft's `/stunden` no longer offers it.

Familie Yılmaz (SCENARIOS.md) has a Hausbesuch on Tuesday 9 March 2027; the help ends on 17 March. On the first
working day of April Frau Dr. Schulz (fallführend, email only) gets the Nachweisblatt of March, marked as not
confirmed because the family's chats were unlinked when the help ended.
"""

from __future__ import annotations

from sqlalchemy import select

from bot import scheduler
from conversations import appointments
from conversations.access.closing import close_case
from conversations.clock import berlin
from conversations.rules.outcomes import Outcome
from storage.models import Appointment, Case, NachweisConfirmation, StaffMember
from tests.conversations.test_escalation import SCHULZ, deliver_email, mailbox  # noqa: F401  (fixture)


def one_visit(app, clock) -> None:  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        jana = session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber"))
        [visit] = appointments.create_weekly(session, app.services, "cli", case, "hausbesuch",
                                             berlin(2027, 3, 9, 10), 120, [jana], case.members[:1], weeks=1)
        visit_id = visit.id
    clock.set(berlin(2027, 3, 9, 12, 30))
    with app.sessions.begin() as session:
        appointments.record_outcome(session, app.services, "cli", session.get(Appointment, visit_id),
                                    Outcome.TOOK_PLACE)


def close(app, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(berlin(2027, 3, 17, 15, 0))
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        close_case(session, app.services, "cli", case, "goals-reached")


def test_the_proof_of_the_month_the_help_ended_reaches_the_jugendamt_unconfirmed(app, bot, codes, clock, mailbox):  # noqa: F811
    ayse = bot.link("ayse", codes["Ayşe"])
    one_visit(app, clock)
    close(app, clock)
    ayse.receive()
    deliver_email(app, mailbox)
    mailbox.clear()

    clock.set(berlin(2027, 4, 1, 9, 0))  # Thursday, the first working day of April
    scheduler.run_all(app.services)
    scheduler.run_all(app.services)  # twice: still one proof
    deliver_email(app, mailbox)
    mail = mailbox.only(SCHULZ)
    assert "F-2027-0001" in mail["Subject"] and "Yılmaz" not in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "Nicht von der Familie bestätigt: Die Hilfe endete am Mittwoch, 17. März 2027." in body
    names = sorted(part.get_filename() for part in mail.iter_attachments())
    assert names == ["nachweis-F-2027-0001-2027-03.csv", "nachweis-F-2027-0001-2027-03.pdf"]
    assert ayse.receive() == []  # the family is not asked: its chat was unlinked when the help ended
    with app.sessions() as session:
        [conf] = session.scalars(select(NachweisConfirmation)).all()
        assert conf.month == "2027-03" and conf.status == "pending" and conf.sent_at is not None


def test_a_proof_the_family_never_answered_goes_out_when_the_help_ends(app, bot, codes, clock, mailbox):  # noqa: F811
    ayse = bot.link("ayse", codes["Ayşe"])
    one_visit(app, clock)
    clock.set(berlin(2027, 4, 1, 9, 0))
    scheduler.run_all(app.services)
    assert any("Termine im März" in t for t in ayse.receive())  # asked; she does not answer
    deliver_email(app, mailbox)
    assert mailbox.to(SCHULZ) == []

    clock.set(berlin(2027, 4, 14, 15, 0))
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        close_case(session, app.services, "cli", case, "ended-by-family")
    clock.set(berlin(2027, 4, 15, 9, 0))
    deliver_email(app, mailbox)
    [proof] = [m for m in mailbox.to(SCHULZ) if "Nachweisblatt" in m["Subject"]]
    assert "Die Hilfe endete am Mittwoch, 14. April 2027" in proof.get_body(("plain",)).get_content()

    clock.set(berlin(2027, 5, 3, 9, 0))  # May: nothing took place in April, nothing more to send
    scheduler.run_all(app.services)
    with app.sessions() as session:
        assert session.query(NachweisConfirmation).count() == 1


def test_stunden_no_longer_offers_a_closed_case(app, bot, codes, clock):
    jana = bot.link("jana", codes["Jana"])
    families = jana.say("/stunden")
    assert "Familie Yılmaz" in "\n".join(families) or "Yılmaz" in families[0]
    close(app, clock)
    jana.receive()
    after = "\n".join(jana.say("/stunden"))
    assert "Yılmaz" not in after
