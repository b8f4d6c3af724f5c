"""Several `wegbegleiter run` processes on one PostgreSQL (skipped on SQLite, which serves one instance).

- Webhook mode behind one URL: a small reverse proxy hands Telegram's POSTs to two real instances in
  turn (to the other one when one does not answer). 100 chats go through both; one instance is killed
  with kill -9 midway: nothing lost, nothing answered twice, the survivor carries on.
- Polling mode: exactly one instance polls (an advisory lock); when it is killed the other takes over.
- A burst of reminders sent by two instances side by side keeps Telegram's 30 messages/s together.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from conversations.messages import Reply
from conversations.outbox import enqueue
from storage.models import OutboxMessage, OutboxStatus, ProcessedEvent
from tests.bot.test_nothing_lost import fresh_keyboard, press_rounds
from tests.bot.test_telegram import shared_standin
from tests.support.instances import Instance, free_port, instance

FIRST_CHAT = 770_000


@pytest.fixture
def postgres_only(app):  # type: ignore[no-untyped-def]
    if app.db.dialect.name != "postgresql":
        pytest.skip("several instances share PostgreSQL; SQLite serves one")
    return app


@asynccontextmanager
async def reverse_proxy(backends: list[str]) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """Round robin over the backends; one that does not answer is skipped (a proxy's health check)."""
    served = dict.fromkeys(backends, 0)
    turn = itertools.cycle(backends)
    client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        for _ in backends:
            backend = next(turn)
            try:
                async with client.post(backend + request.path, data=body, headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": request.headers.get(
                            "X-Telegram-Bot-Api-Secret-Token", "")}) as answer:
                    served[backend] += 1
                    return web.Response(status=answer.status)
            except aiohttp.ClientError:
                continue
        return web.Response(status=502)

    application = web.Application()
    application.router.add_post("/{path:.*}", forward)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/telegram", served
    finally:
        await runner.cleanup()
        await client.close()


def outbox_per_chat(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return dict(session.execute(select(OutboxMessage.address, func.count())
                                    .group_by(OutboxMessage.address)).all())


def unsent(app) -> int:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)) or 0


def handled(app) -> set[str]:  # type: ignore[no-untyped-def]
    with app.sessions() as session:
        return set(session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.channel == "telegram")))


async def test_two_instances_behind_one_webhook_url_one_killed_midway(postgres_only, database_url, tmp_path):
    app = postgres_only
    standin = shared_standin()
    standin.reset()
    standin.webhook_connections = 40  # Telegram pushes side by side
    ports = [free_port(), free_port()]
    chats = list(range(FIRST_CHAT, FIRST_CHAT + 100))
    async with reverse_proxy([f"http://127.0.0.1:{port}" for port in ports]) as (url, served):
        bots: list[Instance] = [
            instance(name, tmp_path, database_url, standin.base_url, TELEGRAM_WEBHOOK_URL=url,
                     TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}").start()
            for name, port in zip(("a", "b"), ports, strict=True)]
        try:
            for bot in bots:
                bot.wait_for_log("Telegram webhook at")
            greetings = [standin.say(chat, "hallo") for chat in chats]
            await standin.wait_for(lambda: all(c in standin.last_keyboard for c in chats), 120)
            used: dict[int, set[tuple[str, ...]]] = {}
            presses = await press_rounds(standin, chats, rounds=1, used=used, timeout=120)
            assert min(served.values()) >= len(chats) // 4  # both instances served

            in_flight: set[int] = set()
            second = asyncio.create_task(press_rounds(standin, chats, rounds=1, used=used, timeout=120,
                                                      in_flight=in_flight))
            await standin.wait_for(lambda: len(in_flight) < 60, 60)  # mid-round
            bots[0].kill()
            presses += await second
            presses += await press_rounds(standin, chats, rounds=1, used=used, timeout=120)  # the survivor alone

            reference = FIRST_CHAT - 1  # the same inputs, nobody killed meanwhile
            standin.say(reference, "hallo")
            await standin.wait_for(lambda: fresh_keyboard(standin, reference, set()), 30)
            await press_rounds(standin, [reference], rounds=3, timeout=60)
            await standin.wait_for(lambda: unsent(app) == 0, 60)
        finally:
            for bot in bots:
                bot.stop()
    assert {f"u{u}" for u in greetings + presses} - handled(app) == set(), "an input was lost"
    per_chat = outbox_per_chat(app)
    assert {c: per_chat[str(c)] for c in chats} == dict.fromkeys(chats, per_chat[str(reference)]), \
        "an input was answered twice (or not at all)"
    assert "Traceback" not in bots[1].log_text()


async def test_one_instance_polls_and_another_takes_over_when_it_is_killed(postgres_only, database_url, tmp_path):
    app = postgres_only
    standin = shared_standin()
    standin.reset()
    first = instance("first", tmp_path, database_url, standin.base_url).start()
    first.wait_for_log("polling Telegram")
    second = instance("second", tmp_path, database_url, standin.base_url).start()
    chats = list(range(FIRST_CHAT + 500, FIRST_CHAT + 520))
    try:
        second.wait_for_log("another instance polls Telegram")
        greetings = [standin.say(chat, "hallo") for chat in chats]
        await standin.wait_for(lambda: all(c in standin.last_keyboard for c in chats), 60)
        used: dict[int, set[tuple[str, ...]]] = {}
        presses = await press_rounds(standin, chats, rounds=1, used=used)
        assert "polling Telegram" not in second.log_text()  # no 409 loops: one poller

        first.kill()
        killed = time.monotonic()
        presses += await press_rounds(standin, chats, rounds=2, used=used, timeout=60)
        took_over = time.monotonic() - killed
    finally:
        first.stop()
        second.stop()
    assert "polling Telegram" in second.log_text() and took_over < 30
    assert {f"u{u}" for u in greetings + presses} - handled(app) == set()
    assert "Traceback" not in second.log_text()


async def test_two_instances_sending_a_burst_side_by_side_keep_telegrams_limit_together(postgres_only, database_url,
                                                                                        tmp_path):
    app = postgres_only
    standin = shared_standin()
    standin.reset()
    standin.enforce_limits(overall=30, per_chat=1)  # as Telegram counts: 429 above 30 in any second
    bots = [instance(name, tmp_path, database_url, standin.base_url).start() for name in ("a", "b")]
    chats = [str(FIRST_CHAT + 1000 + i) for i in range(240)]
    try:
        for bot in bots:
            bot.wait_for_log("2 instances send side by side")  # each knows of the other before the burst
        now = datetime.now(UTC)
        with app.sessions.begin() as session:  # as a job's scan writes reminders: one transaction
            for chat in chats:
                enqueue(session, channel="telegram", address=chat, reply=Reply("Erinnerung: morgen 10:00 Uhr"),
                        now=now, language="de", kind="reminder")
        await standin.wait_for(lambda: unsent(app) == 0, 60)
    finally:
        for bot in bots:
            bot.stop()
    received = Counter(str(sent.chat_id) for sent in standin.sent if sent.text.startswith("Erinnerung"))
    assert received == Counter(chats), "a reminder was lost or sent twice"
    assert standin.too_many == 0, "together the instances sent more than Telegram allows"
    assert all("Traceback" not in bot.log_text() for bot in bots)
