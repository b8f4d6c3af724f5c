"""The appointment path on a real channel: Telegram (python-telegram-bot against the local Bot API stand-in).

Ayşe gets the invitation with its .ics file on her phone, and on Monday 22:40 cancels Tuesday's visit with
a button: she reads in German what a cancellation under 24 hours means; Jana hears of it next morning.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from conversations import admin, budget
from conversations import appointments as appts
from conversations.clock import berlin
from storage.models import Appointment, Case, ChatIdentity, OutboxMessage
from tests.bot.test_telegram import AYSE, link, serving, standin, tg_app  # noqa: F401  (fixtures)


async def test_invitation_with_ics_and_a_late_cancellation_on_telegram(tg_app, standin, codes, clock):  # noqa: F811
    async with serving(tg_app) as channel:
        await link(standin, AYSE, codes["Ayşe"])
        with tg_app.sessions.begin() as session:
            case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
            budget.set_budget(session, "cli", clock.now(), case, 20 * 60, date(2027, 3, 1))
            jana = admin.team(case)[0]
            session.add(ChatIdentity(channel="test", address="jana", staff_id=jana.id, linked_at=clock.now()))
            appts.create_appointment(session, tg_app.services, jana, case, "hausbesuch", berlin(2027, 3, 16, 10),
                                     120, [jana], appts.default_members(case), "bei Ihnen zu Hause")
        channel.dispatcher.poke()
        invitation = await standin.wait_for(lambda: next(
            (s for s in standin.messages(AYSE) if s.method == "sendDocument"), None))
        assert invitation.filename == "termin.ics" and b"BEGIN:VEVENT" in invitation.data
        assert "Neuer Termin: Hausbesuch: Dienstag, 16. März 2027, 10:00" in invitation.text

        clock.set(berlin(2027, 3, 15, 22, 40))
        count = len(standin.messages(AYSE))
        standin.press(AYSE, "Termin absagen")
        texts = await standin.wait_messages(AYSE, count + 2)
        assert "weniger als 24 Stunden" in texts[count] and "2 Std." in texts[count]
        assert "kein Vorwurf" in texts[count]
        standin.press(AYSE, "Ohne Grund absagen")
        texts = await standin.wait_messages(AYSE, count + 4)
        assert "Der Termin ist abgesagt. Die geplanten 2 Std. zählen" in texts[count + 2]
        assert "anderen Termin" in texts[count + 3]
    with tg_app.sessions() as session:
        visit = session.scalar(select(Appointment))
        assert visit.outcome == "cancelled_by_family" and visit.ics_sequence == 1
        to_jana = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "appointment.family_answer")).all()
        assert to_jana and all(m.next_attempt_at == berlin(2027, 3, 16, 8, 0) for m in to_jana)
