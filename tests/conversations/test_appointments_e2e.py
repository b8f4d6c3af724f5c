"""March 2027 for the Yılmaz family (SCENARIOS.md), through the engine, the outbox and the test channel:
create → remind → confirm / cancel → outcome → statement → monthly proof, on the manual clock."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from bot.scheduler import run_all
from conversations import budget
from conversations.clock import berlin
from conversations.rules.billing import Month
from storage.models import Appointment, Case, NachweisConfirmation, OutboxMessage


def tick(bot, clock, moment):  # type: ignore[no-untyped-def]
    """Time passes to ``moment``; the periodic scans run as the scheduler would."""
    clock.set(moment)
    run_all(bot.app.services)


def said(texts: list[str]) -> str:
    return "\n".join(texts)


def yilmaz(session) -> Case:  # type: ignore[no-untyped-def]
    return session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))


def test_a_month_of_appointments(bot, codes, app, clock):
    jana = bot.link("jana", codes["Jana"], "English")
    ayse = bot.link("ayse", codes["Ayşe"], "English")
    with app.sessions.begin() as session:
        budget.set_budget(session, "cli", clock.now(), yilmaz(session), 20 * 60, date(2027, 3, 1))

    # Jana enters the weekly home visit in the chat: Tuesdays 10:00–12:00 from 9 March, four weeks.
    jana.say("/appointment")
    assert "On which day" in jana.press("Home visit")[-1]
    assert "At what time" in jana.say("09.03.2027")[-1]
    jana.say("10:00")
    jana.press("2 h")
    summary = jana.press("Weekly, 4 weeks")[-1]
    assert "Tuesday, March 9, 2027, 10:00" in summary and "4 times" in summary
    assert "Entered 4 appointments" in said(jana.press("Yes, enter it"))

    # Ayşe hears at once, each with a calendar file; 30 March is after the DST change and still 10:00.
    news = ayse.receive()
    assert len(news) == 4 and all(text.startswith("New appointment") for text in news)
    assert "Tuesday, March 30, 2027, 10:00" in news[-1]
    ics = ayse.seen[-1].attachments[0]
    assert ics.mime_type == "text/calendar" and b"METHOD:REQUEST" in ics.data
    assert b"DTSTART:20270330T080000Z" in ics.data  # 10:00 CEST

    # Sunday 10:00: the two-days reminder, with its buttons; a second scan sends nothing again.
    tick(bot, clock, berlin(2027, 3, 7, 10, 0))
    reminder = ayse.receive()
    assert len(reminder) == 1 and "A reminder of your appointment" in reminder[0]
    tick(bot, clock, berlin(2027, 3, 7, 10, 5))
    assert ayse.receive() == []
    assert "Thank you! See you then" in ayse.press("Confirm")[0]
    assert "Ayşe confirmed" in jana.receive()[0]

    # Monday 18:00: Jana's agenda for Tuesday.
    tick(bot, clock, berlin(2027, 3, 8, 18, 0))
    assert "Your appointments tomorrow" in jana.receive()[0]

    # Tuesday 8:00 the same-day reminder; after the visit Jana records 2.5 h.
    tick(bot, clock, berlin(2027, 3, 9, 8, 0))
    assert "today is your appointment" in ayse.receive()[0]
    tick(bot, clock, berlin(2027, 3, 9, 12, 5))
    assert "What happened at this appointment" in jana.receive()[0]
    jana.press("Took place")
    recorded = said(jana.say("2,5"))
    assert "took place" in recorded and "Off the budget: 2.5 h" in recorded

    # The bot is down from Friday until Monday 22:40: the Sunday reminder for the 16th is still due, but it
    # is quiet hours, so it waits for Tuesday 8:00.
    tick(bot, clock, berlin(2027, 3, 15, 22, 40))
    assert ayse.receive() == []  # quiet hours
    with app.sessions() as session:
        waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "appointment.reminder",
                                                              OutboxMessage.status == "pending")).all()
    assert len(waiting) == 1
    # Ayşe cancels Tuesday's visit from the earlier message's button at 22:40: under 24 h.
    sixteenth = next(m for m in ayse.seen if "March 16" in m.text and m.choices)
    answer = ayse.say(payload=next(c.payload for c in sixteenth.choices if c.label == "Cancel appointment"))
    assert "less than 24 hours" in answer[0] and "2 h" in answer[0] and "not a reproach" in answer[0]
    done = ayse.say("Emre ist krank")
    assert "count towards this month's hours" in done[0] and "another date" in done[-1]
    assert "passed your wish on to Jana Weber" in said(ayse.press("Yes, please"))
    assert jana.receive() == []  # 22:40: Jana hears of it next morning
    with app.sessions() as session:
        cancelled = session.scalar(select(Appointment).where(Appointment.outcome == "cancelled_by_family"))
        assert cancelled.ics_sequence == 1 and cancelled.cancel_reason == "Emre ist krank"
    tick(bot, clock, berlin(2027, 3, 16, 8, 0))
    morning = "\n".join(jana.receive())
    assert "cancelled at short notice" in morning and "Reason: Emre ist krank" in morning
    assert "asks for another date" in morning
    assert not any("A reminder" in text for text in ayse.receive())  # the waiting reminder was withdrawn
    assert any(b"METHOD:CANCEL" in a.data and b"SEQUENCE:1" in a.data for m in ayse.seen for a in m.attachments)

    # Tuesday 23rd: nobody opens the door.
    tick(bot, clock, berlin(2027, 3, 23, 12, 30))
    jana.receive()
    with app.sessions() as session:
        visit_23 = session.scalar(select(Appointment).where(Appointment.starts_at == berlin(2027, 3, 23, 10)))
    assert "the family was not there" in said(jana.say(payload=f"act:appt_outcome:{visit_23.id}:no_show"))

    # The 30th stays unanswered: asked again the next morning.
    tick(bot, clock, berlin(2027, 3, 30, 12, 30))
    assert "What happened" in said(jana.receive())
    tick(bot, clock, berlin(2027, 3, 31, 8, 0))
    assert "Still open" in said(jana.receive())
    jana.press("Took place")
    jana.press("2 h")

    # The statement: 2.5 + 2 (16th, late) + 2 (no-show) + 2 = 8.5 h used; billable 2.5 + 1 + 1 + 2.
    statement = said(jana.say("/hours"))
    assert "Used: 8.5 h (42 %)" in statement and "Billable: 6.5 h" in statement
    assert any(a.mime_type == "image/png" for m in jana.seen[-2:] for a in m.attachments)

    # Thursday 1 April, the first working day: Ayşe confirms March; Dr. Schulz gets PDF and CSV by email.
    tick(bot, clock, berlin(2027, 4, 1, 8, 0))
    question = said(ayse.receive())
    assert "took place" in question and "2.5 h" in question
    assert "I have passed on your confirmation" in said(ayse.press("All right"))
    with app.sessions() as session:
        conf = session.scalar(select(NachweisConfirmation))
        assert (conf.month, conf.status, conf.channel) == ("2027-03", "confirmed", "test")
        mail = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "nachweis"))
        assert mail.channel == "email" and mail.address == "k.schulz@jugendamt.example"
        files = {a.filename: a.data for a in mail.attachments}
        csv_text = files[f"nachweis-{yilmaz(session).reference}-2027-03.csv"].decode("utf-8-sig")
        assert len([line for line in csv_text.splitlines() if line[:10].endswith(".03.2027")]) == 4
        assert "Summe;;4 Termine;;;8,50;6,50;2;0" in csv_text and "von der Familie abgesagt am" in csv_text
        confirmed = "Bestätigt von Ayşe Yılmaz am 01.04.2027 08:00 über Test."
        assert confirmed in csv_text
        pdf = PdfReader(io.BytesIO(files[f"nachweis-{yilmaz(session).reference}-2027-03.pdf"]))
        assert confirmed in " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
        stmt = budget.case_statement(session, yilmaz(session), Month(2027, 3))
        assert (stmt.used_minutes, stmt.short_notice_count) == (510, 2)
