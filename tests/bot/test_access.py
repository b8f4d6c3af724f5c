"""People come and go (issue 15), as an operator types it and as the chats see it.

The operator's commands run through the real CLI against the test's app (its database and manual clock);
the people talk through the engine and the outbox (the transcript channel).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.scheduler import run_all
from bot.web.console import sessions as console_sessions
from conversations import admin, appointments, budget
from conversations.clock import berlin
from conversations.i18n import translator
from conversations.rules.outcomes import Outcome
from storage.models import (
    Appointment,
    Case,
    ChatIdentity,
    ConversationState,
    Escalation,
    FamilyMember,
    OutboxMessage,
    StaffMember,
)
from storage.models.console import ConsoleSession

UNLINKED = "This chat is no longer linked to Wegbegleiter. No more messages will come here."
# What a chat nobody is linked to reads (in the default language, German).
LINK_FIRST = translator("de").gettext("Please link this chat first: send me the code from your invitation letter.")
NOT_VALID = translator("de").gettext("That button is no longer valid. Nothing was changed.")


@pytest.fixture
def run(app, monkeypatch):  # type: ignore[no-untyped-def]
    """`wegbegleiter … --json` against the test's app (same database, same manual clock)."""
    monkeypatch.setattr("bot.cli.load_app", lambda init=False: app)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(cli, [*args, "--json"], catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.stdout) if ok else result.output.strip()

    return invoke


def person_id(app, model, **where) -> int:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return session.scalar(select(model.id).filter_by(**where))


def yilmaz_visits(app, clock) -> list[int]:  # type: ignore[no-untyped-def]
    """Weekly home visits on Tuesdays 10:00 from 9 March (Jana and Tobias, for Ayşe and Murat)."""
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        budget.set_budget(session, "test", clock.now(), case, 20 * 60, clock.now().date())
        team = [a.staff for a in case.assignments if a.role == "fachkraft"]
        made = appointments.create_weekly(session, app.services, "test", case, "hausbesuch", berlin(2027, 3, 9, 10),
                                          120, team, appointments.default_members(case), 4)
        return [a.id for a in made]


def outbox_to(app, address: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.address == address)
                                    .order_by(OutboxMessage.id)))


# --- the lost phone -------------------------------------------------------------------------------------
def test_ayse_loses_her_phone_the_old_chat_gets_one_line_and_nothing_more(bot, codes, app, clock, run):
    old = bot.link("ayse-old-phone", codes["Ayşe"], "English")
    visits = yilmaz_visits(app, clock)
    assert len(old.receive()) == 4  # the four new appointments, each with buttons
    confirm = next(c.payload for c in old.last.choices if c.payload.startswith("act:appt_confirm:"))

    ayse_id = person_id(app, FamilyMember, first_name="Ayşe")
    issued = run("member", "invite", str(ayse_id), "--reason", "lost-phone")
    assert issued["chats_unlinked"] == 1 and issued["code"]

    assert old.receive() == [UNLINKED]
    with app.sessions() as session:
        assert session.scalar(select(ConversationState).where(ConversationState.address == "ayse-old-phone")) is None

    # Whoever has the phone now: no data, no buttons, no reminders; the chat is a stranger asked for a code.
    assert old.say("/meine_daten") == [LINK_FIRST]
    assert old.last.attachments == []
    assert old.say(payload=confirm) == [NOT_VALID]
    clock.set(berlin(2027, 3, 7, 10, 0))  # the two-days reminder is due
    run_all(app.services)
    assert old.receive() == []
    with app.sessions() as session:
        assert session.get(Appointment, visits[0]).confirmed_at is None
    assert "Code aus Ihrem Einladungsbrief" in old.say("hallo")[0]

    # Ayşe links her new phone with the new letter and goes on where she was.
    new = bot.link("ayse-new-phone", issued["code"], "Türkçe")
    assert new.receive() == []
    new.say("/meine_daten")
    export = next(m.attachments[0] for m in reversed(new.seen) if m.attachments)
    assert [c["channel"] for c in json.loads(export.data)["linked_chats"]] == ["test"]  # only the new phone


def test_a_new_letter_replaces_the_old_one_and_keeps_the_chat_unless_the_phone_is_lost(bot, codes, app, run):
    murat = bot.link("murat", codes["Murat"], "Deutsch")
    murat_id = person_id(app, FamilyMember, first_name="Murat")
    first = run("member", "invite", str(murat_id), "--reason", "new-chat")
    second = run("member", "invite", str(murat_id), "--reason", "lost-letter")
    assert first["chats_unlinked"] == second["chats_unlinked"] == 0
    assert murat.receive() == []  # nothing happened to his chat
    # Only the newest letter works; an unknown and a used code get the same answer.
    stranger = bot.chat("someone-found-the-letter")
    refused = stranger.say(codes["Murat"])  # used already
    assert refused == stranger.say("ABCD-EFG-HJK") and "nicht verwenden" in refused[0]  # never issued
    assert "abgelaufen" in stranger.say(first["code"])[0]  # replaced by the newer letter
    assert "Hallo Murat" in bot.chat("murat-tablet").say(second["code"])[0]
    assert run("member", "unlink", str(murat_id))["chats_unlinked"] == 1
    assert murat.receive() == ["Dieser Chat ist nicht mehr mit Wegbegleiter verbunden. Hierher kommen keine "
                               "Nachrichten mehr."]


# --- the Fachkraft who leaves ---------------------------------------------------------------------------
def test_jana_leaves_her_chat_gets_no_alert_text_and_her_work_goes_to_her_successor(bot, codes, app, clock, run):
    jana = bot.link("jana", codes["Jana"], "English")
    tobias = bot.link("tobias", codes["Tobias"], "English")
    ayse = bot.link("ayse", codes["Ayşe"], "Türkçe")
    emre = bot.link("emre", codes["Emre"], "Deutsch")
    leitung = bot.link("leitung", codes["Martina"], "English")
    yilmaz_visits(app, clock)
    for chat in (jana, tobias, ayse, emre, leitung):
        chat.receive()
    emre.say("ich halt das zuhause nicht mehr aus")
    assert "Urgent" in jana.receive()[0]

    lisa = run("staff", "add", "Lisa Neumann", "--role", "fachkraft", "--phone", "0391 555 0142")
    lisa_chat = bot.link("lisa", lisa["code"], "English")
    jana_id = person_id(app, StaffMember, name="Jana Weber")
    with app.sessions.begin() as session:  # Jana is signed in to the console in her browser
        jana_browser = console_sessions.start(session, session.get(StaffMember, jana_id), clock.now(), "Firefox")
    done = run("staff", "deactivate", str(jana_id), "--successor", str(lisa["id"]))
    with app.sessions.begin() as session:
        assert console_sessions.current(session, jana_browser, clock.now(), timedelta(hours=1)) is None
        assert session.scalar(select(ConsoleSession.ended_at)) == clock.now()
    assert done["chats_unlinked"] == 1
    assert done["cases"] == [{"case": "F-2027-0001", "role": "fachkraft", "to": "Lisa Neumann"}]
    assert done["escalations"]  # the open alert

    # Jana's old chat: the one line, then a stranger: /offen shows no alert text.
    assert jana.receive() == [UNLINKED]
    assert jana.say("/offen") == [LINK_FIRST]
    assert jana.say("/open") == [LINK_FIRST]
    assert jana.say("/offen") == [LINK_FIRST]  # also not after the engine forgot everything about the chat

    # Lisa: the handover summary, then the open alert with its button, which works for her.
    got = lisa_chat.receive()
    assert got[0].startswith("You now work on Familie Yılmaz (F-2027-0001) as Fachkraft.")
    assert "You take over from Jana Weber." in got[0] and "Home visit" in got[0] and "Budget: 20 h" in got[0]
    assert any("halt das zuhause" in text for text in got)
    assert lisa_chat.press("Mark as handled")[0].startswith("Thank you. Recorded on")
    with app.sessions() as session:
        alert = session.scalar(select(Escalation).where(Escalation.kind == "child_protection"))
        assert alert.acknowledger.name == "Lisa Neumann"

    # The family hears who accompanies them now, in each member's language; Tobias hears of the change.
    told = ayse.receive()
    assert len(told) == 1 and "Lisa Neumann" in told[0] and "0391 555 0142" in told[0] and "Jana Weber" in told[0]
    assert "Fachkraft" in told[0] and "ailenize" in told[0]  # Turkish
    assert "Lisa Neumann" in emre.receive()[0]
    assert "Team change at Familie Yılmaz: Lisa Neumann takes over from Jana Weber." in tobias.receive()

    # Nothing more reaches Jana by any way: no agenda, no outcome question, no email.
    clock.set(berlin(2027, 3, 8, 18, 0))
    run_all(app.services)
    clock.set(berlin(2027, 3, 9, 12, 30))
    run_all(app.services)
    since = [m for m in outbox_to(app, "jana") if m.id > next(m.id for m in outbox_to(app, "jana")
                                                              if m.kind == "access.unlinked")]
    assert {m.kind for m in since} == {"reply"}  # only answers to what that chat typed ("send me the code")
    assert any("Your appointments tomorrow" in t for t in tobias.receive() + lisa_chat.receive())
    # History keeps her name; the staff list marks her as gone.
    listed = {s["name"]: s["active"] for s in run("staff", "list")}
    assert listed["Jana Weber"] is False
    assert "Jana Weber" in {t["to"] for e in run("alerts", "list") for t in e["told"]}


def test_without_a_successor_the_leitung_gets_what_is_left_open(bot, codes, app, clock, run):
    schulz_id = person_id(app, StaffMember, name="Dr. Katrin Schulz")
    leitung = bot.link("leitung", codes["Martina"], "English")
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        budget.set_budget(session, "test", clock.now(), case, 60, clock.now().date())
        team = [a.staff for a in case.assignments if a.role == "fachkraft"]
        appointments.create_appointment(session, app.services, "test", case, "hausbesuch", berlin(2027, 3, 9, 10),
                                        120, team, appointments.default_members(case))  # 1 h over the budget
    done = run("staff", "deactivate", str(schulz_id))
    assert {c["to"] for c in done["cases"]} == {"Leitung"}
    said = "\n".join(leitung.receive())
    assert "Familie Yılmaz (F-2027-0001) has no fallführende Fachkraft (Jugendamt) now" in said
    assert "Extra hours waiting for confirmation: 1" in said
    assert "case assign F-2027-0001 STAFF_ID fallfuehrend" in said
    # Her email is no way any more: nothing waits for her, nothing new is written.
    pending = [m for m in outbox_to(app, "k.schulz@jugendamt.example") if m.status == "pending"]
    assert pending == []
    assert run("staff", "deactivate", str(schulz_id), ok=False) == "Fehler: Dr. Katrin Schulz ist bereits deaktiviert"


# --- the handover ---------------------------------------------------------------------------------------
def test_tobias_hands_the_case_to_lisa_who_gets_the_summary_and_tobias_loses_it_at_once(bot, codes, app, clock, run):
    tobias = bot.link("tobias", codes["Tobias"], "English")
    murat = bot.link("murat", codes["Murat"], "Deutsch")
    visits = yilmaz_visits(app, clock)
    murat.receive()
    lisa = run("staff", "add", "Lisa Neumann", "--role", "fachkraft", "--email", "l.neumann@bruecke.example")
    lisa_chat = bot.link("lisa", lisa["code"], "English")
    tobias_id = person_id(app, StaffMember, name="Tobias Klein")

    done = run("case", "assign", "F-2027-0001", str(lisa["id"]), "fachkraft", "--instead-of", str(tobias_id))
    assert done["leaving"] == "Tobias Klein" and done["joining"] == "Lisa Neumann"
    assert done["appointments_moved"] == 4

    summary = lisa_chat.receive()[0]
    for expected in ("You now work on Familie Yılmaz", "You take over from Tobias Klein",
                     "Family: Ayşe Yılmaz, Murat Yılmaz, Emre Yılmaz, Leyla Yılmaz", "Fachkraft: Jana Weber, Lisa Neumann",
                     "Coming appointments:", "Tuesday, March 9, 2027, 10:00", "Hours of Familie Yılmaz in March 2027",
                     "No Meilensteingespräch is planned."):
        assert expected in summary, expected
    told = murat.receive()
    assert len(told) == 1
    assert "Lisa Neumann" in told[0] and "l.neumann@bruecke.example" in told[0] and "statt Tobias Klein" in told[0]
    assert "You no longer work on Familie Yılmaz as Fachkraft" in tobias.receive()[0]

    # Tobias has lost the case at once: its buttons, its hours; Petrenko stays his.
    assert tobias.say(payload=f"act:appt_outcome:{visits[0]}:{Outcome.NO_SHOW}")[0] == \
        "That button is no longer valid. Nothing was changed."
    assert "Hours of Familie Petrenko" in tobias.say("/hours")[0]
    with app.sessions() as session:
        names = {s.staff_member.name for s in session.get(Appointment, visits[0]).staff}
        assert names == {"Jana Weber", "Lisa Neumann"}
    # The appointments now ask Lisa, not Tobias, what happened.
    clock.set(berlin(2027, 3, 9, 12, 30))
    run_all(app.services)
    assert any("What happened" in t for t in lisa_chat.receive())
    assert not any("What happened" in t for t in tobias.receive())
    with app.sessions() as session:
        unassigned = session.scalar(select(ChatIdentity).where(ChatIdentity.address == "tobias"))
        assert unassigned is not None  # he still works for the Träger: his chat stays linked

    assert run("case", "unassign", "F-2027-0001", str(tobias_id), ok=False) == \
        "Fehler: Tobias Klein arbeitet im Fall F-2027-0001 nicht als fachkraft"


# --- the case that closes -------------------------------------------------------------------------------
def ayse_complains(app, bot) -> str:  # type: ignore[no-untyped-def]
    """A named complaint from Ayşe's chat, sent as the complaint flow sends it; returns its reference."""
    from conversations.complaints import procedure
    from storage.models.complaints import Complaint

    with app.sessions.begin() as session:
        chat = session.scalar(select(ChatIdentity).where(ChatIdentity.address == "ayse"))
        draft = Complaint(status="draft", organisation_id=chat.member.case.organisation_id, relay=chat,
                          member_id=chat.member.id, case_id=chat.member.case_id, language="tr",
                          category="appointments", anonymous=False, leitung_only=False, answer_wanted="chat",
                          created_at=app.services.clock.now())
        session.add(draft)
        procedure.add_entry(draft, "account", "Termine werden kurzfristig verschoben.", app.services.clock.now())
        procedure.submit(session, app.services, draft, app.services.clock.now(), chat.member)
        return draft.reference


def test_the_help_ends_the_family_says_goodbye_and_an_open_complaint_is_still_answered(bot, codes, app, clock, run):
    ayse = bot.link("ayse", codes["Ayşe"], "Türkçe")
    murat = bot.link("murat", codes["Murat"], "Deutsch")
    jana = bot.link("jana", codes["Jana"], "English")
    kerstin = bot.link("kerstin", codes["Kerstin"], "English")
    visits = yilmaz_visits(app, clock)
    reference = ayse_complains(app, bot)
    for chat in (ayse, murat, jana, kerstin):
        chat.receive()

    closed = run("case", "close", "F-2027-0001", "--reason", "goals-reached")
    assert closed == {"case": "F-2027-0001", "reason": "goals-reached", "appointments_cancelled": 4,
                      "chats_said_goodbye": 2, "complaints_kept_open": [reference]}

    # One goodbye per chat, in the member's language, with the Träger's number; then nothing more.
    goodbye = ayse.receive()
    assert len(goodbye) == 1
    assert "Brücke e.V." in goodbye[0] and "0391 555 0100" in goodbye[0] and reference in goodbye[0]
    assert "sona erdi" in goodbye[0]  # Turkish: "has ended"
    said_to_murat = murat.receive()
    assert len(said_to_murat) == 1 and "Ihre Familienhilfe bei Brücke e.V. ist zu Ende" in said_to_murat[0]
    assert "0391 555 0100" in said_to_murat[0] and reference not in said_to_murat[0]
    assert "is closed: the goals of the help were reached" in jana.receive()[0]

    # Reminders, agendas and questions stop: the appointments were cancelled, the chats are strangers.
    for moment in (berlin(2027, 3, 7, 10, 0), berlin(2027, 3, 8, 18, 0), berlin(2027, 3, 9, 12, 30)):
        clock.set(moment)
        run_all(app.services)
    assert ayse.receive() == murat.receive() == []
    assert not any("tomorrow" in t or "What happened" in t for t in jana.receive())
    with app.sessions() as session:
        assert {session.get(Appointment, v).outcome for v in visits} == {Outcome.CANCELLED_BY_PROVIDER}
    assert murat.say("/meine_daten") == [LINK_FIRST]

    # Kerstin still works the complaint to the end; Ayşe gets every step in the chat that complained.
    kerstin.say("/complaints")
    kerstin.press(reference)
    kerstin.press("Ask a question")
    kerstin.say("Welche Termine genau?")
    taken, question = ayse.receive()
    assert "Kerstin Braun" in taken and reference in question and "Welche Termine genau?" in question
    ayse.press(translator("tr").gettext("Reply"))
    ayse.say("Die am Dienstag.")
    assert "Die am Dienstag." in "\n".join(kerstin.receive())
    kerstin.press("Close")
    kerstin.press("upheld")
    kerstin.say("Wir planen die Termine jetzt fest mit Ihnen.")
    assert "Wir planen die Termine jetzt fest" in ayse.receive()[0]
    ayse.say(payload=ayse.last.choices[0].payload)  # satisfied
    with app.sessions() as session:
        from storage.models.complaints import Complaint

        done = session.scalar(select(Complaint).where(Complaint.reference == reference))
        assert done.status == "closed" and done.satisfaction == "yes" and done.relay_address is None

    # Recorded for the retention clock; nothing new can start on the closed case.
    shown = run("case", "show", "F-2027-0001")
    assert shown["closed_reason"] == "goals-reached" and shown["closed_at"].startswith("2027-03-01")
    assert run("case", "close", "F-2027-0001", "--reason", "other", ok=False) == \
        "Fehler: der Fall F-2027-0001 ist bereits abgeschlossen"
    ayse_id = person_id(app, FamilyMember, first_name="Ayşe")
    assert run("member", "invite", str(ayse_id), ok=False) == "Fehler: der Fall F-2027-0001 ist abgeschlossen"
    assert "Hallo" not in bot.chat("emre").say(codes["Emre"])[0]  # his unused letter no longer links


# --- the complaint officer and the Gesprächsführerin who leave -----------------------------------------
def test_an_officer_who_leaves_hands_her_complaints_back_and_the_talk_waits_for_a_new_leader(bot, codes, app,
                                                                                          clock, run):
    from conversations.milestone import core
    from storage.models import Milestone
    from storage.models.complaints import Complaint

    ayse = bot.link("ayse", codes["Ayşe"], "Deutsch")
    kerstin = bot.link("kerstin", codes["Kerstin"], "English")
    leitung = bot.link("leitung", codes["Martina"], "English")
    reference = ayse_complains(app, bot)
    kerstin.receive()
    kerstin.press("Take over")
    talk = berlin(2027, 4, 14, 10, 0)
    with app.sessions.begin() as session:
        case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
        sabine = session.scalar(select(StaffMember).where(StaffMember.name == "Sabine Roth"))
        ms_id = core.create_milestone(session, admin.Actor("test"), clock.now(), case, talk, sabine).id
    for chat in (ayse, leitung):
        chat.receive()

    # Kerstin leaves: her complaint goes back to be taken over (by the Leitung, as there is no other officer).
    done = run("staff", "deactivate", str(person_id(app, StaffMember, name="Kerstin Braun")))
    assert done["complaints"] == [{"complaint": reference, "to": "officers"}]
    handed = "\n".join(leitung.receive())
    assert f"Complaint {reference} was handled by Kerstin Braun, who has left. Please take it over." in handed
    assert "Take over" in [c.label for c in leitung.last.choices]
    leitung.press("Take over")
    with app.sessions() as session:
        assert session.scalar(select(Complaint).where(Complaint.reference == reference)).officer.name == \
            "Martina Hoffmann"
    assert "Martina Hoffmann" not in "\n".join(ayse.receive())  # taken up once already: no second notice

    # Sabine leaves: the talk has no leader; the Leitung is told, and a new Gesprächsführerin takes it on.
    run("staff", "deactivate", str(person_id(app, StaffMember, name="Sabine Roth")))
    assert "The Meilensteingespräch on Wednesday, April 14, 2027" in "\n".join(leitung.receive())
    petra = run("staff", "add", "Petra Lang", "--role", "gespraechsfuehrung")
    petra_chat = bot.link("petra", petra["code"], "English")
    assigned = run("case", "assign", "F-2027-0001", str(petra["id"]), "gespraechsfuehrung")
    assert assigned["milestones_moved"] == 1
    summary = petra_chat.receive()[0]
    assert "Meilensteingespräch on Wednesday, April 14, 2027" in summary and "with Petra Lang" in summary
    assert "Open alerts" not in summary  # nothing is open for her
    with app.sessions() as session:
        assert session.get(Milestone, ms_id).leader.name == "Petra Lang"
    clock.set(talk + timedelta(hours=2))
    assert "signs" in petra_chat.say(payload=f"act:ms_eval:{ms_id}")[-1].casefold()
