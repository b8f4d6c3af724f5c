"""The options of the open question stay reachable: by number (in any script) and by their words.

Transcripts typed as a Matrix family types (numbers and words, no buttons), for the cases seen in the
field: /notfall then 1, /offen then 1, the officer's 4, a pushed appointment confirmed and cancelled by
typing; and the model's rules: the menu never takes a reply's numbers, a bare number where words are kept
is asked about once, a sentence at a choice question is not taken as a choice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conversations.choices import Offer, by_label, number_of
from conversations.clock import berlin
from storage.models import Appointment, Case, Escalation
from storage.models.complaints import Complaint


@pytest.mark.parametrize(("typed", "number"), [
    ("2", 2), (" 2. ", 2), ("2)", 2), ("(2)", 2), ("#2", 2), ("²", 2), ("②", 2), ("٢", 2), ("۲", 2),
    ("２", 2), ("2️⃣", 2), ("🔟", 10), ("⑩", 10), ("١٢", 12), ("¹²", 12),
])
def test_digits_in_any_script_are_numbers(typed, number):
    assert number_of(typed) == number


@pytest.mark.parametrize("typed", ["", "0", "2,5", "2.5", "12345", "zwei", "½", "2 3", "-1"])
def test_what_is_not_an_option_number(typed):
    assert number_of(typed) is None


def test_labels_match_without_case_accents_punctuation_or_umlauts():
    options = [Offer("Bestätigen", "a"), Offer("Termin absagen", "b"), Offer("İptal", "c"), Offer("إلغاء", "d")]
    assert by_label(options, "termin ABSAGEN!").payload == "b"  # type: ignore[union-attr]
    assert by_label(options, "bestaetigen").payload == "a"  # type: ignore[union-attr]
    assert by_label(options, "Bestatigen").payload == "a"  # type: ignore[union-attr]
    assert by_label(options, "iptal").payload == "c"  # type: ignore[union-attr]
    assert by_label(options, "إِلغاء").payload == "d"  # type: ignore[union-attr]  (with a vowel mark)
    assert by_label(options, "absagen") is None  # a part is not the label
    assert by_label([Offer("Ja", "x"), Offer("ja", "y")], "ja") is None  # two options with one name: use the number
    scale = [Offer(face, str(i)) for i, face in enumerate("😞🙁😐🙂😄")]
    assert [by_label(scale, face).payload for face in "😞🙁😐🙂😄"] == ["0", "1", "2", "3", "4"]  # type: ignore[union-attr]


def yilmaz(app) -> Case:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))  # type: ignore[return-value]


def alerts(app) -> list[Escalation]:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return list(session.scalars(select(Escalation).order_by(Escalation.id)))


def test_notfall_then_1_tells_the_fachkraefte(bot, codes, app):
    murat = bot.link("murat", codes["Murat"])
    shown = murat.say("/notfall")
    assert "116 111" in shown[0] and "1. Jetzt meinen Fachkräften Bescheid geben" in shown[-1]
    assert "Was möchten Sie tun?" not in "\n".join(shown)  # the menu does not take the number
    assert "Bescheid gegeben" in murat.say("1")[0]
    assert len(alerts(app)) == 1


def test_notfall_then_its_words_tells_the_fachkraefte(bot, codes, app):
    ayse = bot.link("ayse", codes["Ayşe"], "Türkçe")
    ayse.say("/acil")
    label = ayse.last.choices[0].label
    ayse.say(label.upper())
    assert len(alerts(app)) == 1


def test_offen_then_1_marks_the_alert_handled(bot, codes, app):
    jana = bot.link("jana", codes["Jana"])
    emre = bot.link("emre", codes["Emre"])
    emre.say("ich halt das zuhause nicht mehr aus")
    jana.receive()
    jana.say("/offen")
    assert "Danke. Festgehalten" in jana.say("1")[0]
    assert alerts(app)[0].acknowledged_at is not None


def test_offen_with_several_alerts_offers_one_list_naming_each(bot, codes, app, clock):
    jana = bot.link("jana", codes["Jana"])
    emre = bot.link("emre", codes["Emre"])
    emre.say("ich halt das zuhause nicht mehr aus")
    clock.advance(timedelta(minutes=5))
    emre.say("ich will nicht mehr leben")
    jana.receive()
    shown = jana.say("/offen")
    assert sum(1 for m in jana.seen[-len(shown):] if m.choices) == 1
    assert "Was davon ist erledigt?" in shown[-1] and "2. " in shown[-1]
    jana.say("2")
    handled = [a.acknowledged_at is not None for a in alerts(app)]
    assert handled == [False, True]


def complaint_from_olga(bot, codes):  # type: ignore[no-untyped-def]
    olga = bot.link("olga", codes["Olga"])
    olga.say("/beschwerde")
    for typed in ("1", "3", "Er kommt immer zu spät.", "Das ist alles", "anonym", "1", "Abschicken"):
        olga.say(typed)
    return olga


def test_the_officer_types_4_to_close(bot, codes, app):
    complaint_from_olga(bot, codes)
    kerstin = bot.link("kerstin", codes["Kerstin"])
    kerstin.receive()
    kerstin.say("/beschwerden")
    kerstin.say("1")  # show
    kerstin.say("1")  # take over
    assert "Mit welchem Ergebnis" in kerstin.say("4")[0]
    kerstin.say("berechtigt")
    kerstin.say("Wir haben mit Herrn Klein gesprochen; er kommt jetzt pünktlich.")
    with app.sessions() as session:
        assert session.scalar(select(Complaint.status)) == "closed"


def new_visit(bot, codes):  # type: ignore[no-untyped-def]
    jana = bot.link("jana", codes["Jana"])
    jana.say("/termin")
    for typed in ("Hausbesuch", "09.03.2027", "10:00", "2", "Einmal", "Ja, eintragen"):
        jana.say(typed)
    return jana


def test_a_pushed_appointment_is_confirmed_and_then_cancelled_by_typing(bot, codes, app):
    murat = bot.link("murat", codes["Murat"])
    jana = new_visit(bot, codes)
    assert "Neuer Termin" in murat.receive()[0]
    thanks = murat.say("1")
    assert "Danke! Bis dann" in thanks[0]
    assert "1. Termin absagen" in thanks[0]  # cancelling and moving stay possible, with their own numbers
    asked = murat.say("termin absagen")
    assert "absagen" in asked[-1] and "Ohne Grund absagen" in asked[-1]
    murat.say("Ohne Grund absagen")
    with app.sessions() as session:
        assert session.scalar(select(Appointment.outcome)) == "cancelled_by_family"
    assert "Murat hat abgesagt" in jana.receive()[-1]


def test_two_hours_typed_as_2_are_two_hours(bot, codes, app):
    new_visit(bot, codes)
    with app.sessions() as session:
        assert session.scalar(select(Appointment.duration_minutes)) == 120


def test_superscript_and_circled_digits_choose_instead_of_failing(bot, codes):
    murat = bot.link("murat", codes["Murat"])
    murat.say("/menue")
    assert "In welcher Sprache" in murat.say("②")[0]
    assert "Gut, ich schreibe ab jetzt auf Deutsch" in murat.say("¹")[0]


def test_a_bare_number_where_words_are_kept_is_asked_about_once(bot, codes, app):
    olga = bot.link("olga", codes["Olga"])
    olga.say("/beschwerde")
    olga.say("Termine")
    asked = olga.say("7")
    assert "nur „7“ geschrieben" in asked[0]
    again = olga.say("Nein, ich schreibe es noch einmal")
    assert "Bitte erzählen Sie, was passiert ist" in again[-1]
    assert "nur „7“ geschrieben" in olga.say("7")[0]
    assert "Danke, das habe ich aufgenommen" in olga.say("7")[0]  # the same number again: it is meant
    with app.sessions() as session:
        complaint = session.scalar(select(Complaint))
        assert [e.text for e in complaint.entries] == ["7"]  # type: ignore[union-attr]


def test_keeping_the_number_keeps_it(bot, codes, app):
    olga = bot.link("olga", codes["Olga"])
    olga.say("/beschwerde")
    olga.say("Termine")
    olga.say("٣")
    olga.say("1")  # "Ja, „٣“ behalten"
    with app.sessions() as session:
        complaint = session.scalar(select(Complaint))
        assert [e.text for e in complaint.entries] == ["٣"]  # type: ignore[union-attr]


def test_a_sentence_at_a_choice_question_is_not_taken_as_a_choice(bot, codes, app):
    olga = bot.link("olga", codes["Olga"])
    olga.say("/beschwerde")
    answer = olga.say("Ich weiß nicht genau, worum es geht")
    assert "Bitte antworten Sie mit einer der Möglichkeiten" in answer[0]
    assert "Worüber möchten Sie sich beschweren?" in answer[-1]


def test_after_the_danger_help_nothing_reads_like_being_sent_away(bot, codes, app):
    emre = bot.link("emre", codes["Emre"])
    answer = emre.say("ich halt das zuhause nicht mehr aus")
    assert len(answer) == 1 and "116 111" in answer[0]
    assert "Chat-Programm" not in answer[0]


def test_after_the_danger_help_at_a_choice_question_only_the_question_comes_back(bot, codes, app):
    emre = bot.link("emre", codes["Emre"])
    emre.say("/beschwerde")
    answer = emre.say("mein vater schlägt mich")
    assert "116 111" in answer[0]
    assert "Bitte antworten" not in "\n".join(answer)
    assert "Worüber möchtest du dich beschweren?" in answer[-1]  # Emre is 15: du


def test_a_reminder_held_back_by_quiet_hours_counts_from_when_it_arrives(bot, codes, app, clock):
    from bot.scheduler import run_all

    murat = bot.link("murat", codes["Murat"])
    new_visit(bot, codes)
    murat.receive()
    murat.say("/sprache")  # the open question: the languages
    clock.set(berlin(2027, 3, 7, 10, 0))
    run_all(app.services)  # the two-day reminder
    assert "Erinnerung" in murat.receive()[0]
    assert "Danke! Bis dann" in murat.say("1")[0]  # 1 is the reminder's "Bestätigen", not "Deutsch"
