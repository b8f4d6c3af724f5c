"""Deletion on schedule: a case closes, and years later (by the clock) what is due is gone.

The Yılmaz family talks through the real engine and outbox (the test channel); the periodic tasks run
as the scheduler would run them. The case is closed by setting ``closed_at`` (``case close`` is the
access engineer's).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import scheduler
from conversations import appointments
from conversations.access import chats as unlinking
from conversations.clock import berlin
from conversations.privacy import purge as purging
from conversations.privacy.retention import Kind, RetentionError, add_years, parse_overrides, policy
from conversations.settings import Settings
from storage.models import (
    Appointment,
    AuditEvent,
    Base,
    Case,
    ChatIdentity,
    Escalation,
    Organisation,
    OutboxAttachment,
    OutboxMessage,
    RetainedFigure,
    StaffMember,
)
from storage.models.complaints import Complaint, ComplaintEntry

DANGER = "ich halt das zuhause nicht mehr aus"


def the_case(session, title: str = "Familie Yılmaz") -> Case:
    return next(c for c in session.scalars(select(Case)) if c.title == title)


def count(app, model, *where) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def a_month_of_help(app, bot, codes, clock):
    """Ayşe and Emre linked, two visits (one took place), Emre's alert, Ayşe's export, her named complaint."""
    ayse = bot.link("ayse", codes["Ayşe"], "Türkçe")
    emre = bot.link("emre", codes["Emre"])
    olga = bot.link("olga", codes["Olga"])  # another family: nothing of hers may go
    with app.sessions.begin() as session:
        case = the_case(session)
        jana = session.scalar(select(StaffMember).where(StaffMember.name == "Jana Weber"))
        visits = appointments.create_weekly(session, app.services, "cli", case, "hausbesuch",
                                            berlin(2027, 3, 9, 10), 120, [jana], case.members[:1], weeks=2,
                                            place="bei Familie Yılmaz")
        ids = [v.id for v in visits]
    clock.set(berlin(2027, 3, 9, 13))
    with app.sessions.begin() as session:
        appointments.record_outcome(session, app.services, "cli", session.get(Appointment, ids[0]), "took_place", 150)
    clock.set(berlin(2027, 3, 16, 13))
    with app.sessions.begin() as session:
        appointments.record_outcome(session, app.services, "cli", session.get(Appointment, ids[1]), "no_show")
    assert "116 111" in emre.say(DANGER)[0]
    ayse.say("/verilerim")
    assert any(m.attachments for m in ayse.seen)
    with app.sessions.begin() as session:
        case = the_case(session)
        ayse_row = next(m for m in case.members if m.first_name == "Ayşe")
        complaint = Complaint(reference="B-2027-0001", organisation_id=case.organisation_id, member_id=ayse_row.id,
                              case_id=case.id, category="appointments", status="closed", outcome="upheld",
                              created_at=clock.now(), submitted_at=clock.now(), closed_at=clock.now())
        complaint.entries.append(ComplaintEntry(at=clock.now(), kind="account", text="Die Termine sind zu früh."))
        session.add(complaint)
    return ayse, emre, olga


def close_case(app, clock) -> int:
    with app.sessions.begin() as session:
        case = the_case(session)
        case.closed_at = clock.now()
        return case.id


def rows_about(app, case_id: int, member_ids: list[int]) -> dict[str, int]:
    """Every row of every table that points at the case or one of its members."""
    found = {}
    with app.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                for fk in column.foreign_keys:
                    target = fk.column.table.name
                    ids = [case_id] if target == "case" else member_ids if target == "family_member" else None
                    if ids is None:
                        continue
                    n = session.scalar(select(func.count()).select_from(table).where(column.in_(ids)))
                    if n:
                        found[f"{table.name}.{column.name}"] = n
    return found


def test_a_closed_case_is_purged_kind_by_kind_over_the_years(app, bot, codes, clock):
    ayse, emre, olga = a_month_of_help(app, bot, codes, clock)
    clock.set(berlin(2027, 3, 31, 12))
    case_id = close_case(app, clock)
    with app.sessions() as session:
        member_ids = [m.id for m in session.get(Case, case_id).members]
    # files delivered to the family's chats (the proof of the month the help ended goes to the Jugendamt by
    # email, which no server takes here: undelivered, it stays)
    delivered = OutboxAttachment.outbox_id.in_(select(OutboxMessage.id).where(OutboxMessage.channel != "email"))
    export_files = count(app, OutboxAttachment, delivered)
    assert export_files >= 1

    # A few days after delivery the export (with the complaint text in it) is gone; its message stays.
    clock.advance(timedelta(days=4))
    scheduler.run_all(app.services)
    assert count(app, OutboxAttachment, delivered) == 0
    assert count(app, OutboxMessage, OutboxMessage.address == "ayse", OutboxMessage.text != "") > 0

    # After a month the texts of delivered messages are blanked (the rows stay for their unique keys).
    clock.advance(timedelta(days=30))
    scheduler.run_all(app.services)
    assert count(app, OutboxMessage, OutboxMessage.address == "ayse", OutboxMessage.text != "") == 0
    assert count(app, OutboxMessage, OutboxMessage.address == "ayse") > 0

    # Nearly five years on, everything is still there.
    clock.set(berlin(2032, 3, 30, 12))
    assert purging.run(app.services, dry_run=True).cases == []
    assert count(app, Appointment, Appointment.case_id == case_id) == 2

    # Five years after the help ended, the case data goes; the dry run shows it first and changes nothing.
    clock.set(berlin(2032, 4, 1, 12))
    preview = purging.run(app.services, dry_run=True)
    [shown] = preview.cases
    assert shown.kinds == ["case_data", "escalations", "audit_log"] and not shown.final
    assert shown.deleted["appointment"] == 2 and shown.deleted["chat_identity"] == 2
    assert count(app, Appointment, Appointment.case_id == case_id) == 2
    scheduler.run_all(app.services)
    assert count(app, Appointment, Appointment.case_id == case_id) == 0
    assert count(app, ChatIdentity, ChatIdentity.member_id.in_(member_ids)) == 0
    assert count(app, OutboxMessage, OutboxMessage.address.in_(["ayse", "emre"])) == 0
    with app.sessions() as session:
        members = session.get(Case, case_id).members
        assert [m.first_name for m in members] == ["Ayşe", "Murat", "Emre", "Leyla"]  # the alert needs who wrote
        assert {(m.birth_date, m.email) for m in members} == {(None, None)}
        [alert] = session.scalars(select(Escalation).where(Escalation.case_id == case_id))
        assert alert.message == DANGER
    assert "den Code aus Ihrem Einladungsbrief" in ayse.say("merhaba")[0]  # a stranger now: nothing of hers
    assert count(app, ChatIdentity, ChatIdentity.address == "olga") == 1  # another family: untouched
    assert purging.run(app.services, dry_run=True).cases == []  # done once, not again

    # Ten years after: the § 8a documentation and the complaint go, and with them the case itself.
    clock.set(berlin(2037, 4, 1, 12))
    scheduler.run_all(app.services)
    assert count(app, Case, Case.id == case_id) == 0
    assert rows_about(app, case_id, member_ids) == {}
    assert count(app, Complaint) == 0
    with app.sessions() as session:
        figures = {(f.year, f.metric, f.key): f.count for f in session.scalars(select(RetainedFigure))}
        petrenko = the_case(session, "Familie Petrenko")
        assert petrenko.purged is None and petrenko.members[0].first_name == "Olga"
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.purged")).all()
    assert figures == {
        (2026, "cases_started", "SPFH § 31 SGB VIII"): 1,
        (2027, "cases_closed", "SPFH § 31 SGB VIII"): 1,
        (2027, "family_members", "parent"): 2,
        (2027, "family_members", "child"): 2,
        (2027, "appointments", "took_place"): 1,
        (2027, "appointments", "no_show"): 1,
        (2027, "minutes_delivered", "hausbesuch"): 150,
        (2027, "child_protection", ""): 1,
        (2027, "complaints", "appointments"): 1,
        (2027, "complaint_outcomes", "upheld"): 1,
    }


def test_delivered_texts_are_blanked_once_and_a_chat_unlinked_later_takes_its_rows(app, bot, codes, clock):
    """The purge marks what it blanked and reads it no more (its hourly run costs what became due); the rows
    kept for a linked chat go when the chat is unlinked; one unlinked before its texts were due loses its
    rows when they are."""
    ayse = bot.link("ayse", codes["Ayşe"], "Türkçe")
    emre = bot.link("emre", codes["Emre"])
    bot.link("olga", codes["Olga"])
    with app.sessions.begin() as session:  # blanked before the purge kept the moment: marked, not counted again
        now = clock.now()
        session.add(OutboxMessage(channel="test", address="olga", kind="reply", text="", status="sent",
                                  next_attempt_at=now, created_at=now, sent_at=now))
    with_text = count(app, OutboxMessage, OutboxMessage.text != "")
    assert with_text > 0

    clock.advance(timedelta(days=31))
    first = purging.run(app.services)
    assert first.outbox["texts"] == with_text and first.outbox["messages"] == 0
    assert count(app, OutboxMessage, OutboxMessage.blanked_at.is_(None)) == 0
    assert count(app, OutboxMessage, OutboxMessage.text != "") == 0
    assert purging.run(app.services).outbox == {"files": 0, "messages": 0, "texts": 0}

    emre.say("/hilfe")  # newer messages, not due yet
    with app.sessions.begin() as session:
        for address in ("ayse", "emre"):
            chat = session.scalar(select(ChatIdentity).where(ChatIdentity.address == address))
            unlinking.unlink(session, chat, now=clock.now(), actor="test", reason="test")
    ayse.receive(), emre.receive()  # the neutral line, delivered
    assert count(app, OutboxMessage, OutboxMessage.address == "ayse") == 1  # only the neutral line, not blanked
    assert count(app, OutboxMessage, OutboxMessage.address == "emre", OutboxMessage.blanked_at.is_not(None)) == 0
    olga_kept = count(app, OutboxMessage, OutboxMessage.address == "olga")
    assert olga_kept > 1

    clock.advance(timedelta(days=31))  # the rest of the unlinked chats' rows go when their texts are due
    later = purging.run(app.services)
    assert later.outbox["messages"] > 1
    assert count(app, OutboxMessage, OutboxMessage.address.in_(["ayse", "emre"])) == 0
    assert count(app, OutboxMessage, OutboxMessage.address == "olga") == olga_kept  # still linked: kept


def test_an_open_complaint_keeps_the_case_until_it_is_answered(app, bot, codes, clock):
    a_month_of_help(app, bot, codes, clock)
    with app.sessions.begin() as session:
        complaint = session.scalar(select(Complaint))
        complaint.status, complaint.closed_at = "in_progress", None
    case_id = close_case(app, clock)
    clock.set(berlin(2047, 1, 1))
    scheduler.run_all(app.services)
    assert count(app, Case, Case.id == case_id) == 1 and count(app, Complaint) == 1
    assert count(app, Appointment, Appointment.case_id == case_id) == 0


def test_an_organisation_keeps_its_own_periods(app, bot, codes, clock):
    a_month_of_help(app, bot, codes, clock)
    with app.sessions.begin() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == "Brücke e.V."))
        org.settings = {**(org.settings or {}), "retention": {"case_data": 2}}
    case_id = close_case(app, clock)
    clock.set(add_years(clock.now(), 2) + timedelta(hours=1))
    scheduler.run_all(app.services)
    assert count(app, Appointment, Appointment.case_id == case_id) == 0
    assert count(app, Escalation, Escalation.case_id == case_id) == 1  # alerts keep their ten years


def test_the_rules_of_the_periods():
    settings = Settings()
    rules = policy(settings, {"retention": {"complaints": 3}})
    assert rules.years[Kind.CASE_DATA] == 5 and rules.years[Kind.CHILD_PROTECTION] == 10
    assert rules.years[Kind.COMPLAINTS] == 3
    leap = berlin(2028, 2, 29, 12)
    assert rules.due(Kind.CASE_DATA, leap) == berlin(2033, 2, 28, 12)
    assert parse_overrides(["case_data=6", "audit_log = 4"]) == {"case_data": 6, "audit_log": 4}
    for wrong in (["case_data"], ["akten=5"], ["case_data=0"], ["case_data=fünf"], ["case_data=99"]):
        with pytest.raises(RetentionError):
            parse_overrides(wrong)


def test_the_purge_and_the_periods_from_the_command_line(tmp_path):
    from tests.bot.test_config_and_cli import wegbegleiter

    assert wegbegleiter(tmp_path, "init").returncode == 0
    assert wegbegleiter(tmp_path, "org", "add", "Brücke e.V.").returncode == 0
    assert wegbegleiter(tmp_path, "case", "add", "Familie Yılmaz", "--reference", "F-2020-0001",
                        "--help-type", "SPFH § 31").returncode == 0
    assert wegbegleiter(tmp_path, "member", "add", "F-2020-0001", "Ayşe", "--born", "1992-05-03").returncode == 0
    nothing = json.loads(wegbegleiter(tmp_path, "privacy", "purge", "--dry-run", "--json").stdout)
    assert nothing["dry_run"] and nothing["cases"] == []

    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/data/wegbegleiter.db")
    with engine.begin() as conn:  # the help ended six years ago
        conn.execute(text("UPDATE \"case\" SET closed_at = '2019-06-30 10:00:00'"))
    engine.dispose()
    preview = wegbegleiter(tmp_path, "privacy", "purge", "--dry-run")
    assert preview.returncode == 0 and "Would delete:" in preview.stdout and "F-2020-0001" in preview.stdout
    assert "case_data" in preview.stdout and "invite_code 1" in preview.stdout
    done = json.loads(wegbegleiter(tmp_path, "privacy", "purge", "--json").stdout)
    [case] = done["cases"]
    assert case["kinds"] == ["case_data", "escalations", "audit_log"] and not case["case_deleted"]
    assert json.loads(wegbegleiter(tmp_path, "privacy", "purge", "--json").stdout)["cases"] == []

    shown = json.loads(wegbegleiter(tmp_path, "privacy", "retention", "--set", "child_protection=8", "--json").stdout)
    assert shown["years"]["child_protection"] == 8 and shown["own"] == {"child_protection": 8}
    wrong = wegbegleiter(tmp_path, "privacy", "retention", "--set", "child_protection=0")
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1 and "between 1 and 30" in wrong.stderr
    assert "No figures kept yet" in wegbegleiter(tmp_path, "privacy", "figures").stdout


def test_retention_settings_are_checked_at_start_up():
    from bot import config

    with pytest.raises(config.ConfigError, match="RETENTION_CASE_YEARS must be between 1 and 30"):
        config.load({"RETENTION_CASE_YEARS": "0"})
    with pytest.raises(config.ConfigError, match="OUTBOX_TEXT_DAYS must be at least"):
        config.load({"OUTBOX_TEXT_DAYS": "7"})


def test_the_privacy_notices_state_the_periods_in_effect(app, bot, codes):
    from tests.conftest import with_settings

    ayse = bot.link("ayse", codes["Ayşe"], "Leichte Sprache")
    notice = ayse.say("/datenschutz")[0]
    assert "5 Jahre später löschen wir alles" in notice and "10 Jahre später löschen wir sie" in notice
    assert "nach 3 Tagen" in notice
    with app.sessions.begin() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == "Brücke e.V."))
        org.settings = {**(org.settings or {}), "retention": {"case_data": 6, "complaints": 1}}
    changed = with_settings(app, outbox_file_days=1)
    bot.app = changed
    notice = ayse.say("/datenschutz")[0]
    assert "6 Jahre später löschen wir alles" in notice and "1 Jahr später löschen wir sie" in notice
    assert "nach 1 Tag." in notice
    jana = bot.link("jana", codes["Jana"])
    assert "6 Jahre nach dem Ende der Hilfe gelöscht; das Protokoll, wer was gelesen und geändert hat, 5 Jahre " \
           "danach" in jana.say("/datenschutz")[0]
    olga = bot.link("olga", codes["Olga"], "Українська")
    assert "видаляється через 6 років після її завершення" in olga.say("/datenschutz")[0]
