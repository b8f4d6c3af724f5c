"""Meilensteingespräch (issue 8): the family's voice collected beforehand, for the person who leads it.

The SCENARIOS.md story: the talk is on 14 April 2027 with Sabine Roth; on 4 April Ayşe and Murat
(separately) and Emre (youth version) are invited; Ayşe answers half on the bus and finishes two days later.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.app import build
from conversations import admin
from conversations.admin import Actor, AdminError
from conversations.clock import berlin
from conversations.messages import Attachment
from conversations.milestone import core
from conversations.milestone.scan import scan
from storage.models import (
    Case,
    Complaint,
    MilestoneAction,
    MilestoneEvaluation,
    MilestoneResponse,
    Role,
    StaffMember,
)
from tests.support.harness import Bot

TALK = berlin(2027, 4, 14, 10, 0)
OPS = Actor("test")


def staff_named(session, name: str) -> StaffMember:
    return session.scalar(select(StaffMember).where(StaffMember.name == name))


def yilmaz(session) -> Case:
    return session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))


@pytest.fixture
def planned(app, codes):
    """The Yılmaz case with two Hilfeplan goals and the Meilensteingespräch on 14 April with Sabine."""
    with app.sessions.begin() as session:
        case, now = yilmaz(session), app.services.clock.now()
        core.add_goal(session, OPS, now, case, "Emre geht jeden Tag zur Schule", "richtungsziel")
        core.add_goal(session, OPS, now, case, "Ayşe sagt ab, wenn ein Termin nicht passt", "vereinbarung")
        ms = core.create_milestone(session, OPS, now, case, TALK, staff_named(session, "Sabine Roth"),
                                   services=app.services)
        return ms.id


def texts(chat) -> str:
    return "\n".join(m.text for m in chat.seen)


def test_the_leader_must_not_be_on_the_team(app, codes):
    with app.sessions.begin() as session:
        case, now = yilmaz(session), app.services.clock.now()
        petra = admin.add_staff(session, OPS, now, case.organisation, "Petra Lang",
                                [Role.FACHKRAFT, Role.GESPRAECHSFUEHRUNG])
        admin.assign(session, OPS, now, case, petra, Role.FACHKRAFT)
        with pytest.raises(AdminError, match="works on this case"):
            core.create_milestone(session, OPS, now, case, TALK, petra)
        with pytest.raises(AdminError, match="gespraechsfuehrung"):
            core.create_milestone(session, OPS, now, case, TALK, staff_named(session, "Kerstin Braun"))


def test_invitation_partial_answers_restart_resume_summary_send(app, settings, clock, codes, planned, bot):
    ayse, murat, emre = (bot.link(n.lower().replace("ş", "s"), codes[n]) for n in ("Ayşe", "Murat", "Emre"))
    jana = bot.link("jana", codes["Jana"])
    sabine = bot.link("sabine", codes["Sabine"])

    clock.set(berlin(2027, 4, 3, 9, 0))
    scan(app.services)
    assert all("Ihre Sicht ist wichtig" not in t for t in ayse.receive())  # eleven days before: not yet

    clock.set(berlin(2027, 4, 4, 9, 0))
    scan(app.services)
    scan(app.services)  # a second scan (or instance) sends nothing twice
    invitation = ayse.receive()
    assert len(invitation) == 1 and "Ihre Sicht ist wichtig" in invitation[0]
    assert "Hallo! Am" in emre.receive()[-1]  # the youth version
    assert "Ihre Sicht ist wichtig" in murat.receive()[-1]  # separately, in his own chat
    assert "Bitte geben Sie vorab Ihre Sicht" in jana.receive()[-1]
    assert all("Sicht" not in t for t in sabine.receive())  # the leader answers nothing; she gets the summary

    # On the bus: who reads, voluntary; then half of the questions.
    intro = ayse.press("Fragebogen öffnen")[0]
    assert "Sabine Roth" in intro and "Jana Weber und Tobias Klein" in intro and "freiwillig" in intro
    assert "Andere Familienmitglieder sehen Ihre Antworten nicht" in intro
    # a) the Eigenverantwortungsblätter first: what the family took on itself, and how it went
    assert "Was haben Sie selbst übernommen (die Eigenverantwortungsblätter)?" in ayse.press("Start")[0]
    assert "Und wie ist es gelaufen?" in ayse.say("Ich bringe Leyla jeden Morgen selbst zur Schule")[0]
    assert "Richtungsziel 1 von 2: „Emre geht jeden Tag zur Schule“" in ayse.press("Teils gut")[0]
    assert "Warum?" in ayse.press("Teilweise")[0]
    # b) per goal, besides reached / partly / not yet: is it still the right goal?
    assert "Ist dieses Ziel für Sie noch richtig?" in ayse.say("Er geht öfter, aber noch nicht jeden Tag")[0]
    assert [c.label for c in ayse.last.choices][:3] == ["Ja, noch richtig", "Es sollte geändert werden",
                                                        "Passt nicht mehr"]
    assert "Vereinbarung 2 von 2" in ayse.press("Es sollte geändert werden")[0]
    assert "besuchen Ihre Fachkräfte Sie zu Hause" in ayse.press("Überspringen")[0]
    voice = Attachment("voice.ogg", "audio/ogg", b"OggS-voice-note")
    answer = ayse.say(attachments=(voice,))
    assert "gespeichert" in answer[0] and "Kontakt zu Ihren Kindern" in answer[1]

    # The process restarts; two days later she goes on with /fragebogen.
    app.db.dispose()
    restarted = Bot(build(settings, clock))
    clock.set(berlin(2027, 4, 6, 18, 30))
    ayse = restarted.chat("ayse")
    back = ayse.say("/fragebogen")
    assert "wieder da" in back[0] and "Kontakt zu Ihren Kindern" in back[1]
    assert "Wie geht es Emre zurzeit?" in ayse.press("Passend")[0]
    assert "Wie geht es Leyla zurzeit?" in ayse.press("Teils gut")[0]
    assert "Zusammenarbeit mit Ihren Fachkräften" in ayse.press("Gut")[0]
    assert "Was wünschen Sie sich" in ayse.press("🙂")[0]
    assert "beschweren" in ayse.say("Dass die Termine nicht so früh am Morgen sind")[0]
    assert "Beschwerdestelle von Brücke e.V." in ayse.say("Einmal kam niemand und hat nicht abgesagt")[0]
    assert "sonst noch etwas" in ayse.press("Ja, weitergeben")[0]
    overview = ayse.press("Überspringen")[0]

    assert "• Ziel: Emre geht jeden Tag zur Schule: Teilweise\n• Warum: Emre geht jeden Tag zur Schule: „Er geht öfter" in overview
    assert "Ziel: Ayşe sagt ab, wenn ein Termin nicht passt: übersprungen" in overview
    assert "• Was die Familie selbst übernommen hat: „Ich bringe Leyla jeden Morgen selbst zur Schule“" in overview
    assert "• Wie es gelaufen ist: Teils gut" in overview
    assert "• Noch richtig: Emre geht jeden Tag zur Schule: Es sollte geändert werden" in overview
    assert "Hausbesuche: Sprachnachricht oder Datei (1)" in overview
    assert "Zusammenarbeit: 🙂 (4/5)" in overview

    # Correctable until sent.
    ayse.press("Eine Antwort ändern")
    assert "besuchen Ihre Fachkräfte Sie zu Hause" in ayse.press("Hausbesuche")[0]
    assert "Hausbesuche: Zu wenige" in ayse.press("Zu wenige")[0]
    sent = ayse.press("Abschicken")
    assert "Ihre Beschwerde ist angekommen" in sent[0]  # she agreed: also filed with the complaint office
    assert any("an Sabine Roth geschickt" in t for t in sent), sent
    with app.sessions() as session:
        complaint = session.scalar(select(Complaint))
        assert complaint.status == "new" and not complaint.anonymous
        assert complaint.member_id == session.scalar(select(MilestoneResponse.member_id).where(
            MilestoneResponse.complaint_filed_at.is_not(None)))
    assert "keinen Fragebogen" in ayse.say("/fragebogen")[0]

    # Murat skips every question and sends; he never sees what Ayşe wrote.
    murat.press("Fragebogen öffnen")
    step = murat.press("Start")
    while "Jetzt abschicken?" not in step[-1]:
        step = murat.press("Überspringen")
    murat.press("Abschicken")
    assert "früh am Morgen" not in texts(murat) and "Er geht öfter" not in texts(murat)

    # Jana (Fachkraft) gives her view, including h).
    jana.press("Fragebogen öffnen")
    assert "Was hat die Familie seit dem letzten Meilensteingespräch selbst übernommen" in jana.press("Start")[0]
    jana.say("Ayşe bringt Leyla selbst zur Schule")
    jana.press("Gut")  # how it went
    jana.press("Noch nicht")
    jana.say("Emre fehlt oft montags")
    assert "Ist dieses Ziel noch richtig?" in jana.last.text
    jana.press("Ja, noch richtig")
    jana.press("Erreicht")
    jana.press("Überspringen")  # why
    jana.press("Überspringen")  # still right?
    jana.press("Passend")
    jana.press("Zu wenig")  # contact with the children
    jana.press("Nicht gut")  # Emre
    jana.press("Gut")  # Leyla
    jana.press("🙂")
    jana.say("Dass Emre mehr mitentscheidet")
    assert "anders oder besser" in jana.last.text
    assert "von außen ansprechen" in jana.say("Mehr Mitwirkung bei Terminen")[0]
    jana.say("Die Fehlzeiten von Emre")
    jana.press("Überspringen")
    jana.press("Abschicken")

    # Two days before: Sabine gets the summary with both views side by side, as text and PDF.
    clock.set(berlin(2027, 4, 12, 10, 0))
    sabine = restarted.chat("sabine")
    scan(restarted.app.services)
    got = sabine.receive()
    summary = got[0]
    assert "Lassen Sie die Familie zuerst sprechen." in summary  # the briefing: side by side, the family first
    assert "⚠ Richtungsziel: Emre geht jeden Tag zur Schule" in summary  # family: partly, Fachkräfte: not yet
    assert "*Eigenverantwortungsblätter: was die Familie selbst übernommen hat*" in summary
    assert "Familie: Ayşe: „Ich bringe Leyla jeden Morgen selbst zur Schule“" in summary
    assert "⚠ Wie es gelaufen ist\n   Familie: Ayşe: Teils gut\n   Fachkräfte: Jana: Gut" in summary
    assert "⚠ Noch das richtige Ziel?\n   Familie: Ayşe: Es sollte geändert werden\n   " \
           "Fachkräfte: Jana: Ja, noch richtig" in summary
    assert "Familie: Ayşe: Teilweise – „Er geht öfter, aber noch nicht jeden Tag“" in summary
    assert "Fachkräfte: Jana: Noch nicht – „Emre fehlt oft montags“" in summary
    assert "Einmal kam niemand" in summary and "an die Beschwerdestelle weitergegeben" in summary
    assert "Mehr Mitwirkung bei Terminen" in summary and "Jana: „Die Fehlzeiten von Emre“" in summary
    assert "Nicht geschickt: Emre Yılmaz, Tobias Klein" in summary
    message = sabine.last
    pdf = next(a for a in message.attachments if a.mime_type == "application/pdf")
    pdf_text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Familie Yılmaz" in pdf_text and "Thema Familie Fachkräfte" in pdf_text
    assert "Seite an Seite" in pdf_text and "Lassen Sie die Familie zuerst sprechen." in pdf_text
    assert "Noch das richtige Ziel? Ayşe: Es sollte geändert werden Jana: Ja, noch richtig" in pdf_text
    assert "Ayşe: Teilweise – „Er geht öfter" in pdf_text and "Jana: Noch nicht – „Emre fehlt oft montags“" in pdf_text
    assert "! Emre Ayşe: Teils gut Jana: Nicht gut" in pdf_text  # the difference is marked
    assert any(a.mime_type == "audio/ogg" for a in message.attachments)  # Ayşe's voice note
    scan(restarted.app.services)
    assert sabine.receive() == []  # once
    assert "Er geht öfter" not in texts(restarted.chat("murat")) + texts(restarted.chat("emre"))

    with app.sessions() as session:
        response = session.scalar(select(MilestoneResponse).where(MilestoneResponse.complaint_consent.is_(True)))
        assert response.member.first_name == "Ayşe"
        raw = session.connection().exec_driver_sql("SELECT answers_json FROM milestone_response").scalars().all()
        assert raw and not any("Er geht öfter" in r for r in raw)  # encrypted at rest


def test_one_reminder_outside_quiet_hours_and_no_nagging(app, clock, codes, planned, bot):
    emre = bot.link("emre", codes["Emre"])
    clock.set(berlin(2027, 4, 4, 9, 0))
    scan(app.services)
    emre.receive()
    intro = emre.press("Fragebogen öffnen")[0]
    assert "Deine Eltern sehen sie nicht" in intro and "Du musst nicht antworten" in intro
    assert "Um was hast du dich seit dem letzten Treffen selbst gekümmert?" in emre.press("Start")[0]
    assert "Hat das geklappt, was meinst du?" in emre.press("Überspringen")[0]
    emre.press("Ja")
    emre.receive()

    clock.set(berlin(2027, 4, 7, 22, 30))  # due, but quiet hours
    scan(app.services)
    assert emre.receive() == []
    clock.set(berlin(2027, 4, 8, 8, 5))
    scan(app.services)
    reminder = emre.receive()
    assert len(reminder) == 1 and "einzige Erinnerung" in reminder[0]
    for day in (9, 10, 11):
        clock.set(berlin(2027, 4, day, 10, 0))
        scan(app.services)
    assert all("Erinnerung" not in t for t in emre.receive())
    back = emre.press("Weiter")
    assert "wo du aufgehört hast" in back[0] and "Warum meinst du das?" in back[1]  # resumes where he was


def test_only_the_leader_and_the_team_read_the_answers(app, clock, codes, planned, bot):
    ayse = bot.link("ayse", codes["Ayşe"])
    olga = bot.link("olga", codes["Olga"])
    jana = bot.link("jana", codes["Jana"])
    kerstin = bot.link("kerstin", codes["Kerstin"])
    with app.sessions.begin() as session:
        now = clock.now()
        uwe = admin.add_staff(session, OPS, now, yilmaz(session).organisation, "Uwe Brandt", [Role.FACHKRAFT])
        petrenko = session.scalar(select(Case).where(Case.title == "Familie Petrenko"))
        admin.assign(session, OPS, now, petrenko, uwe, Role.FACHKRAFT)
        uwe_code = admin.invite(session, OPS, now, uwe, 14)
    uwe = bot.link("uwe", uwe_code)

    clock.set(berlin(2027, 4, 4, 9, 0))
    scan(app.services)
    for chat in (ayse, olga, jana, kerstin, uwe):
        chat.receive()
    with app.sessions() as session:
        ayse_response = session.scalar(select(MilestoneResponse).where(MilestoneResponse.member_id.is_not(None))).id
    assert "keinen Fragebogen" in olga.say("/fragebogen")[0]  # another family
    assert "nicht mehr" in olga.say(payload=f"act:ms_open:{ayse_response}")[0]  # a forged button
    assert "nicht mehr" in jana.say(payload=f"act:ms_open:{ayse_response}")[0]

    assert "nicht zur Verfügung" in kerstin.say("/meilenstein")[0]  # complaint officer: no such command
    assert "kein Meilensteingespräch" in uwe.say("/meilenstein")[0]  # Fachkraft of another family
    assert "nicht zur Verfügung" in uwe.say(payload=f"act:ms_summary:{planned}")[0]
    assert "nicht zur Verfügung" in uwe.say(payload=f"act:ms_eval:{planned}")[0]
    assert "nicht zur Verfügung" in jana.say(payload=f"act:ms_eval:{planned}")[0]  # evaluation: the leader
    jana.say("/meilenstein")
    shown = jana.press(next(c.label for c in jana.last.choices if "Yılmaz" in c.label))
    assert "Meilensteingespräch Familie Yılmaz" in shown[0]
    assert any(a.mime_type == "application/pdf" for m in jana.seen for a in m.attachments)


def test_evaluation_after_the_talk_with_an_action_reminder(app, clock, codes, planned, bot):
    sabine = bot.link("sabine", codes["Sabine"])
    jana = bot.link("jana", codes["Jana"])
    ayse = bot.link("ayse", codes["Ayşe"])
    clock.set(berlin(2027, 4, 14, 11, 0))
    scan(app.services)
    assert all("Auswertung" not in t for t in sabine.receive())  # the talk is still going on
    clock.set(berlin(2027, 4, 14, 12, 0))
    scan(app.services)
    assert "Bitte erfassen Sie die Auswertung mit Jana Weber, Tobias Klein" in sabine.receive()[-1]
    sabine.say("/meilenstein")  # the way back in, if the message is long gone
    later = sabine.press(next(c.label for c in sabine.last.choices if "Yılmaz" in c.label))
    assert any("noch nicht erfasst" in t for t in later)
    assert "Kindeswohlgefährdung" in sabine.press("Auswertung erfassen")[0]
    assert "Blinde Flecken" in sabine.press("Keine Anzeichen")[0]
    assert "Metaebene" in sabine.say("Die Schulangst von Emre war bisher kaum Thema")[0]
    assert "Welche Maßnahme" in sabine.press("Überspringen")[0]
    assert "Wer kümmert sich" in sabine.say("Gespräch mit der Schule über Emre")[0]
    assert "Bis wann?" in sabine.press("Jana Weber")[0]
    assert "Jana Weber wird am 28. April 2027 erinnert" in sabine.say("28.4.2027")[0]
    assert "1 Maßnahmen" in sabine.press("Keine (weiteren) Maßnahmen, beenden")[0]
    with app.sessions() as session:
        evaluation = session.scalar(select(MilestoneEvaluation))
        assert evaluation.child_protection_signs is False and "Schulangst" in evaluation.blind_spots
        assert session.scalar(select(MilestoneAction)).assignee.name == "Jana Weber"

    clock.set(berlin(2027, 4, 28, 9, 0))
    scan(app.services)
    scan(app.services)
    reminders = [t for t in jana.receive() if "Gespräch mit der Schule" in t]
    assert len(reminders) == 1

    # The evaluation is for the leader and the Fachkräfte: Jana reads it with the summary; the family cannot.
    jana.say("/meilenstein")
    shown = jana.press(next(c.label for c in jana.last.choices if "Yılmaz" in c.label))
    assert any("Blinde Flecken: Die Schulangst" in t for t in shown)
    assert "nicht zur Verfügung" in ayse.say("/meilenstein")[0]
    assert "nicht mehr" in ayse.say(payload=f"act:ms_summary:{planned}")[0]


def test_the_questionnaire_reads_well_in_english(app, clock, codes, planned, bot):
    murat = bot.link("murat", codes["Murat"], "English")
    clock.set(berlin(2027, 4, 4, 9, 0))
    scan(app.services)
    assert "Your view matters" in murat.receive()[-1]
    intro = murat.press("Open the questionnaire")[0]
    assert "Who reads your answers: Sabine Roth" in intro and "Answering is voluntary" in intro
    assert "what have you taken on yourselves (the Eigenverantwortungsblätter)?" in murat.press("Start")[0]
    assert "Long-term goal (Richtungsziel) 1 of 2" in murat.press("Skip")[0]
    assert "Why?" in murat.press("Reached")[0]
    labels = [c.label for c in murat.last.choices]
    assert labels == ["Skip"]
    murat.press("Skip")
    assert "Is this goal still right for you?" in murat.last.text
    assert [c.label for c in murat.last.choices] == ["Yes, still right", "It should change", "No longer right", "Skip"]
    murat.press("Skip")
    assert "I don't know" in [c.label for c in murat.last.choices]


def test_goals_and_milestones_from_the_command_line(app, codes, tmp_path, monkeypatch, settings):
    import json

    from click.testing import CliRunner

    from bot import cli as cli_module

    monkeypatch.setattr(cli_module, "load_app", lambda init=False: build(settings, app.services.clock))
    with app.sessions() as session:
        ref = yilmaz(session).reference
        jana_id = staff_named(session, "Jana Weber").id
        sabine_id = staff_named(session, "Sabine Roth").id
    runner = CliRunner()
    added = runner.invoke(cli_module.cli, ["goals", "add", ref, "Leyla schläft in ihrem Bett", "--level",
                                           "handlungsziel"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli_module.cli, ["goals", "list", ref])
    assert "Leyla schläft" in listed.output and "Kinder: Emre, Leyla" in listed.output
    refused = runner.invoke(cli_module.cli, ["milestone", "add", ref, "--date", "2027-04-14T10:00", "--leader",
                                             str(jana_id)])
    assert refused.exit_code != 0 and "gespraechsfuehrung" in refused.output
    made = runner.invoke(cli_module.cli, ["milestone", "add", ref, "--date", "2027-04-14T10:00", "--leader",
                                          str(sabine_id), "--json"])
    assert made.exit_code == 0, made.output
    pdf = tmp_path / "summary.pdf"
    shown = runner.invoke(cli_module.cli, ["milestone", "summary", str(json.loads(made.output)["id"]), "--pdf",
                                           str(pdf)])
    assert shown.exit_code == 0, shown.output
    assert "Leyla schläft" in shown.output and pdf.read_bytes().startswith(b"%PDF")
    assert "\nZiele aus dem Hilfeplan\n" in shown.output and "*" not in shown.output  # no chat markup in a terminal
    pages = PdfReader(str(pdf)).pages
    first = " ".join(pages[0].extract_text().split())
    assert "Vertraulich: Sozialdaten" in first and f"Aktenzeichen: {ref}" in first
    assert all(f"{ref} · vertraulich · Seite {n} von {len(pages)}" in " ".join(p.extract_text().split())
               for n, p in enumerate(pages, start=1))


def test_a_fachkraft_keeps_the_goals_in_the_chat(app, codes, bot):
    tobias = bot.link("tobias", codes["Tobias"])
    assert "Welche Familie?" in tobias.say("/ziele")[0]
    assert "Noch keine Ziele" in tobias.press("Familie Yılmaz")[0]
    tobias.press("Ziel hinzufügen")
    assert "Hilfeplan" in tobias.press("Handlungsziel")[0]
    menu = tobias.say("Leyla schläft in ihrem eigenen Bett")[0]
    assert "1. Handlungsziel: Leyla schläft in ihrem eigenen Bett" in menu
    tobias.press("Ziel ändern")
    tobias.press("Leyla schläft in ihrem eigenen Bett")
    assert "1. Handlungsziel: Leyla schläft meistens im eigenen Bett" in tobias.say(
        "Leyla schläft meistens im eigenen Bett")[0]
    with app.sessions() as session:
        assert [g.text for g in core.goals(session, yilmaz(session))] == ["Leyla schläft meistens im eigenen Bett"]
    tobias.press("Ziel entfernen")
    assert "Noch keine Ziele" in tobias.press("Leyla schläft meistens im eigenen Bett")[0]
    kerstin = bot.link("kerstin", codes["Kerstin"])
    assert "nicht zur Verfügung" in kerstin.say("/ziele")[0]
    ayse = bot.link("ayse", codes["Ayşe"])
    assert "nicht zur Verfügung" in ayse.say("/ziele")[0]


def test_a_worrying_answer_at_night_gets_help_and_the_questionnaire_goes_on(app, clock, codes, planned, bot):
    emre = bot.link("emre", codes["Emre"])
    clock.set(berlin(2027, 4, 4, 9, 0))
    scan(app.services)
    emre.receive()
    emre.press("Fragebogen öffnen")
    emre.press("Start")
    emre.press("Überspringen")
    emre.press("Noch nicht")
    clock.set(berlin(2027, 4, 4, 23, 10))
    answer = emre.say("ich halt das zuhause nicht mehr aus")
    assert any("116 111" in t for t in answer)  # help at once (the child-protection screen)
    assert "Passt dieses Ziel noch für dich?" in answer[-1]  # and his questionnaire continues
    emre.say("/meine_daten")
    data = next(m for m in emre.seen if m.attachments and m.attachments[0].filename == "meine-daten.json")
    assert "ich halt das zuhause" in data.attachments[0].data.decode()  # his own answers, for him


def test_a_cancelled_talk_closes_the_questionnaires(app, clock, codes, planned, bot):
    ayse = bot.link("ayse", codes["Ayşe"])
    clock.set(berlin(2027, 4, 4, 9, 0))
    scan(app.services)
    ayse.receive()
    ayse.press("Fragebogen öffnen")
    ayse.press("Start")
    ayse.press("Überspringen")
    with app.sessions.begin() as session:
        core.milestone(session, planned).appointment.outcome = "cancelled_by_provider"
    assert "abgeschlossen" in ayse.press("Teilweise")[0]
    assert "keinen Fragebogen" in ayse.say("/fragebogen")[0]
    clock.set(berlin(2027, 4, 8, 10, 0))
    scan(app.services)
    assert all("Erinnerung" not in t for t in ayse.receive())
