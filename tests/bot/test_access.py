"""People come and go (issue 15), as an operator types it and as the chats see it.

The operator's commands run through the real CLI against the test's app (its database and manual clock);
the people talk through the engine and the outbox (the transcript channel).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.scheduler import run_all
from conversations import appointments, budget
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
    done = run("staff", "deactivate", str(jana_id), "--successor", str(lisa["id"]))
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
