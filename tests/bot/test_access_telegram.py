"""The lost phone on Telegram: python-telegram-bot against the local Bot API stand-in, the operator at the CLI.

Ayşe's phone is gone; her Fachkraft prints a new letter with `member invite --reason lost-phone`. Whoever
holds the old phone sees one neutral line, and then a stranger's chat: the old buttons do nothing, no
`/meine_daten`, the command menu of a linked person is gone.
"""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from conversations import appointments
from conversations.clock import berlin
from storage.models import Appointment, Case, FamilyMember
from tests.bot.test_telegram import AYSE, link, serving, standin, tg_app  # noqa: F401  (fixtures)

NEW_PHONE = 5077


def operator(app, monkeypatch, *args: str) -> dict:  # type: ignore[no-untyped-def]
    """`wegbegleiter … --json` against the test's app (same database and clock)."""
    monkeypatch.setattr("bot.cli.load_app", lambda init=False: app)
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_the_lost_phone_gets_one_line_and_then_is_a_stranger(tg_app, standin, codes, monkeypatch):  # noqa: F811
    async with serving(tg_app):
        await link(standin, AYSE, codes["Ayşe"])
        with tg_app.sessions.begin() as session:
            case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
            visit = appointments.create_appointment(session, tg_app.services, "test", case, "hausbesuch",
                                                    berlin(2027, 3, 9, 10), 120, [],
                                                    appointments.default_members(case)).id
        seen = len(await standin.wait_messages(AYSE, 6))
        assert "Bestätigen" in [label for label, _ in standin.messages(AYSE)[-1].buttons]
        await standin.wait_for(lambda: "meine_daten" in standin.menu(chat_id=AYSE))

        with tg_app.sessions() as session:
            ayse = session.scalar(select(FamilyMember.id).where(FamilyMember.first_name == "Ayşe"))
        issued = await asyncio.to_thread(operator, tg_app, monkeypatch, "member", "invite", str(ayse),
                                         "--reason", "lost-phone")
        assert issued["chats_unlinked"] == 1

        texts = await standin.wait_messages(AYSE, seen + 1)
        assert texts[-1] == ("Dieser Chat ist nicht mehr mit Wegbegleiter verbunden. "
                             "Hierher kommen keine Nachrichten mehr.")

        # The old reminder's button: only Telegram's small notice, nothing reaches the engine.
        answers = len(standin.callback_answers)
        standin.press(AYSE, "Bestätigen")
        await standin.wait_for(lambda: len(standin.callback_answers) > answers)
        assert "nicht mehr gültig" in standin.callback_answers[-1].get("text", "")
        with tg_app.sessions() as session:
            assert session.get(Appointment, visit).confirmed_at is None

        # /meine_daten: asked for a code, no file; the linked person's command menu is gone.
        standin.say(AYSE, "/meine_daten")
        texts = await standin.wait_messages(AYSE, seen + 2)
        assert "Code aus Ihrem Einladungsbrief" in texts[-1]
        assert standin.messages(AYSE)[-1].filename is None
        await standin.wait_for(lambda: "meine_daten" not in standin.menu(chat_id=AYSE))
        assert len(standin.messages(AYSE)) == seen + 2

        # Ayşe's new phone links with the new letter.
        await link(standin, NEW_PHONE, issued["code"])
        assert "Dieser Chat ist jetzt verbunden" in standin.texts(NEW_PHONE)[-2]
