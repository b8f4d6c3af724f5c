"""Button presses handled per second: a full Wegbegleiter flow step versus a bare python-telegram-bot echo bot.

Both run against the same local Bot API stand-in in the same process. Each round, every chat presses the
first button of its newest keyboard; the round ends when every chat has its answer (a new keyboard).

* echo: answerCallbackQuery + sendMessage with one button, nothing else.
* flow: the Telegram channel as `wegbegleiter run` wires it: the token is redeemed (database), the
  keyboard removed, the engine turn runs (state and outbox in one transaction), the outbox sends the
  reply with a fresh keyboard (its tokens written to the database) and marks it sent. The presses
  alternate between "Sprache wählen" and "Deutsch" in the onboarding, so every one changes the state.
  Telegram's pacing is switched off here (it is measured by telegram_burst.py).

    .venv/bin/python bench/telegram_flow.py [--chats 100] [--rounds 5] [--repeat 3]
    .venv/bin/python bench/telegram_flow.py --latency 20 [--chats 100] [--rounds 5]   # p95 press -> answer
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes
from telegram_common import TOKEN, fresh_app

from bot.channels.base import Limits
from bot.channels.telegram import TelegramChannel
from bot.outbox import Dispatcher
from tests.support.telegram_standin import BotApiStandIn

CALLS: Counter[str] = Counter()  # Bot API calls of the last Wegbegleiter run, by method
NOT_PER_PRESS = {"getUpdates", "setMyCommands", "deleteMyCommands"}  # polling; menus are set once per chat
UNPACED = Limits(per_second=None, per_chat_per_second=None)
FIRST_CHAT = 700_000


CPU: list[float] = []  # process CPU seconds of each run's presses (set up and shutdown not counted)


async def rounds(standin: BotApiStandIn, chats: list[int], count: int) -> float:
    """Press the newest keyboard's first button in every chat, ``count`` times; seconds taken."""
    started = time.perf_counter()
    cpu = time.process_time()
    for _round in range(count):
        shown = {}
        for chat in chats:
            message_id = standin.last_keyboard[chat]
            buttons = standin.by_id[message_id].buttons
            shown[chat] = standin.keyboards_shown[chat]
            standin.press(chat, buttons[0][0], data=buttons[0][1], message_id=message_id)
        # answered: a new keyboard on the phone (a new message, or the pressed one edited in place)
        await standin.wait_for(lambda s=shown: all(standin.keyboards_shown[c] > n for c, n in s.items()), 120)
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - started


async def echo_bot(standin: BotApiStandIn, chats: list[int], count: int) -> float:
    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer()
        await context.bot.send_message(query.message.chat.id, f"echo {query.data}",
                                       reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("again", callback_data="x")]]))

    base = standin.base_url
    app = ApplicationBuilder().token(TOKEN).base_url(base).base_file_url(base.replace("/bot", "/file/bot")).build()
    app.add_handler(CallbackQueryHandler(on_press))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(timeout=1)
    for chat in chats:  # a first message with a button in every chat
        await app.bot.send_message(chat, "start", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("go", callback_data="x")]]))
    seconds = await rounds(standin, chats, count)
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    return seconds


async def press_latency(standin: BotApiStandIn, chats: list[int], count: int, rate: float) -> list[float]:
    """``count`` presses at ``rate`` per second spread over the chats (a chat presses again only after its
    answer came); the seconds from each press to its answer reaching the Bot API."""
    took: list[float] = []
    waiting: dict[int, tuple[int, float]] = {}
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set() or waiting:
            now = time.perf_counter()
            for chat, (shown, at) in list(waiting.items()):
                if standin.keyboards_shown[chat] > shown:
                    took.append(now - at)
                    del waiting[chat]
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    for i in range(count):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        chat = chats[i % len(chats)]
        while chat in waiting:
            await asyncio.sleep(0.005)
        message_id = standin.last_keyboard[chat]
        buttons = standin.by_id[message_id].buttons
        shown = standin.keyboards_shown[chat]
        standin.press(chat, buttons[0][0], data=buttons[0][1], message_id=message_id)
        waiting[chat] = (shown, time.perf_counter())
    done.set()
    await asyncio.wait_for(watcher, 120)
    return took


async def wegbegleiter(standin: BotApiStandIn, chats: list[int], count: int, rate: float | None = None):  # type: ignore[no-untyped-def]
    app = fresh_app(standin)
    channel = TelegramChannel(app, poll_timeout=1, limits=UNPACED)
    dispatcher = Dispatcher(app.sessions, app.services.clock, {channel.name: channel.transport})
    channel.dispatcher = dispatcher
    stop = asyncio.Event()
    await channel.start()
    delivery = asyncio.create_task(dispatcher.run(stop))
    for chat in chats:
        standin.say(chat, "hallo")  # the onboarding asks for the code and offers "Sprache wählen"
    await standin.wait_for(lambda: all(c in standin.last_keyboard for c in chats), 120)
    before = len(standin.calls)
    result = await (rounds(standin, chats, count) if rate is None
                    else press_latency(standin, chats, count * len(chats), rate))
    CALLS.clear()
    CALLS.update(Counter(method for method, _params in standin.calls[before:] if method not in NOT_PER_PRESS))
    stop.set()
    await channel.stop()
    await delivery
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="alternate echo and flow runs; the best of each counts")
    parser.add_argument("--latency", type=float, metavar="PRESSES_PER_S",
                        help="instead: presses at this rate, p50/p95 from press to the answer at the Bot API")
    args = parser.parse_args()
    standin = BotApiStandIn().start()
    if args.latency:
        took = sorted(await wegbegleiter(standin, list(range(FIRST_CHAT, FIRST_CHAT + args.chats)), args.rounds,
                                         rate=args.latency))
        print(f"{len(took)} presses at {args.latency:g}/s over {args.chats} chats: press to answer at the Bot API "
              f"p50 {took[len(took) // 2] * 1000:.0f} ms, p95 {took[int(len(took) * 0.95)] * 1000:.0f} ms, "
              f"max {took[-1] * 1000:.0f} ms")
        return
    presses = args.chats * args.rounds
    echo: list[float] = []
    flow: list[float] = []
    echo_cpu: list[float] = []
    flow_cpu: list[float] = []
    for run in range(args.repeat):  # alternating, so load from elsewhere hits both alike
        first = FIRST_CHAT + 2 * run * args.chats
        echo.append(presses / await echo_bot(standin, list(range(first, first + args.chats)), args.rounds))
        echo_cpu.append(CPU[-1] / presses * 1000)
        flow.append(presses / await wegbegleiter(
            standin, list(range(first + args.chats, first + 2 * args.chats)), args.rounds))
        flow_cpu.append(CPU[-1] / presses * 1000)
        print(f"run {run + 1}: echo {echo[-1]:.1f}/s ({echo_cpu[-1]:.1f} ms CPU per press), "
              f"flow {flow[-1]:.1f}/s ({flow_cpu[-1]:.1f} ms CPU per press)", flush=True)
    print(f"{presses} button presses per run ({args.chats} chats x {args.rounds} rounds), best of {args.repeat}")
    print(f"bare PTB echo bot:          {max(echo):7.1f} presses/s, {min(echo_cpu):5.1f} ms CPU per press")
    print(f"Wegbegleiter flow step:     {max(flow):7.1f} presses/s, {min(flow_cpu):5.1f} ms CPU per press")
    print(f"ratio flow/echo:            {max(flow) / max(echo):7.2f} (CPU per press: "
          f"{min(echo_cpu) / min(flow_cpu):.2f})")
    print("Bot API calls per press:    " + ", ".join(f"{method} {n / presses:.2f}" for method, n in CALLS.items())
          + f" (total {sum(CALLS.values()) / presses:.2f})")


if __name__ == "__main__":
    asyncio.run(main())
