"""A coming appointment changed from the Fachkraft's agenda: the family phoned to cancel (now, or the call
came earlier and is entered later), or the Träger calls it off. The family is told, its reminders are
withdrawn, and the 24-hour rule reads the moment the call came."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.scheduler import run_all
from conversations import appointments as appts
from conversations import budget
from conversations.admin import Actor
from conversations.clock import berlin
from conversations.rules.billing import Month
from conversations.rules.outcomes import AppointmentKind
from storage.models import Appointment, Case, StaffMember


def enter_visit(app, start) -> int:  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        jana = session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber"))
        budget.set_budget(session, "cli", app.services.clock.now(), case, 20 * 60, date(2027, 3, 1))
        return appts.create_appointment(session, app.services, Actor("test"), case, AppointmentKind.HAUSBESUCH,
                                        start, 120, [jana], appts.default_members(case)).id


def change_offer(chat, appointment_id: int) -> str:  # type: ignore[no-untyped-def]
    """The agenda's option for this appointment, as the Fachkraft sees it."""
    return next(c.label for c in chat.last.choices if c.payload == f"act:appt_change:{appointment_id}")


def test_a_cancellation_phoned_in_at_five_and_entered_in_the_evening_is_short_notice(bot, codes, app, clock):
    # Monday 15 March, 17:00: Ayşe phones Jana: nobody will be home on Tuesday at 10:00. Jana enters it at
    # 20:30, from the couch; the same-day reminder Tuesday 8:00 must not come.
    visit = enter_visit(app, berlin(2027, 3, 16, 10))
    ayse, murat = bot.link("ayse", codes["Ayşe"]), bot.link("murat", codes["Murat"])
    jana = bot.link("jana", codes["Jana"])
    clock.set(berlin(2027, 3, 15, 20, 30))
    ayse.receive(), murat.receive()
    agenda = jana.say("/agenda morgen")[0]
    assert "10:00 Familie Yılmaz: Hausbesuch (2 Std.)" in agenda
    label = change_offer(jana, visit)
    assert label == "Ändern: 16.03.2027, 10:00 Hausbesuch, Familie Yılmaz"
    asked = jana.press(label)[0]
    assert asked.startswith("Was hat sich geändert? Hausbesuch: Dienstag, 16. März 2027, 10:00")
    when = jana.press("Von der Familie abgesagt")[0]
    assert "Wann hat die Familie" in when and "Gerade eben" in [c.label for c in jana.last.choices]
    jana.press("Datum und Uhrzeit eingeben")
    recorded = jana.say("heute 17:00")
    assert "von der Familie abgesagt" in recorded[0]
    assert "Vom Budget: 2 Std.; abrechenbar: 1 Std." in recorded[0]  # 17 h before: 50 % billable, full hours off
    assert recorded[1] == "Eine Nachricht darüber geht an: Ayşe, Murat."
    with app.sessions() as session:
        row = session.get(Appointment, visit)
        assert row is not None and row.outcome == "cancelled_by_family"
        assert row.cancelled_at == berlin(2027, 3, 15, 17, 0)
        stmt = budget.case_statement(session, row.case, Month(2027, 3))
        assert (stmt.used_minutes, float(stmt.billable_minutes)) == (120, 60)
    assert ayse.receive() == [] and murat.receive() == []  # 20:30 is quiet hours for the family
    clock.set(berlin(2027, 3, 16, 8, 0))
    run_all(app.services)
    told = ayse.receive() + murat.receive()  # the cancellation, and no reminder of a visit that is off
    assert len(told) == 2 and all(t.startswith("Dieser Termin fällt aus: Hausbesuch: Dienstag, 16. März") for t in told)


def test_a_cancellation_phoned_in_just_now_days_before_costs_nothing(bot, codes, app, clock):
    visit = enter_visit(app, berlin(2027, 3, 16, 10))
    jana = bot.link("jana", codes["Jana"])
    clock.set(berlin(2027, 3, 11, 9, 15))
    jana.say("/agenda woche")
    jana.press(change_offer(jana, visit))
    jana.press("Von der Familie abgesagt")
    recorded = jana.press("Gerade eben")
    assert "Vom Budget: 0 Std.; abrechenbar: 0 Std." in recorded[0]
    # Nobody of the family has linked a chat: Jana is told to let them know herself.
    assert recorded[1] == "Niemand aus der Familie ist per Chat erreichbar. Bitte sagen Sie der Familie selbst Bescheid."
    with app.sessions() as session:
        row = session.get(Appointment, visit)
        assert row is not None and (row.outcome, row.cancelled_at) == ("cancelled_by_family", clock.now())
    jana.say("/agenda woche")  # cancelled: listed, but nothing more to change
    assert not any(c.payload.startswith("act:appt_change:") for c in jana.last.choices)


def test_calling_a_visit_off_asks_once_more_because_the_family_hears_of_it(bot, codes, app, clock):
    visit = enter_visit(app, berlin(2027, 3, 16, 10))
    ayse = bot.link("ayse", codes["Ayşe"])
    jana = bot.link("jana", codes["Jana"])
    clock.set(berlin(2027, 3, 12, 11, 0))
    ayse.receive()
    jana.say("/agenda woche")
    jana.press(change_offer(jana, visit))
    sure = jana.press("Von uns abgesagt")[0]
    assert sure.startswith("Hausbesuch: Dienstag, 16. März 2027, 10:00 (2 Std.) (Familie Yılmaz) absagen?")
    assert jana.press("Termin behalten")[0] == "Es wurde nichts geändert."
    assert ayse.receive() == []
    jana.say("/agenda woche")
    jana.press(change_offer(jana, visit))
    jana.press("Von uns abgesagt")
    done = jana.press("Ja, absagen")
    assert "von uns abgesagt" in done[0] and "Vom Budget: 0 Std.; abrechenbar: 0 Std." in done[0]
    assert done[1] == "Eine Nachricht darüber geht an: Ayşe."
    told = ayse.receive()
    assert len(told) == 1 and told[0].startswith("Dieser Termin fällt aus: Hausbesuch: Dienstag, 16. März 2027")
    assert b"METHOD:CANCEL" in ayse.last.attachments[0].data
    # The old button, pressed again: the visit is no longer open, nothing is sent twice.
    again = jana.say(payload=f"act:appt_change:{visit}")[0]
    assert again.startswith("Dieser Termin ist nicht mehr offen")
    assert ayse.receive() == []


def test_someone_not_on_the_case_cannot_change_its_appointment(bot, codes, app, clock):
    visit = enter_visit(app, berlin(2027, 3, 16, 10))
    kerstin = bot.link("kerstin", codes["Kerstin"])  # the complaint officer: staff, but not on the case
    for payload in (f"act:appt_change:{visit}", f"act:appt_outcome:{visit}:cancelled_by_provider"):
        answer = kerstin.say(payload=payload)[0]
        assert "Dieser Knopf gilt nicht mehr" in answer and "Hausbesuch" not in answer
    with app.sessions() as session:
        row = session.get(Appointment, visit)
        assert row is not None and row.outcome == "planned"


def test_a_cancellation_recorded_before_the_visit_elsewhere_tells_the_family_too(bot, codes, app, clock):
    """`wegbegleiter appointments outcome 12 cancelled_by_provider` (or a console form) before the visit is
    its cancelling: the family hears of it, with the calendar update, and no reminder comes."""
    visit = enter_visit(app, berlin(2027, 3, 16, 10))
    ayse = bot.link("ayse", codes["Ayşe"])
    clock.set(berlin(2027, 3, 12, 11, 0))
    ayse.receive()
    with app.sessions.begin() as session:
        row = session.get(Appointment, visit)
        assert row is not None
        appts.record_outcome(session, app.services, Actor("cli"), row, "cancelled_by_provider")
    told = ayse.receive()
    assert len(told) == 1 and told[0].startswith("Dieser Termin fällt aus: Hausbesuch: Dienstag, 16. März 2027")
    assert b"METHOD:CANCEL" in ayse.last.attachments[0].data
    clock.set(berlin(2027, 3, 16, 8, 0))
    run_all(app.services)
    assert ayse.receive() == []
