"""Appointments in reach: "Meine Termine" for families at any time, the agenda for Fachkräfte, and the rules
for entering them (a past visit is only recorded; overlaps warn; a second Meilensteingespräch is refused)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from conversations import appointments as appts
from conversations.admin import Actor, AdminError
from conversations.clock import berlin
from conversations.rules.outcomes import AppointmentKind
from storage.models import Appointment, Case, OutboxMessage, StaffMember

OPS = Actor("test")


def enter(app, start: datetime, minutes: int = 120, kind: str = AppointmentKind.HAUSBESUCH) -> int:  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        jana = session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber"))
        assert case is not None and jana is not None
        return appts.create_appointment(session, app.services, OPS, case, kind, start, minutes, [jana],
                                        appts.default_members(case)).id


def outcome_of(app, appointment_id: int) -> str:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return session.get(Appointment, appointment_id).outcome  # type: ignore[union-attr]


def test_meine_termine_with_none_says_so_kindly(bot, codes):
    murat = bot.link("murat", codes["Murat"])
    answer = murat.say("Meine Termine")  # the menu entry, typed
    assert "Sie haben gerade keine Termine" in answer[0] and "Was möchten Sie tun?" in answer[-1]


def test_meine_termine_lists_the_coming_ones_each_with_its_actions(bot, codes, app):
    first, second = enter(app, berlin(2027, 3, 9, 10)), enter(app, berlin(2027, 3, 16, 10))
    murat = bot.link("murat", codes["Murat"])
    murat.receive()
    listed = murat.say("/termine")[0]
    assert "Ihre nächsten Termine" in listed and "9. März" in listed and "16. März" in listed
    one = murat.say("2")[0]
    assert "Ihr Termin" in one and "16. März" in one
    assert "1. Bestätigen" in one and "2. Termin absagen" in one and "3. Anderen Termin erbitten" in one
    murat.say("Bestätigen")
    # Later, from the menu: confirmed, and still cancel or move.
    murat.say("/menue")
    murat.say("Meine Termine")
    again = murat.say("2")[0]
    assert "Sie haben ihn bestätigt" in again and "Bestätigen" not in again.split("\n", 2)[-1]
    asked = murat.say("Termin absagen")
    assert "Ohne Grund absagen" in asked[-1]
    murat.say("Leyla ist krank.")
    assert outcome_of(app, second) == "cancelled_by_family" and outcome_of(app, first) == "planned"


@pytest.mark.parametrize(("lang", "word"), [("Türkçe", "/randevularım"), ("Türkçe", "/randevularim"),
                                            ("العربية", "/مواعيدي"), ("Українська", "/мої_зустрічі"),
                                            ("Русский", "/мои_встречи"), ("English", "/appointments")])
def test_meine_termine_has_a_word_in_every_language(bot, codes, app, lang, word):
    enter(app, berlin(2027, 3, 9, 10))
    ayse = bot.link("ayse", codes["Ayşe"], lang)
    ayse.receive()
    ayse.say(word)
    assert [c.payload.split(":")[1] for c in ayse.last.choices][:3] == ["appt_confirm", "appt_cancel", "appt_move"]


def test_another_family_cannot_reach_an_appointment_through_its_number(bot, codes, app):
    visit = enter(app, berlin(2027, 3, 9, 10))
    olga = bot.link("olga", codes["Olga"])
    answer = olga.say(payload=f"act:appt_show:{visit}")
    assert "Dieser Knopf gilt nicht mehr" in answer[0] and "Hausbesuch" not in answer[0]


def test_the_agenda_today_tomorrow_the_week_and_what_is_still_to_record(bot, codes, app, clock):
    clock.set(berlin(2027, 3, 9, 8, 0))
    today = enter(app, berlin(2027, 3, 9, 10))
    enter(app, berlin(2027, 3, 10, 14), 90)
    enter(app, berlin(2027, 3, 15, 9))
    jana = bot.link("jana", codes["Jana"])
    agenda = jana.say("/agenda")[0]
    assert agenda.startswith("Heute, Dienstag, 9. März 2027:") and "10:00 Familie Yılmaz: Hausbesuch (2 Std.)" in agenda
    assert "Morgen" in jana.say("Morgen")[0]
    week = jana.say("Die nächsten sieben Tage")[0]
    assert [line.startswith("• ") and "Familie Yılmaz" in line for line in week.splitlines()].count(True) == 3

    clock.set(berlin(2027, 3, 9, 12, 30))  # the visit is over, nothing recorded yet
    agenda = jana.say("/termine")[0]  # the family's word leads staff to the agenda
    assert "noch nicht erfasst" in agenda and "Vorbei, aber noch nicht erfasst" in agenda
    asked = jana.say("1")[0]
    assert "Was ist bei diesem Termin mit Familie Yılmaz passiert?" in asked
    jana.say("Hat stattgefunden")
    recorded = jana.say("2")[0]
    assert "Eingetragen: Hausbesuch: Dienstag, 9. März 2027, 10:00 (2 Std.): fand statt" in recorded
    assert outcome_of(app, today) == "took_place"
    assert "noch nicht erfasst" not in jana.say("/agenda")[0]


def test_a_visit_entered_afterwards_is_recorded_without_telling_the_family(bot, codes, app, clock):
    murat = bot.link("murat", codes["Murat"])
    clock.set(berlin(2027, 3, 20, 9))
    enter(app, berlin(2027, 3, 2, 10))  # an import of last month's visits
    assert murat.receive() == []
    with app.sessions() as session:
        assert session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "appointment.new")) is None


def test_overlapping_appointments_warn_the_fachkraft(bot, codes, app):
    enter(app, berlin(2027, 3, 16, 10))
    jana = bot.link("jana", codes["Jana"])
    for typed in ("/termin", "Hilfeplangespräch", "16.03.2027", "11:00", "1", "Einmal"):
        summary = jana.say(typed)
    assert "Achtung: Er überschneidet sich mit Hausbesuch: Dienstag, 16. März 2027, 10:00" in summary[-1]
    jana.say("Ja, eintragen")  # allowed, once warned
    with app.sessions() as session:
        assert len(session.scalars(select(Appointment)).all()) == 2


def test_starting_a_new_appointment_over_again_halfway_enters_one_and_asks_nothing_after_it(bot, codes, app):
    jana = bot.link("jana", codes["Jana"])
    jana.say("/termin")
    assert "An welchem Tag?" in jana.say("Hilfeplangespräch")[0]
    assert "Welche Art von Termin?" in jana.say("/termin")[0]  # second thoughts: from the start
    for typed in ("Hausbesuch", "16.03.2027", "11:00", "1", "Einmal"):
        jana.say(typed)
    done = jana.say("Ja, eintragen")
    assert "1 Termin eingetragen" in done[0]
    assert "Was möchten Sie tun?" in done[-1], done  # the menu, not the first try's "which day?" again
    with app.sessions() as session:
        assert [a.kind for a in session.scalars(select(Appointment))] == [AppointmentKind.HAUSBESUCH]


def test_a_second_meilensteingespraech_at_the_same_time_is_refused(bot, codes, app):
    enter(app, berlin(2027, 4, 14, 10), 90, AppointmentKind.MEILENSTEINGESPRAECH)
    with pytest.raises(AdminError, match="already planned"):
        enter(app, berlin(2027, 4, 14, 11), 60, AppointmentKind.MEILENSTEINGESPRAECH)
    enter(app, berlin(2027, 4, 14, 11, 30), 60, AppointmentKind.MEILENSTEINGESPRAECH)  # after it: fine

    jana = bot.link("jana", codes["Jana"])
    for typed in ("/termin", "Meilensteingespräch", "14.04.2027", "10:30", "1"):
        jana.say(typed)
    refused = jana.say("Einmal")
    assert "schon ein Meilensteingespräch mit Familie Yılmaz geplant" in refused[0]
    assert "An welchem Tag?" in refused[-1]


def test_moving_onto_another_meilensteingespraech_is_refused(app, codes):
    enter(app, berlin(2027, 4, 14, 10), 90, AppointmentKind.MEILENSTEINGESPRAECH)
    other = enter(app, berlin(2027, 4, 21, 10), 90, AppointmentKind.MEILENSTEINGESPRAECH)
    with app.sessions.begin() as session, pytest.raises(AdminError, match="already planned"):
        appts.reschedule(session, app.services, OPS, session.get(Appointment, other), berlin(2027, 4, 14, 10, 30))
    with app.sessions.begin() as session:
        moved = appts.reschedule(session, app.services, OPS, session.get(Appointment, other),
                                 berlin(2027, 4, 21, 10) + timedelta(days=1))
        assert moved.starts_at.astimezone().day == 22


@pytest.mark.parametrize("typed", ["Meine Termine", "meine termine", "termine"])
def test_the_menu_entry_by_its_words_after_other_replies_came_in_between(bot, codes, app, typed):
    """The menu was shown long ago; since then the emergency numbers (no options) were the last reply.
    Typing the menu entry's words still opens it, instead of "I am a chat program"."""
    enter(app, berlin(2027, 3, 9, 10))
    murat = bot.link("murat", codes["Murat"])
    murat.receive()
    murat.say("/menue")
    murat.say("/notfall")
    murat.say("Bitte melden Sie sich bei mir")  # words at the emergency question: answered, no list left open
    listed = murat.say(typed)
    assert any("9. März" in text for text in listed), listed
    assert not any("Chat-Programm" in text for text in listed)
