"""The end of a help, walked as the Träger lives it: the operator at the CLI, Ayşe on Telegram (the Bot API
stand-in on 127.0.0.1), the clock moved over years.

The help ends with `case close`; Ayşe's Telegram gets one goodbye with the Träger's number and is a stranger
after it. Nearly five years later nothing has gone; five years after, `privacy purge --dry-run` shows the case
data, `privacy purge` deletes it, and `privacy figures` keeps the anonymous counts. Ten years after the alert
goes too, and with it the case.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from conversations.clock import berlin
from storage.models import Appointment, Case, ChatIdentity, Escalation
from tests.bot.test_access_telegram import operator
from tests.bot.test_telegram import AYSE, link, serving, standin, tg_app  # noqa: F401  (fixtures)


def count(app, model, *where) -> int:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


async def test_the_help_ends_on_telegram_and_is_deleted_years_later_from_the_command_line(
        tg_app, standin, codes, clock, monkeypatch):  # noqa: F811
    app = tg_app
    async with serving(app):
        await link(standin, AYSE, codes["Ayşe"])
        seen = len(standin.messages(AYSE))
        standin.say(AYSE, "ich halt das zuhause nicht mehr aus")  # an alert: § 8a documentation, ten years
        seen = len(await standin.wait_messages(AYSE, seen + 1))
        await asyncio.to_thread(operator, app, monkeypatch, "appointments", "add", "F-2027-0001",
                                "--kind", "hausbesuch", "--start", "2027-03-09 10:00", "--minutes", "120")

        clock.set(berlin(2027, 3, 31, 15))
        closed = await asyncio.to_thread(operator, app, monkeypatch, "case", "close", "F-2027-0001",
                                         "--reason", "goals-reached")
        assert closed["chats_said_goodbye"] >= 1
        await standin.wait_for(lambda: [t for t in standin.texts(AYSE)[seen:] if "nicht mehr mit" in t])
        goodbye = standin.texts(AYSE)[-1]  # one message: the goodbye, the Träger's number, the last line
        assert goodbye.startswith("Ihre Familienhilfe bei Brücke e.V. ist zu Ende. Danke für Ihr Vertrauen")
        assert "0391 555 0100" in goodbye and goodbye.endswith("Hierher kommen keine Nachrichten mehr.")
        after_goodbye = len(standin.messages(AYSE))
        standin.say(AYSE, "/meine_daten")
        reply = await standin.wait_messages(AYSE, after_goodbye + 1)
        assert "Code aus Ihrem Einladungsbrief" in reply[-1]

    clock.set(berlin(2032, 3, 30, 12))  # nearly five years on: nothing is due yet
    nothing = operator(app, monkeypatch, "privacy", "purge", "--dry-run")
    assert [c["reference"] for c in nothing["cases"]] == []

    clock.set(berlin(2032, 4, 1, 12))  # five years after the help ended
    preview = operator(app, monkeypatch, "privacy", "purge", "--dry-run")
    [shown] = preview["cases"]
    assert shown["reference"] == "F-2027-0001" and "case_data" in shown["kinds"] and not shown["case_deleted"]
    with app.sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == "F-2027-0001"))
    assert count(app, Appointment, Appointment.case_id == case_id) == 1  # a dry run changes nothing
    done = operator(app, monkeypatch, "privacy", "purge")
    assert [c["reference"] for c in done["cases"]] == ["F-2027-0001"]
    assert count(app, Appointment, Appointment.case_id == case_id) == 0
    assert count(app, ChatIdentity, ChatIdentity.address == str(AYSE)) == 0
    assert count(app, Escalation, Escalation.case_id == case_id) == 1  # the alert keeps its ten years

    clock.set(berlin(2037, 4, 1, 12))
    operator(app, monkeypatch, "privacy", "purge")
    assert count(app, Case, Case.id == case_id) == 0
    figures = {(f["year"], f["metric"], f["key"]): f["count"] for f in operator(app, monkeypatch, "privacy", "figures")}
    assert figures[(2027, "cases_closed", "SPFH § 31 SGB VIII")] == 1
    assert figures[(2027, "child_protection", "")] == 1
