"""A complaint through Telegram (python-telegram-bot against the local Bot API stand-in): Olga sends a voice
note with her anonymous complaint, Kerstin takes it over with a button, Olga hears of it."""

from __future__ import annotations

from sqlalchemy import select

from storage.models.complaints import Complaint
from tests.bot.test_telegram import link, serving, shared_standin, standin, tg_app  # noqa: F401  (fixtures)
from tests.conversations.test_complaints import ABOUT_STAFF

OLGA, KERSTIN, TOBIAS = 5201, 5202, 5203
VOICE = b"OggS\x00" + bytes(range(256)) * 8


async def shows(standin, chat: int, fragment: str, after: int = 0) -> str:  # noqa: F811
    """Wait until the chat shows a message containing ``fragment`` (after the first ``after``)."""
    return await standin.wait_for(
        lambda: next((t for t in standin.texts(chat)[after:] if fragment in t), None))


async def test_an_anonymous_complaint_with_a_voice_note_through_telegram(tg_app, standin, codes):  # noqa: F811
    async with serving(tg_app):
        await link(standin, KERSTIN, codes["Kerstin"])
        await link(standin, TOBIAS, codes["Tobias"])
        await link(standin, OLGA, codes["Olga"])
        before_tobias = len(standin.messages(TOBIAS))

        standin.say(OLGA, "/skarga")  # the Ukrainian word as someone types it on a Latin keyboard
        await shows(standin, OLGA, "Worüber")
        standin.press(OLGA, ABOUT_STAFF)
        await shows(standin, OLGA, "Um wen geht es?")
        standin.press(OLGA, "Tobias Klein")
        await shows(standin, OLGA, "Bitte erzählen Sie")
        standin.send_voice(OLGA, VOICE)
        await shows(standin, OLGA, "Danke, das habe ich aufgenommen")
        standin.press(OLGA, "Das ist alles")
        await shows(standin, OLGA, "Anonym heißt")
        standin.press(OLGA, "Anonym")
        await shows(standin, OLGA, "Möchten Sie eine Antwort?")
        standin.press(OLGA, "Ja, hier im Chat")
        await shows(standin, OLGA, "Bitte prüfen Sie")
        standin.press(OLGA, "Abschicken")
        assert "Ihr Zeichen: B-2027-0001" in await shows(standin, OLGA, "Ihr Zeichen")

        new = await shows(standin, KERSTIN, "Eine neue Beschwerde")
        assert "Von: anonym" in new and "Petrenko" not in new
        standin.press(KERSTIN, "Übernehmen")
        assert "Kerstin Braun kümmert sich darum" in await shows(standin, OLGA, "ist aufgenommen")
        await shows(standin, KERSTIN, "Sie bearbeiten jetzt")
        standin.press(KERSTIN, "Anzeigen")
        await standin.wait_for(lambda: standin.calls_of("sendDocument") or standin.calls_of("sendAudio")
                               or standin.calls_of("sendVoice"))

    assert all("B-2027" not in t for t in standin.texts(TOBIAS)[before_tobias:])
    with tg_app.sessions() as session:
        stored = session.scalar(select(Complaint).where(Complaint.reference == "B-2027-0001"))
        assert stored.files[0].data == VOICE and stored.files[0].mime_type == "audio/ogg"
