"""How long a person waits for an answer when a share of Telegram's sendMessage calls fail (502).

The Telegram channel as `wegbegleiter run` wires it, against the stand-in, which answers a given share of
sendMessage calls with 502 Bad Gateway. Every chat presses the first button of its newest keyboard as
soon as the previous press was answered; the wait is from the press to the answer on the phone. Two runs
in one go: the retry schedule of the outbox now (0.5, 1, 2, 4 … s) and the one before (2^n s).

    .venv/bin/python bench/retry_latency.py [--chats 30] [--rounds 6] [--faults 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from telegram_common import fresh_app

import bot.outbox
from bot.channels.base import Limits
from bot.channels.telegram import TelegramChannel
from bot.outbox import Dispatcher
from tests.support.telegram_standin import BotApiStandIn

UNPACED = Limits(per_second=None, per_chat_per_second=None)
BEFORE = tuple(float(2 ** n) for n in range(1, 10)) + (600.0,)


async def waits(standin: BotApiStandIn, chats: list[int], rounds: int) -> list[float]:
    app = fresh_app(standin)
    channel = TelegramChannel(app, poll_timeout=1, limits=UNPACED)
    dispatcher = Dispatcher(app.sessions, app.services.clock, {channel.name: channel.transport})
    channel.dispatcher = dispatcher
    stop = asyncio.Event()
    await channel.start()
    delivery = asyncio.create_task(dispatcher.run(stop))
    for chat in chats:
        standin.say(chat, "hallo")
    await standin.wait_for(lambda: all(c in standin.last_keyboard for c in chats), 300)
    seconds: list[float] = []
    pressed: dict[int, tuple[int, float]] = {}
    done = dict.fromkeys(chats, 0)
    while any(n < rounds for n in done.values()) or pressed:
        for chat in chats:
            newest = standin.last_keyboard[chat]
            if chat in pressed and newest > pressed[chat][0]:
                seconds.append(time.monotonic() - pressed.pop(chat)[1])
                done[chat] += 1
            if chat not in pressed and done[chat] < rounds:
                label, data = standin.by_id[newest].buttons[0]
                standin.press(chat, label, data=data, message_id=newest)
                pressed[chat] = (newest, time.monotonic())
        await asyncio.sleep(0.01)
    stop.set()
    await channel.stop()
    await delivery
    return seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--faults", type=float, default=0.2, help="share of sendMessage calls answered 502")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, alternating (load hits both alike)")
    args = parser.parse_args()
    standin = BotApiStandIn().start()
    now = bot.outbox.RETRY_AFTER
    runs = [("before (2^n s)", BEFORE), ("now (0.5, 1, 2 … s)", now)] * args.repeat
    for i, (name, schedule) in enumerate(runs):
        first = 900_000 + i * 10_000
        standin.reset()
        standin.flaky = {"sendMessage": args.faults}
        bot.outbox.RETRY_AFTER = schedule  # type: ignore[assignment]
        seconds = sorted(await waits(standin, list(range(first, first + args.chats)), args.rounds))
        p95 = seconds[int(len(seconds) * 0.95)]
        print(f"{name:22} {len(seconds)} presses, {args.faults:.0%} of sends fail: median {statistics.median(seconds):5.2f} s, "
              f"p95 {p95:5.2f} s, longest {seconds[-1]:5.2f} s", flush=True)
    bot.outbox.RETRY_AFTER = now


if __name__ == "__main__":
    asyncio.run(main())
