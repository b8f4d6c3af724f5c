"""kill -9 during a stream of inputs: a real `wegbegleiter run` against the Telegram stand-in, killed again
and again just after Telegram handed it presses (mid-turn), started again each time.

Counts inputs lost (no committed turn), inputs answered twice (more replies than a chat that saw no kill),
and replies that reached the phone twice (the one on its way at a kill: Telegram cannot be asked whether
it arrived).

    .venv/bin/python bench/kill_restart.py [--chats 50] [--presses 19] [--kills 8]
    DATABASE_URL=postgresql://... .venv/bin/python bench/kill_restart.py      # emptied first
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from telegram_common import fresh_app

from storage.models import OutboxMessage, OutboxStatus, ProcessedEvent
from tests.bot.test_nothing_lost import fresh_keyboard, press_rounds, replies_sent_more_than_once
from tests.support.instances import instance
from tests.support.telegram_standin import BotApiStandIn

FIRST_CHAT = 600_000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--presses", type=int, default=19, help="per chat, after its first message")
    parser.add_argument("--kills", type=int, default=8)
    args = parser.parse_args()
    standin = BotApiStandIn().start()
    app = fresh_app(standin)
    bot = instance("bot", Path(tempfile.mkdtemp(prefix="wb-kill-")), app.settings.resolved_database_url,
                   standin.base_url).start()
    chats = list(range(FIRST_CHAT, FIRST_CHAT + args.chats))
    rng = random.Random(16)
    in_flight: set[int] = set()
    used: dict[int, set[tuple[str, ...]]] = {}
    started = time.monotonic()

    async def killer() -> None:
        for _ in range(args.kills):
            answered = len(standin.sent)
            await standin.wait_for(lambda a=answered: len(standin.sent) > a + 20, 120)
            await standin.wait_for(lambda: in_flight & standin.handed_out, 120)
            await asyncio.sleep(rng.uniform(0.0, 0.05))
            bot.kill()
            bot.start()

    try:
        greetings = [standin.say(chat, "hallo") for chat in chats]
        kills = asyncio.create_task(killer())
        await standin.wait_for(lambda: all(c in standin.last_keyboard for c in chats), 120)
        presses = await press_rounds(standin, chats, rounds=args.presses, in_flight=in_flight, used=used,
                                     timeout=1800)
        kills.cancel()
        reference = FIRST_CHAT - 1
        standin.say(reference, "hallo")
        await standin.wait_for(lambda: fresh_keyboard(standin, reference, set()), 60)
        await press_rounds(standin, [reference], rounds=args.presses, timeout=300)
        seconds = time.monotonic() - started
    finally:
        bot.stop()
    with app.sessions() as session:
        handled = set(session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.channel == "telegram")))
        per_chat = dict(session.execute(select(OutboxMessage.address, func.count())
                                        .group_by(OutboxMessage.address)).all())
        unsent = session.scalar(select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT))
    inputs = greetings + presses
    lost = len({f"u{u}" for u in inputs} - handled)
    expected = per_chat[str(reference)]
    twice = sum(1 for c in chats if per_chat.get(str(c), 0) > expected)
    short = sum(1 for c in chats if per_chat.get(str(c), 0) < expected)
    print(f"{len(inputs)} inputs from {len(chats)} chats, {bot.kills} × kill -9 mid-turn, {seconds:.0f} s "
          f"({app.db.dialect.name})")
    print(f"inputs lost:                      {lost}")
    print(f"chats with an input answered twice: {twice}; with an answer missing: {short}; replies unsent: {unsent}")
    print(f"replies that reached the phone twice: {replies_sent_more_than_once(standin, chats)}")


if __name__ == "__main__":
    asyncio.run(main())
