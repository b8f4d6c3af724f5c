"""In the chat, "cancelled by the family" asks when: 24 h or more before · less than 24 h · date and time ·
not known. Typed as a Matrix family types: numbers, not buttons, where it matters."""

from __future__ import annotations

from sqlalchemy import select

from bot.scheduler import run_all
from conversations import admin
from conversations import appointments as appts
from conversations.clock import berlin
from storage.models import Appointment, Case


def visit(app, start) -> int:  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        jana = admin.team(case)[0]
        return appts.create_appointment(session, app.services, jana, case, "hausbesuch", start, 120, [jana],
                                        appts.default_members(case)).id


def stored(app, ident):  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        a = session.get(Appointment, ident)
        return a.outcome, a.cancelled_at, a.cancel_notice


def test_the_fachkraft_gives_when_the_family_cancelled(bot, codes, app, clock):
    jana = bot.link("jana", codes["Jana"])
    thursday = visit(app, berlin(2027, 3, 4, 10, 0))
    clock.set(berlin(2027, 3, 4, 12, 5))
    run_all(bot.app.services)
    assert "3. Von der Familie abgesagt" in jana.receive()[0]
    question = jana.say("3")[-1]  # typed, as in Element
    assert "Wann hat die Familie abgesagt?" in question and "3. Datum und Uhrzeit eingeben" in question
    assert "Wann kam die Absage bei Ihnen an?" in jana.say("3")[-1]
    assert "Geben Sie bitte auch die Uhrzeit an" in jana.say("Montag")[0]
    assert "liegt noch in der Zukunft" in jana.say("heute 18:00")[0]  # later than now
    answer = jana.say("Montag 17:30")  # Monday 1 March, 17:30: more than 24 h ahead
    assert "Vom Budget: 0 Std.; abrechenbar: 0 Std." in answer[0], answer
    outcome, cancelled_at, notice = stored(app, thursday)
    assert (outcome, cancelled_at, notice) == ("cancelled_by_family", berlin(2027, 3, 1, 17, 30), None)


def test_less_than_24_hours_and_not_known(bot, codes, app, clock):
    jana = bot.link("jana", codes["Jana"])
    first, second = visit(app, berlin(2027, 3, 4, 10, 0)), visit(app, berlin(2027, 3, 5, 10, 0))
    clock.set(berlin(2027, 3, 5, 12, 5))
    jana.say(payload=f"act:appt_outcome:{first}:cancelled_by_family")
    recorded = jana.press("Weniger als 24 Stunden vorher")[0]
    assert "abrechenbar: 1 Std." in recorded, recorded
    assert stored(app, first) == ("cancelled_by_family", None, "short")
    jana.say(payload=f"act:appt_outcome:{second}:cancelled_by_family")
    unknown = jana.press("Nicht bekannt")[0]
    assert "nicht bekannt" in unknown and "abrechenbar: 0 Std." in unknown
    statement = "\n".join(jana.say("/stunden"))
    assert "Zeitpunkt der Absage noch nicht angegeben" in statement and f"#{second}" in statement


def test_took_place_is_refused_before_the_start(bot, codes, app, clock):
    jana = bot.link("jana", codes["Jana"])
    later = visit(app, berlin(2027, 3, 4, 10, 0))
    answer = jana.say(payload=f"act:appt_outcome:{later}:took_place")
    assert "hat noch nicht begonnen" in answer[0]
    assert stored(app, later)[0] == "planned"
