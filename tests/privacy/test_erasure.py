"""An erasure request before the period ends (Art. 17 DSGVO, where no duty to keep applies): the Träger
decides, the operator deletes one closed case's data at once, the dry run first."""

from __future__ import annotations

from sqlalchemy import func, select

from conversations.clock import berlin
from storage.models import Appointment, AuditEvent, Case, ChatIdentity, Escalation
from tests.bot.test_access import run, yilmaz_visits  # noqa: F401  (fixture)


def count(app, model, *where) -> int:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_one_closed_case_is_erased_now_on_request(bot, codes, app, clock, run):  # noqa: F811
    ayse = bot.link("ayse", codes["Ayşe"])
    emre = bot.link("emre", codes["Emre"])
    bot.link("olga", codes["Olga"])  # another family: untouched
    yilmaz_visits(app, clock)
    emre.say("ich halt das zuhause nicht mehr aus")

    refused = run("privacy", "purge", "--case", "F-2027-0001", "--now", "case_data", ok=False)
    assert refused == "Fehler: Fall F-2027-0001 ist noch offen: schließen Sie ihn zuerst (case close)"
    clock.set(berlin(2027, 3, 31, 12))
    run("case", "close", "F-2027-0001", "--reason", "ended-by-family")
    ayse.receive()
    with app.sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == "F-2027-0001"))

    preview = run("privacy", "purge", "--case", "F-2027-0001", "--now", "case_data", "--now", "audit_log",
                  "--dry-run")
    [shown] = preview["cases"]
    assert shown["kinds"] == ["case_data", "audit_log"] and not shown["case_deleted"]
    assert count(app, Appointment, Appointment.case_id == case_id) == 4

    done = run("privacy", "purge", "--case", "F-2027-0001", "--now", "case_data", "--now", "audit_log")
    assert done["cases"][0]["kinds"] == ["case_data", "audit_log"]
    assert count(app, Appointment, Appointment.case_id == case_id) == 0
    assert count(app, ChatIdentity, ChatIdentity.address.in_(["ayse", "emre"])) == 0
    assert count(app, Escalation, Escalation.case_id == case_id) == 1  # the § 8a alert was not asked for
    assert count(app, ChatIdentity, ChatIdentity.address == "olga") == 1
    with app.sessions() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.purged")).all()
        assert event.actor == "cli" and event.detail["early"] == ["audit_log", "case_data"]
    # the ordinary purge later finds nothing of these kinds again
    assert run("privacy", "purge", "--case", "F-2027-0001")["cases"] == []
