"""A Fachkraft types dates as people do ("Donnerstag 10 Uhr"); an impossible one is named, not guessed."""

from __future__ import annotations


def test_a_new_appointment_from_a_natural_phrase_and_an_impossible_date(bot, codes):
    jana = bot.link("jana", codes["Jana"])  # German; the clock stands at Monday, 1 March 2027, 09:00
    jana.say("/termin")
    assert "An welchem Tag?" in jana.press("Hausbesuch")[-1]
    answer = jana.say("31.02.")
    assert answer[0] == "Den 31.02.2027 gibt es nicht: Der Februar 2027 hat 28 Tage."
    assert "An welchem Tag?" in answer[-1]
    # Day and time in one go: the time question is skipped.
    assert "Wie lange?" in jana.say("Donnerstag 10 Uhr")[-1]
    jana.press("2 Std.")
    summary = jana.press("Einmal")[-1]
    assert "Donnerstag, 4. März 2027, 10:00" in summary, summary


def test_a_day_alone_asks_for_the_time_and_a_past_time_is_refused(bot, codes):
    jana = bot.link("jana", codes["Jana"])
    jana.say("/termin")
    jana.press("Hausbesuch")
    assert "Um wie viel Uhr?" in jana.say("heute")[-1]
    answer = jana.say("8:00")  # it is 09:00 already
    assert any("in der Zukunft" in line for line in answer)
    assert "Wie lange?" in jana.say("15:30")[-1]
