"""A burst of reminders to distinct Telegram chats, through the outbox, against Telegram's flood limits.

The stand-in enforces what Telegram does (about 30 messages/s overall, 1/s per chat) and answers 429
with retry_after=1 above that. The reminders are written the way jobs write them
(``conversations.outbox.notify``, one linked family member per chat), then the outbox delivers them
with the Telegram transport's real pacing. Printed: the achieved rate against 30/s, the 429s, and a
check that every chat got its reminder exactly once.

    .venv/bin/python bench/telegram_burst.py [--reminders 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from sqlalchemy import func, select
from telegram_common import fresh_app

from bot.channels.telegram import TelegramChannel
from bot.outbox import Dispatcher
from conversations.messages import Reply
from conversations.outbox import notify
from storage.models import Case, ChatIdentity, FamilyMember, Organisation, OutboxMessage, OutboxStatus
from tests.support.telegram_standin import BotApiStandIn

FIRST_CHAT = 300_000


def write_reminders(app, count: int) -> None:  # type: ignore[no-untyped-def]
    now = app.services.clock.now()
    with app.sessions.begin() as session:
        org = Organisation(name="Brücke e.V.", created_at=now)
        session.add(org)
        people = []
        for i in range(count):
            case = Case(organisation=org, reference=f"B-{i:05d}", title=f"Familie {i}", created_at=now)
            member = FamilyMember(case=case, first_name=f"Person {i}", language="de", consent_at=now, created_at=now)
            session.add(ChatIdentity(channel="telegram", address=str(FIRST_CHAT + i), member=member, linked_at=now))
            people.append(member)
        session.flush()
        for member in people:
            notify(session, member, lambda tr: Reply(tr.gettext("Reminder") + ": morgen 10:00 Uhr, Familienhilfe"),
                   now=now, kind="reminder", dedupe_key=f"bench-reminder:{member.id}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=3000)
    args = parser.parse_args()
    standin = BotApiStandIn().start()
    app = fresh_app(standin)
    write_reminders(app, args.reminders)
    standin.enforce_limits(overall=30, per_chat=1)

    channel = TelegramChannel(app)  # Telegram's real pacing: at most 29 in any second, 1/s per chat
    dispatcher = Dispatcher(app.sessions, app.services.clock, {channel.name: channel.transport})
    channel.dispatcher = dispatcher
    stop = asyncio.Event()
    await channel.start()
    started = time.perf_counter()
    delivery = asyncio.create_task(dispatcher.run(stop))

    def delivered() -> int:
        with app.sessions() as session:
            return session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.SENT)) or 0

    while (done := await asyncio.to_thread(delivered)) < args.reminders:
        await asyncio.sleep(5)
        print(f"{time.perf_counter() - started:5.0f} s: {done} sent, {standin.too_many} answered 429", flush=True)
    seconds = time.perf_counter() - started
    stop.set()
    await channel.stop()
    await delivery

    per_chat = Counter(s.chat_id for s in standin.sent)
    print(f"{args.reminders} reminders to distinct chats in {seconds:.1f} s")
    print(f"achieved rate:       {args.reminders / seconds:5.1f} messages/s (Telegram allows about 30/s)")
    print(f"429 answers:         {standin.too_many}")
    print(f"chats reached once:  {sum(1 for n in per_chat.values() if n == 1)} of {args.reminders}"
          f" (twice or more: {sum(1 for n in per_chat.values() if n > 1)})")


if __name__ == "__main__":
    asyncio.run(main())
