"""A burst of reminders to distinct Telegram chats, through the outbox, against Telegram's flood limits.

The stand-in enforces what Telegram does (30 messages/s overall, in any one second, 1/s per chat) and
answers 429 with retry_after=1 above that. The bot runs first (channel started, outbox idle), as it
would when a job's scan writes the reminders: they are written the way jobs write them
(``conversations.outbox.notify``, one linked family member per chat, one transaction in a worker
thread) and the outbox finds them at its next look. Measured as a Träger sees it: from the moment the
reminders are in the outbox (the job's commit) to the last one delivered (its ``sent_at``). The time the
job takes to write them is printed on its own. Printed: that rate against 30/s, the 429s, and a check
that every chat got its reminder exactly once.

    .venv/bin/python bench/telegram_burst.py [--reminders 3000]
    DATABASE_URL=postgresql://… .venv/bin/python bench/telegram_burst.py --instances 2

With ``--instances N`` (PostgreSQL) the reminders are sent by N ``wegbegleiter run`` processes side by
side instead of a channel in this process: together they must keep the 30/s (each paces to its share).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from telegram_common import fresh_app

from bot.channels.telegram import TelegramChannel
from bot.outbox import Dispatcher
from conversations.messages import Reply
from conversations.outbox import notify
from storage.models import Case, ChatIdentity, FamilyMember, Organisation, OutboxMessage, OutboxStatus
from tests.support.instances import Instance, instance
from tests.support.telegram_standin import BotApiStandIn

FIRST_CHAT = 300_000


def add_people(app, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    """One linked family member per chat (not timed: they exist before any reminder)."""
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
        return [member.id for member in people]


def write_reminders(app, people: list[int]) -> datetime:  # type: ignore[no-untyped-def]
    """As a job's scan does, in one transaction; returns when they were committed (in the outbox)."""
    now = app.services.clock.now()
    with app.sessions.begin() as session:
        for member in session.scalars(select(FamilyMember).where(FamilyMember.id.in_(people))):
            notify(session, member, lambda tr: Reply(tr.gettext("Reminder") + ": morgen 10:00 Uhr, Familienhilfe"),
                   now=now, kind="reminder", dedupe_key=f"bench-reminder:{member.id}")
    return app.services.clock.now()


def delivered(app, since: datetime) -> tuple[int, float, float]:  # type: ignore[no-untyped-def]
    """Delivered so far, and seconds from ``since`` to the first and to the last delivered."""
    with app.sessions() as session:
        sent, first, last = session.execute(
            select(func.count(), func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at))
            .where(OutboxMessage.status == OutboxStatus.SENT)).one()
    if not sent:
        return 0, 0.0, 0.0
    since = since.replace(tzinfo=first.tzinfo)  # (SQLite gives naive UTC back)
    return sent, (first - since).total_seconds(), (last - since).total_seconds()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=3000)
    parser.add_argument("--instances", type=int, default=0,
                        help="send with N `wegbegleiter run` processes (PostgreSQL in DATABASE_URL)")
    args = parser.parse_args()
    standin = BotApiStandIn().start()
    app = fresh_app(standin)
    people = add_people(app, args.reminders)
    standin.enforce_limits(overall=30, per_chat=1)

    processes: list[Instance] = []
    if args.instances:
        if app.db.dialect.name != "postgresql":
            raise SystemExit("--instances needs PostgreSQL in DATABASE_URL (SQLite serves one instance)")
        folder = Path(tempfile.mkdtemp(prefix="wb-burst-"))
        processes = [instance(f"i{n}", folder, app.settings.database_url, standin.base_url,
                              WEGBEGLEITER_SECRET_KEY=app.settings.secret_key, LOG_LEVEL="INFO").start()
                     for n in range(args.instances)]
        for process in processes:  # each knows of the others before the burst
            process.wait_for_log(f"{args.instances} instances send side by side" if args.instances > 1
                                 else "polling Telegram")
    else:
        channel = TelegramChannel(app)  # Telegram's real pacing: 30 in any second as they arrive, 1/s per chat
        dispatcher = Dispatcher(app.sessions, app.services.clock, {channel.name: channel.transport})
        channel.dispatcher = dispatcher
        stop = asyncio.Event()
        await channel.start()
        delivery = asyncio.create_task(dispatcher.run(stop))  # the bot runs; nothing is due yet

    writing = time.perf_counter()
    committed = await asyncio.to_thread(write_reminders, app, people)  # (as the scheduler runs a scan; no poke)
    writing = time.perf_counter() - writing
    cpu, started, shown = time.process_time(), time.perf_counter(), 0.0
    while (times := await asyncio.to_thread(delivered, app, committed))[0] < args.reminders:
        await asyncio.sleep(0.5)
        if time.perf_counter() - started - shown >= 5:
            shown = time.perf_counter() - started
            print(f"{shown:5.0f} s: {times[0]} sent, {standin.too_many} answered 429", flush=True)
    cpu = time.process_time() - cpu
    if processes:
        for process in processes:
            process.stop()
    else:
        stop.set()
        await channel.stop()
        await delivery

    _sent, first, seconds = times
    per_chat = Counter(s.chat_id for s in standin.sent)
    print(f"{args.reminders} reminders to distinct chats in {seconds:.1f} s, from the job's commit to the last"
          f" delivered (the first after {first:.1f} s; the job wrote them in {writing:.1f} s before that)")
    print(f"achieved rate:       {args.reminders / seconds:5.1f} messages/s (Telegram allows 30/s)")
    print(f"429 answers:         {standin.too_many}")
    print(f"chats reached once:  {sum(1 for n in per_chat.values() if n == 1)} of {args.reminders}"
          f" (twice or more: {sum(1 for n in per_chat.values() if n > 1)})")
    if processes:
        print(f"sent by {len(processes)} instances side by side")
    else:
        print(f"CPU while delivering: {cpu:.1f} s (bot and stand-in), {cpu / args.reminders * 1000:.1f} ms per"
              " reminder")


if __name__ == "__main__":
    asyncio.run(main())
