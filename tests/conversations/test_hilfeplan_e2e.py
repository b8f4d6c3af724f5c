"""The Hilfeplan calendar by the clock, from the start of the help to the second Fortschreibung.

Brücke e.V. and the Yılmaz family (SCENARIOS.md): the Hilfeplangespräch on Friday 26 February 2027, the help
begins on 1 March. Jana and Tobias (Fachkräfte) and Martina Hoffmann (Leitung) have linked their chats. The
clock goes day by day at 09:00 and the scan runs each time (twice on some days): what reaches whom, and when,
is the specification — reminders 3 weeks and 1 week ahead, one overdue notice to the Leitung, the warning
before a Fortschreibung without Entwicklungsbericht, and nothing twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from bot.app import build
from conversations.admin import Actor
from conversations.clock import BERLIN, berlin
from conversations.hilfeplan import core
from conversations.registry import REGISTRY
from storage.models import Case, OutboxMessage, StaffMember
from storage.models.hilfeplan import HilfeplanItem

OPS = Actor("test")


def run_scan(app) -> None:  # type: ignore[no-untyped-def]
    REGISTRY.tasks["hilfeplan"].run(app.services)


def sent_since(app, since):  # type: ignore[no-untyped-def]
    """(Berlin day, recipient, kind, text) of each hilfeplan message written after ``since``."""
    with app.sessions.begin() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("hilfeplan.%"),
                                                           OutboxMessage.id > since).order_by(OutboxMessage.id))
        names = {s.id: s.name.split()[0] for s in session.scalars(select(StaffMember))}
        result = []
        for m in rows:
            who = names[int(m.dedupe_key.rsplit(":s", 1)[1].split(":")[0])]
            result.append((m.next_attempt_at.astimezone(BERLIN).date().isoformat(), who, m.kind.split(".")[1],
                           m.text))
        last = max([since] + [m for m in session.scalars(select(OutboxMessage.id))])
    return result, last


def item(app, key):  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        return session.scalar(select(HilfeplanItem).where(HilfeplanItem.key == key))


def test_from_the_start_of_the_help_to_the_second_fortschreibung(app, codes, bot, clock):
    jana = bot.link("jana", codes["Jana"])
    bot.link("tobias", codes["Tobias"])
    martina = bot.link("martina", codes["Martina"])
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        first = core.add_talk(session, app.services, OPS, clock.now(), case, "hilfeplan", berlin(2027, 2, 26, 10, 0),
                              ["Ayşe Yılmaz", "Murat Yılmaz", "Jana Weber", "Dr. Katrin Schulz"])
        core.set_start(session, OPS, clock.now(), case, date(2027, 3, 1))
        t1, case_id = f"t{first.id}", case.id  # keys name the talk's id (ids differ between databases)
    log, last = [], 0

    def days(until: date, *, twice: bool = False) -> None:
        nonlocal last
        while clock.now().astimezone(BERLIN).date() < until:
            clock.advance(timedelta(days=1))
            run_scan(app)
            if twice:
                run_scan(app)
            found, last = sent_since(app, last)
            log.extend(found)

    def jump(until: date) -> None:
        """A stretch where nothing is asserted: straight there, one scan."""
        nonlocal last
        clock.set(berlin(until.year, until.month, until.day, 9, 0))
        run_scan(app)
        _found, last = sent_since(app, last)

    # 1 March: the signed Hilfeplan and the Kostenzusage are due on 12 March; 3 weeks before has passed
    run_scan(app)
    found, last = sent_since(app, last)
    assert sorted((who, kind) for _d, who, kind, _t in found) == [
        ("Jana", "reminder"), ("Jana", "reminder"), ("Tobias", "reminder"), ("Tobias", "reminder")]
    texts = jana.receive()
    assert any("in 11 Tagen, am Freitag, 12. März 2027: Kostenzusage vom Jugendamt – Familie Yılmaz" in t
               for t in texts), texts
    # Jana marks the Kostenzusage received, right from the reminder
    answer = next(m for m in jana.seen if "Kostenzusage" in m.text)
    reply = jana.say(payload=next(c.payload for c in answer.choices))
    assert "Als erledigt markiert: Kostenzusage vom Jugendamt – Familie Yılmaz." in reply[0]

    days(date(2027, 3, 14), twice=True)
    assert [(d, who, kind) for d, who, kind, _t in log] == [
        ("2027-03-05", "Jana", "reminder"), ("2027-03-05", "Tobias", "reminder"),  # 1 week before: only the plan
        ("2027-03-13", "Martina", "overdue"),  # the morning after the due day, once, to the Leitung
    ]
    assert "Überfällig seit Freitag, 12. März 2027: Unterschriebener Hilfeplan an alle Beteiligten" in log[-1][3]
    assert "Fachkräfte: Jana Weber, Tobias Klein" in log[-1][3]
    assert any("Überfällig" in t for t in martina.receive())

    # /fristen: Jana's coming deadlines, the overdue one first; she marks it done
    jana.receive()
    shown = jana.say("/fristen")
    assert "Unterschriebener Hilfeplan an alle Beteiligten – Familie Yılmaz – überfällig" in shown[0]
    assert "Hilfeplankonkretisierung" in shown[0]
    reply = jana.press("Erledigt: Unterschriebener Hilfeplan an alle Beteiligten, Familie Yılmaz")
    assert "Als erledigt markiert" in reply[0]
    assert item(app, f"signed_plan:{t1}").done_by.startswith("staff:")

    # the Konkretisierung takes place on 20 April (inside its 6–8 weeks): done by itself
    log.clear()
    days(date(2027, 4, 19))
    # 3 weeks and 1 week before 23 April, the end of its 6–8 weeks
    assert [(d, kind) for d, _w, kind, _t in log] == [("2027-04-02", "reminder")] * 2 + [("2027-04-16", "reminder")] * 2
    with app.sessions.begin() as session:
        case = session.get(Case, case_id)
        core.add_talk(session, app.services, OPS, clock.now(), case, "konkretisierung", berlin(2027, 4, 20, 10, 0),
                      ["Ayşe Yılmaz", "Jana Weber", "Dr. Katrin Schulz"])
    days(date(2027, 4, 21))
    assert item(app, f"konkretisierung:{t1}").done_by == "system"

    # the first Fortschreibung is planned for Thursday 26 August: the Entwicklungsbericht is due on 12 August
    jump(date(2027, 7, 1))
    log.clear()
    with app.sessions.begin() as session:
        case = session.get(Case, case_id)
        t3 = "t{}".format(core.add_talk(session, app.services, OPS, clock.now(), case, "fortschreibung",
                                        berlin(2027, 8, 26, 10, 0), ["Ayşe Yılmaz", "Murat Yılmaz", "Jana Weber",
                                                                     "Tobias Klein", "Dr. Katrin Schulz"]).id)
    assert item(app, "entwicklungsbericht:1").due_on == date(2027, 8, 12)
    days(date(2027, 8, 27), twice=True)
    assert [(d, who, kind) for d, who, kind, _t in log] == [
        ("2027-07-22", "Jana", "reminder"), ("2027-07-22", "Tobias", "reminder"),  # Entwicklungsbericht, 3 weeks
        ("2027-08-05", "Jana", "reminder"), ("2027-08-05", "Tobias", "reminder"),  # … 1 week
        ("2027-08-13", "Martina", "overdue"),
        ("2027-08-19", "Jana", "warning"), ("2027-08-19", "Tobias", "warning"), ("2027-08-19", "Martina", "warning"),
        # after the talk: its signed plan and Kostenzusage (not before it took place; no reminder of the
        # Fortschreibung itself while its talk is planned: the appointment has its own)
        ("2027-08-27", "Jana", "reminder"), ("2027-08-27", "Tobias", "reminder"),
        ("2027-08-27", "Jana", "reminder"), ("2027-08-27", "Tobias", "reminder"),
    ]
    warning = log[7][3]
    assert "Hilfeplanfortschreibung am Donnerstag, 26. August 2027 – Familie Yılmaz" in warning
    assert "Ohne ihn kann die Fortschreibung nicht stattfinden." in warning
    assert item(app, "fortschreibung:1").done_by == "system"  # its day has come
    # the Fortschreibung's own plan and Kostenzusage follow; the next one is 6 months after it
    assert item(app, "fortschreibung:2").due_on == date(2028, 2, 28)  # 26 Feb 2028 is a Saturday

    # the second Fortschreibung: planned in January for 24 February 2028; this time the report goes out in time
    for key in (f"signed_plan:{t3}", f"kostenzusage:{t3}", "entwicklungsbericht:1"):
        with app.sessions.begin() as session:
            found = session.scalar(select(HilfeplanItem).where(HilfeplanItem.key == key))
            core.mark_done(session, admin_principal(session), clock.now(), found)
    jump(date(2028, 1, 10))
    log.clear()
    with app.sessions.begin() as session:
        case = session.get(Case, case_id)
        core.add_talk(session, app.services, OPS, clock.now(), case, "fortschreibung", berlin(2028, 2, 24, 10, 0),
                      ["Ayşe Yılmaz", "Jana Weber", "Dr. Katrin Schulz"])
    days(date(2028, 2, 4))
    reminders = [(d, who) for d, who, kind, _t in log if kind == "reminder" and "Entwicklungsbericht" in _t]
    assert reminders == [("2028-01-20", "Jana"), ("2028-01-20", "Tobias"), ("2028-02-03", "Jana"),
                         ("2028-02-03", "Tobias")]
    jana.receive()
    jana.say("/fristen")
    jana.press("Erledigt: Entwicklungsbericht an die fallführende Fachkraft (2.), Familie Yılmaz")
    days(date(2028, 2, 25))
    assert not [x for x in log if x[2] in ("overdue", "warning") and "Entwicklungsbericht" in x[3]]
    assert item(app, "fortschreibung:2").done_by == "system"
    assert item(app, "fortschreibung:3").due_on == date(2028, 8, 24)


def admin_principal(session):  # type: ignore[no-untyped-def]
    from conversations import authz

    return authz.OPERATOR


def test_nothing_goes_out_in_quiet_hours_and_the_trager_sets_its_own_days(app, codes, bot, clock, settings):
    jana = bot.link("jana", codes["Jana"])
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        case.organisation.settings = {**case.organisation.settings,
                                      "hilfeplan": {"remind_days": [10], "hour": "06:30"}}
        core.set_start(session, OPS, clock.now(), case, date(2027, 3, 1))  # Fortschreibung due 1 Sept
    clock.set(berlin(2027, 8, 22, 6, 30))  # 10 days before the Fortschreibung (1 Sept)
    run_scan(app)
    with app.sessions.begin() as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "hilfeplan.reminder")))
    assert len(rows) == 1  # the Fortschreibung, 10 days ahead (the report's reminder day has passed long ago)
    assert rows[0].next_attempt_at.astimezone(BERLIN).strftime("%H:%M") == "08:00"  # after quiet hours
    assert jana.receive() == []
    # the process restarts before 08:00 and scans again: the waiting message stays the only one
    app.db.dispose()
    restarted = build(settings, clock)
    REGISTRY.tasks["hilfeplan"].run(restarted.services)
    with restarted.sessions.begin() as session:
        assert session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == "hilfeplan.reminder")) == 1
    clock.set(berlin(2027, 8, 22, 8, 0))
    assert "Frist in 10 Tagen, am Mittwoch, 1. September 2027: Hilfeplanfortschreibung (1.)" in jana.receive()[0]


def test_the_family_hears_the_date_and_gives_its_view_before_the_talk(app, codes, bot, clock):
    ayse = bot.link("ayse", codes["Ayşe"])
    murat = bot.link("murat", codes["Murat"])
    emre = bot.link("emre", codes["Emre"])
    jana = bot.link("jana", codes["Jana"])
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        core.set_start(session, OPS, clock.now(), case, date(2026, 11, 1))
        talk = core.add_talk(session, app.services, OPS, clock.now(), case, "fortschreibung",
                             berlin(2027, 4, 29, 10, 0), ["Ayşe Yılmaz", "Jana Weber"], place="Jugendamt")
        talk_id = talk.id
    told = ayse.receive()  # the date at once, as an appointment with its calendar file
    assert any("Hilfeplangespräch: Donnerstag, 29. April 2027, 10:00" in t for t in told), told
    clock.set(berlin(2027, 4, 15, 8, 59))
    run_scan(app)
    assert not any("Drei kurze Fragen" in t for t in ayse.receive())  # not yet
    clock.set(berlin(2027, 4, 15, 9, 0))  # two weeks before
    run_scan(app)
    run_scan(app)
    invitation = [t for t in ayse.receive() if "Drei kurze Fragen" in t]
    assert len(invitation) == 1
    assert "Am Donnerstag, 29. April 2027, 10:00 ist Ihr nächstes Gespräch mit dem Jugendamt zum Hilfeplan " \
           "(Hilfeplanfortschreibung)" in invitation[0]
    assert "Jana Weber und Tobias Klein lesen Ihre Antworten; sonst niemand aus Ihrer Familie." in invitation[0]
    assert any("Willst du deinen Fachkräften vorher sagen" in t for t in emre.receive())  # 15: du
    assert "Was ist seit dem letzten Hilfeplan gut gelaufen?" in ayse.press("Ja, bitte")[0]
    assert "Was soll sich ändern?" in ayse.say("Emre geht wieder öfter zur Schule")[0]
    assert "Was wünschen Sie sich für die nächsten Monate?" in ayse.press("Überspringen")[0]
    done = ayse.say("Termine am Nachmittag")
    assert "Danke! Ihre Fachkräfte lesen das vor dem Gespräch am Donnerstag, 29. April 2027." in done[0]
    view = [t for t in jana.receive() if "Sicht von" in t]
    assert view == ["Sicht von Ayşe Yılmaz (Familie Yılmaz) vor dem Gespräch am Donnerstag, 29. April 2027 "
                    "(Hilfeplanfortschreibung):\n• Was gut gelaufen ist: Emre geht wieder öfter zur Schule\n"
                    "• Was sich ändern soll: —\n• Wünsche: Termine am Nachmittag"]
    assert not any("Emre geht wieder" in t for t in murat.receive() + emre.receive())  # nobody else in the family
    # once sent, the button opens nothing; after the talk began it is no longer valid
    assert "abgeschlossen" in ayse.say(payload=f"act:hp_view:{talk_id}")[0]
    clock.set(berlin(2027, 4, 29, 10, 1))
    assert "gilt nicht mehr" in murat.say(payload=f"act:hp_view:{talk_id}")[0]


def test_a_planned_talk_moved_or_cancelled_in_the_calendar_moves_its_deadlines(app, codes, clock):
    from conversations import appointments

    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        core.set_start(session, OPS, clock.now(), case, date(2026, 11, 1))  # Fortschreibung due 3 May 2027
        talk = core.add_talk(session, app.services, OPS, clock.now(), case, "fortschreibung",
                             berlin(2027, 4, 29, 10, 0), [])
        appointment_id = talk.appointment_id
    assert item(app, "entwicklungsbericht:1").due_on == date(2027, 4, 15)
    with app.sessions.begin() as session:
        appointments.reschedule(session, app.services, OPS, appointments.find(session, appointment_id),
                                berlin(2027, 4, 22, 10, 0))
        core.sync(session, session.get(Case, talk.case_id), clock.now())
    assert item(app, "entwicklungsbericht:1").due_on == date(2027, 4, 8)  # two weeks before the new day
    with app.sessions.begin() as session:
        appointments.cancel(session, app.services, OPS, appointments.find(session, appointment_id),
                            by_family=False)
        core.sync(session, session.get(Case, talk.case_id), clock.now())
    assert item(app, "entwicklungsbericht:1").due_on == date(2027, 4, 19)  # back to 2 weeks before 3 May
    assert item(app, "fortschreibung:1").fulfilled_by is None


def test_the_demo_gives_the_yilmaz_case_its_hilfeplan_dates(app, codes):
    from bot.demo_hilfeplan import hilfeplan_dates

    with app.sessions.begin() as session:
        hilfeplan_dates(session, app.services)
        hilfeplan_dates(session, app.services)  # again: nothing twice
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        assert [(t.kind, t.day.isoformat()) for t in core.talks(session, case)] == [
            ("hilfeplan", "2026-08-25"), ("konkretisierung", "2026-10-13"), ("fortschreibung", "2027-02-25")]
        due = {i.key: (i.due_on.isoformat(), i.done_at is not None) for i in core.items(session, case)}
        t1 = f"t{core.talks(session, case)[0].id}"
    assert due[f"signed_plan:{t1}"][1] and due[f"kostenzusage:{t1}"][1] and due[f"konkretisierung:{t1}"][1]
    assert due["entwicklungsbericht:1"] == ("2027-02-11", False)  # a person marks it sent
    assert due["fortschreibung:2"] == ("2027-08-25", False)
