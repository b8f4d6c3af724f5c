"""Beschwerdemanagement end to end: Olga complains (anonymously, with a voice note), Kerstin Braun works it.

Everyone talks through the test channel's real engine, outbox and sender; time moves on the ManualClock.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, text

from conversations.clock import berlin
from conversations.complaints import rules
from conversations.flows.account import keys_of
from conversations.messages import Attachment
from conversations.registry import REGISTRY
from conversations.settings import Settings
from storage.models import AuditEvent, StaffMember, StaffRole
from storage.models.complaints import Complaint

VOICE = Attachment("sprachnachricht.ogg", "audio/ogg", b"OggS\x00voice-of-olga" * 50)
ABOUT_STAFF = "Meine Fachkraft oder andere Mitarbeitende"
ACCOUNT = "Herr Klein kommt seit Wochen zu spät und redet über meine Nachbarn."


def complain_anonymously_about_tobias(olga, *, word: str = "/скарга") -> list[str]:
    answer = olga.say(word)
    assert "Beschwerdestelle von Brücke e.V." in answer[0] and "Worüber" in answer[1]
    assert "Um wen geht es?" in olga.press(ABOUT_STAFF)[0]
    assert "Bitte erzählen Sie" in olga.press("Tobias Klein")[0]
    assert "aufgenommen" in olga.say(ACCOUNT)[0]
    assert "aufgenommen" in olga.say(attachments=(VOICE,))[0]
    identity = olga.press("Das ist alles")[0]
    assert "Anonym heißt" in identity and "nur das Chat-Programm" in identity.replace("Nur", "nur")
    olga.press("Anonym")
    assert "Ja, bitte rufen Sie mich an" not in olga.last.text + str(olga.last.choices)  # a number gives her away
    check = olga.press("Ja, hier im Chat")[0]
    assert "Abgeschickt: anonym" in check and "1 Datei angehängt" in check
    return olga.press("Abschicken")


def complaint(app, reference: str) -> Complaint:
    with app.sessions() as session:
        found = session.scalar(select(Complaint).where(Complaint.reference == reference))
        assert found is not None
        session.expunge(found)
        return found


def test_olga_complains_anonymously_and_kerstin_works_it_to_the_end(bot, codes, app):
    kerstin = bot.link("kerstin", codes["Kerstin"])
    tobias = bot.link("tobias", codes["Tobias"])
    olga = bot.link("olga", codes["Olga"])

    ack = complain_anonymously_about_tobias(olga)[0]
    assert "Ihr Zeichen: B-2027-0001" in ack
    assert "bis Mittwoch, 3. März 2027 auf" in ack and "spätestens bis Montag, 15. März 2027" in ack
    assert "nicht gezeigt" in ack and "Ombudsstelle Kinder- und Jugendhilfe Sachsen-Anhalt" in ack

    new = kerstin.receive()
    assert len(new) == 1 and "Eine neue Beschwerde ist eingegangen" in new[0] and "B-2027-0001" in new[0]
    assert "Von: anonym" in new[0] and "(Tobias Klein)" in new[0] and "Sprache: Deutsch" in new[0]
    assert "Olga" not in new[0] and "Petrenko" not in new[0]
    assert f"Was passiert ist:\n{ACCOUNT}\n" in new[0]  # her own words, not only the topic
    assert tobias.receive() == []  # the Fachkraft concerned hears nothing

    shown = kerstin.press("Anzeigen")[0]
    assert ACCOUNT in shown and "Petrenko" not in shown and "olga" not in shown
    assert kerstin.last.attachments[0].data == VOICE.data and "Was möchten Sie tun?" not in kerstin.last.text

    assert "Sie bearbeiten jetzt die Beschwerde B-2027-0001" in kerstin.press("Übernehmen")[0]
    taken = olga.receive()
    assert "B-2027-0001 ist aufgenommen. Kerstin Braun kümmert sich darum" in taken[0]

    assert "Rückfrage zur Beschwerde B-2027-0001" in kerstin.press("Rückfrage stellen")[0]
    assert "weitergegeben" in kerstin.say("Seit wann ist das so, und an welchen Tagen?")[0]
    question = olga.receive()[0]
    assert "Eine Rückfrage zu Ihrer Beschwerde B-2027-0001" in question and "an welchen Tagen" in question
    assert "Kerstin" not in question or "Braun" in question  # a named officer, never the complainant's name

    assert "Bitte schreiben Sie Ihre Antwort zu B-2027-0001" in olga.press("Antworten")[0]
    assert "weitergegeben" in olga.say("Seit Januar, immer dienstags.")[0]
    relayed = kerstin.receive()[0]
    assert "Antwort der beschwerdeführenden Person zu B-2027-0001" in relayed and "immer dienstags" in relayed

    kerstin.press("Antworten")
    kerstin.say("Wir haben mit Herrn Klein gesprochen. Ab sofort kommt er pünktlich.")
    answer = olga.receive()[0]
    assert "Die Antwort auf Ihre Beschwerde B-2027-0001, von Kerstin Braun" in answer and "pünktlich" in answer
    queue = kerstin.say("/beschwerden")[0].splitlines()
    assert queue[1].startswith("B-2027-0001 · ") and queue[1].endswith(" · beantwortet (Kerstin Braun)")
    assert queue[1].count("beantwortet") == 1  # the status once per line

    kerstin.press("Abschließen")
    kerstin.press("berechtigt")
    assert "ist abgeschlossen" in kerstin.say("Gespräch mit der Fachkraft; Termine werden verlässlich.")[0]
    closing = olga.receive()[0]
    assert "B-2027-0001 ist jetzt abgeschlossen" in closing and "Ergebnis: berechtigt" in closing
    assert "Termine werden verlässlich" in closing
    assert "Danke für Ihre Antwort" in olga.press("Ja")[0]
    assert "„Ja“" in kerstin.receive()[0]
    assert "schon beantwortet" in olga.press("Nein")[0]  # one rating only

    assert all("B-2027" not in m.text for m in tobias.seen)
    with app.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "complaint")).all()
    actions = {e.action for e in events}
    assert {"complaint.submitted", "complaint.read", "complaint.taken_over", "complaint.question_asked",
            "complaint.replied", "complaint.answered", "complaint.closed", "complaint.rated"} <= actions
    assert not [e for e in events if e.actor.startswith("member:") or e.case_id is not None]  # anonymous


def test_a_named_complaint_in_the_middle_of_another_flow_comes_back_to_it(bot, codes, app):
    kerstin = bot.link("kerstin", codes["Kerstin"])
    ayse = bot.link("ayse", codes["Ayşe"])
    ayse.say("/abmelden")
    assert "Worüber" in ayse.say("/beschwerde")[1]
    assert "Bitte erzählen Sie" in ayse.press("Termine")[0]
    ayse.say("Der Termin am Dienstag wurde zweimal verschoben, ohne dass mir jemand Bescheid gab.")
    ayse.say(attachments=(Attachment("brief.pdf", "application/pdf", b"%PDF-1.4 brief"),))
    ayse.press("Das ist alles")
    ayse.press("Mit meinem Namen")
    assert "Telefonnummer" in ayse.press("Ja, bitte rufen Sie mich an")[0]
    assert "nicht wie eine Telefonnummer" in ayse.say("morgen")[0]
    check = ayse.say("0391 123456")[0]
    assert "Abgeschickt: mit Ihrem Namen" in check and "Gewünscht: einen Anruf" in check
    after = ayse.press("Abschicken")
    assert "Ihr Zeichen: B-2027-0001" in after[0]
    assert "Möchten Sie diesen Chat trennen?" in after[1]  # the interrupted question comes back
    new = kerstin.receive()[0]
    assert "Von: Ayşe Yılmaz (Familie Yılmaz, F-2027-0001)" in new and "einen Anruf: 0391 123456" in new
    with app.sessions() as session:
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "complaint.submitted")).startswith(
            "member:")


def test_cancelling_deletes_what_was_written(bot, codes, app):
    ayse = bot.link("ayse", codes["Ayşe"])
    ayse.say("/beschwerde")
    ayse.press("Das Jugendamt")
    ayse.say("Niemand ruft zurück.")
    assert "gelöscht" in ayse.press("Abbrechen")[0]
    with app.sessions() as session:
        assert session.scalar(select(Complaint.id)) is None


def test_overdue_complaints_remind_the_officer_and_reach_the_leitung(bot, codes, app, clock):
    kerstin = bot.link("kerstin", codes["Kerstin"])
    leitung = bot.link("martina", codes["Martina"])
    olga = bot.link("olga", codes["Olga"])
    complain_anonymously_about_tobias(olga)
    kerstin.receive()
    deadlines = REGISTRY.tasks["complaint_deadlines"]

    clock.set(berlin(2027, 3, 3, 8, 59))  # take up by Wednesday 09:00: not yet late
    deadlines.run(app.services)
    assert kerstin.receive() == [] and leitung.receive() == []

    clock.set(berlin(2027, 3, 3, 9, 1))
    deadlines.run(app.services)
    deadlines.run(app.services)  # a second scan sends nothing twice
    reminder = kerstin.receive()
    assert len(reminder) == 1 and "Erinnerung: Die Beschwerde B-2027-0001 ist noch nicht aufgenommen" in reminder[0]
    notice = leitung.receive()
    assert len(notice) == 1 and "Für die Leitung: Die Beschwerde B-2027-0001 wurde nicht rechtzeitig aufgenommen" \
        in notice[0] and "Noch niemand hat sie übernommen" in notice[0]
    assert ACCOUNT not in notice[0]  # a notice, not the complaint

    kerstin.press("Übernehmen")
    clock.set(berlin(2027, 3, 15, 9, 1))
    deadlines.run(app.services)
    assert "noch nicht beantwortet" in kerstin.receive()[0]
    late = leitung.receive()
    assert len(late) == 1 and "nicht rechtzeitig beantwortet" in late[0] and "Bearbeitet von: Kerstin Braun" in late[0]
    assert "Ayşe" not in late[0] and "Olga" not in late[0]


def test_deadlines_count_working_days_and_keep_the_wall_clock_hour():
    friday = berlin(2027, 3, 26, 15, 0)
    assert rules.add_days(friday, 14) == berlin(2027, 4, 9, 15, 0)
    # Thursday before Easter + 2: Good Friday and Easter Monday are holidays in Sachsen-Anhalt, so
    # Tuesday and Wednesday are the two days (across the DST change, at the same wall-clock hour).
    thursday = berlin(2027, 3, 25, 15, 0)
    assert rules.policy(Settings(), None).calendar.add_working_days(thursday, 2) == berlin(2027, 3, 31, 15, 0)


def make_officer(app, name: str) -> int:
    with app.sessions.begin() as session:
        staff = session.scalar(select(StaffMember).where(StaffMember.name == name))
        session.add(StaffRole(staff_id=staff.id, role="beschwerde"))
        return staff.id


def test_a_complaint_about_an_officer_goes_to_the_leitung_only_and_is_hidden_from_them(bot, codes, app):
    tobias_id = make_officer(app, "Tobias Klein")  # Tobias handles complaints, too
    kerstin = bot.link("kerstin", codes["Kerstin"])
    tobias = bot.link("tobias", codes["Tobias"])
    leitung = bot.link("martina", codes["Martina"])
    olga = bot.link("olga", codes["Olga"])
    complain_anonymously_about_tobias(olga)

    assert tobias.receive() == [] and kerstin.receive() == []
    assert "B-2027-0001" in leitung.receive()[0]
    found = complaint(app, "B-2027-0001")
    assert found.leitung_only

    assert "keine offenen Beschwerden" in tobias.say("/beschwerden")[0]
    for action in ("show", "take", "ask", "answer", "close"):
        answer = tobias.say(payload=f"act:complaint_{action}:{found.id}")
        assert "Dieser Knopf gilt nicht mehr" in answer[0] and ACCOUNT not in " ".join(answer)
    assert "keine offenen Beschwerden" in kerstin.say("/beschwerden")[0]

    queue = leitung.say("/beschwerden")[0]
    assert "B-2027-0001" in queue and "aufnehmen bis" in queue
    assert ACCOUNT in leitung.press("B-2027-0001")[0]
    with app.sessions() as session:
        readers = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "complaint.read")))
    assert f"staff:{tobias_id}" not in readers


def test_a_fachkraft_named_in_a_complaint_never_sees_it(bot, codes, app):
    kerstin = bot.link("kerstin", codes["Kerstin"])
    tobias = bot.link("tobias", codes["Tobias"])
    olga = bot.link("olga", codes["Olga"])
    complain_anonymously_about_tobias(olga, word="/beschwerde")
    found = complaint(app, "B-2027-0001")
    assert "nicht zur Verfügung" in tobias.say("/beschwerden")[0]
    assert "Dieser Knopf gilt nicht mehr" in tobias.say(payload=f"act:complaint_show:{found.id}")[0]
    assert "B-2027-0001" in kerstin.say("/beschwerden")[0]


def test_no_complaint_text_or_file_is_readable_in_the_database(bot, codes, app):
    kerstin = bot.link("kerstin", codes["Kerstin"])
    olga = bot.link("olga", codes["Olga"])
    complain_anonymously_about_tobias(olga)
    kerstin.receive()
    kerstin.press("Anzeigen")  # the voice note goes out through the outbox, which does not encrypt files
    assert kerstin.last.attachments[0].data == VOICE.data
    REGISTRY.tasks["complaint_deadlines"].run(app.services)  # so the scan drops the delivered copy
    with app.db.connect() as conn:
        raw_text = conn.execute(text("SELECT text FROM complaint_entry")).scalars().all()
        raw_files = conn.execute(text("SELECT data FROM complaint_file")).scalars().all()
        assert conn.execute(text("SELECT count(*) FROM outbox_attachment")).scalar() == 0
    assert raw_text and all("Klein" not in value and "Nachbarn" not in value for value in raw_text)
    assert raw_files and all("voice-of-olga" not in str(value) and "T2dnUw" not in str(value) for value in raw_files)
    with app.sessions() as session:  # but the application reads them back
        entry = session.scalar(select(Complaint).where(Complaint.reference == "B-2027-0001")).entries[0]
        assert entry.text == ACCOUNT


def test_references_are_numbered_per_year(bot, codes, app, clock):
    bot.link("kerstin", codes["Kerstin"])
    olga = bot.link("olga", codes["Olga"])
    assert "B-2027-0001" in complain_anonymously_about_tobias(olga)[0]
    assert "B-2027-0002" in complain_anonymously_about_tobias(olga, word="/complaint")[0]
    clock.advance(timedelta(days=365))
    assert "B-2028-0001" in complain_anonymously_about_tobias(olga, word="/şikayet")[0]


def test_my_data_includes_my_own_complaints_also_the_anonymous_ones(bot, codes):
    bot.link("kerstin", codes["Kerstin"])
    olga = bot.link("olga", codes["Olga"])
    complain_anonymously_about_tobias(olga)
    olga.say("/meine_daten")
    export = json.loads(next(m for m in reversed(olga.seen) if m.attachments).attachments[0].data)
    mine = export["complaints"][0]
    assert mine["reference"] == "B-2027-0001" and mine["anonymous"] is True
    assert mine["messages"][0]["text"] == ACCOUNT and mine["files"] == ["sprachnachricht.ogg"]
    legend = export["Was die Felder bedeuten"]  # the keys stay for programs; the legend is in her language
    assert list(export)[0] == "Was die Felder bedeuten"
    assert (legend["about"], legend["anonymous"], legend["messages"]) == ("Thema", "Anonym geschickt", "Nachrichten")
    assert set(keys_of({k: v for k, v in export.items() if k != "Was die Felder bedeuten"})) <= set(legend)


def test_after_the_complainant_unlinked_nothing_reaches_a_stranger_and_the_officer_is_told(bot, codes, app):
    kerstin = bot.link("kerstin", codes["Kerstin"])
    olga = bot.link("olga", codes["Olga"])
    complain_anonymously_about_tobias(olga)
    kerstin.receive()
    olga.say("/abmelden")
    olga.press("Ja, trennen")
    kerstin.press("Rückfrage stellen")
    assert "nicht mehr verbunden" in kerstin.say("Sind Sie noch da?")[0]
    assert olga.receive() == []
    assert complaint(app, "B-2027-0001").relay_identity_id is None


def test_olga_complains_in_ukrainian_and_kerstin_reads_german(bot, codes):
    from conversations.i18n import language_name, translator

    uk = translator("uk").gettext
    kerstin = bot.link("kerstin", codes["Kerstin"])
    olga = bot.chat("olga")
    olga.say(codes["Olga"])
    olga.press(language_name("uk"))
    olga.press(uk("I agree"))
    assert uk("What is your complaint about?") in olga.say("/скарга")[1]
    olga.press(uk("My Fachkraft or another staff member"))
    olga.press("Tobias Klein")
    olga.say("Пан Кляйн постійно запізнюється.")
    olga.press(uk("That is all"))
    olga.press(uk("Anonymously"))
    olga.press(uk("Yes, here in the chat"))
    ack = olga.press(uk("Send"))[0]
    assert uk("Thank you. Your complaint has been received.") in ack and "B-2027-0001" in ack
    new = kerstin.receive()[0]
    assert "Eine neue Beschwerde ist eingegangen" in new and f"Sprache: {language_name('uk')}" in new
    assert "Пан Кляйн постійно запізнюється." in kerstin.press("Anzeigen")[0]


def test_an_organisation_sets_its_own_deadlines_and_ombudsstelle(settings):
    from storage.models import Organisation

    default = rules.policy(settings, None)
    assert (default.take_up_working_days, default.answer_days) == (2, 14)
    assert "Sachsen-Anhalt" in default.ombudsstelle
    own = Organisation(name="Brücke e.V.", settings={"complaints": {
        "take_up_working_days": 1, "answer_days": 10, "ombudsstelle": "Ombudsstelle Magdeburg, 0391 000"}})
    assert rules.policy(settings, own) == rules.Policy(1, 10, "Ombudsstelle Magdeburg, 0391 000")


def test_a_complaint_at_night_is_acknowledged_at_once_and_reaches_the_officer_in_the_morning(bot, codes, clock):
    kerstin = bot.link("kerstin", codes["Kerstin"])
    olga = bot.link("olga", codes["Olga"])
    clock.set(berlin(2027, 3, 2, 22, 30))
    assert "Ihr Zeichen: B-2027-0001" in complain_anonymously_about_tobias(olga)[0]
    assert kerstin.receive() == []
    clock.set(berlin(2027, 3, 3, 8, 0))
    assert "Eine neue Beschwerde ist eingegangen" in kerstin.receive()[0]
