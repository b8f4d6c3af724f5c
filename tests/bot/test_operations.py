"""Running as a service: /healthz, /readyz and /metrics over real HTTP, start-up that waits for a network
that is away, and a proxy's 502 page that is one WARNING line.

The bot runs as `wegbegleiter run` wires it (:func:`bot.runner.serve`) against the Telegram stand-in;
an unreachable network is a closed TCP port in front of the real server (tests/support/forward.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from bot import scheduler
from bot.app import App, build
from bot.channels.base import ChannelFailed
from bot.channels.telegram import TelegramChannel
from bot.runner import Backoff, serve, wait_for_database
from conversations.messages import Reply
from conversations.outbox import enqueue
from conversations.registry import PeriodicTask
from storage.models import OutboxMessage, StaffMember
from tests.bot.test_telegram import AYSE, TOKEN, UNPACED, shared_standin
from tests.conftest import with_settings
from tests.support.forward import Forwarder, free_port
from tests.support.telegram_standin import BotApiStandIn
from tests.support.web import serving

QUICK = Backoff(first=0.05, most=0.2)


@pytest.fixture
def standin() -> BotApiStandIn:
    server = shared_standin()
    server.reset()
    return server


@contextlib.asynccontextmanager
async def running(app: App, api_url: str) -> AsyncIterator[tuple[TelegramChannel, httpx.AsyncClient, asyncio.Task]]:
    """`wegbegleiter run` in this event loop, its web endpoint on a free port; yields a client for it."""
    port = free_port()
    served = with_settings(app, telegram_bot_token=TOKEN, telegram_api_base_url=api_url,
                           http_listen=f"127.0.0.1:{port}")
    channel = TelegramChannel(served, poll_timeout=1, read_timeout=3, limits=UNPACED)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(served, [channel], stop, backoff=QUICK))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        for _ in range(200):  # the web endpoint comes up first, before any network is reached
            with contextlib.suppress(httpx.TransportError):
                await http.get("/healthz")
                break
            await asyncio.sleep(0.02)
        try:
            yield channel, http, task
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not await condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from the Prometheus text format (0 if absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        sample, _sep, value = line.rpartition(" ")
        found = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})?", sample)
        if found and ",".join(sorted((found.group(1) or "").split(","))) == wanted:
            return float(value)
    return 0.0


async def test_health_readiness_and_metrics_of_a_running_bot(app, standin, codes):
    async with running(app, standin.base_url) as (_channel, http, _task):
        assert (await http.get("/healthz")).json() == {"status": "alive"}
        await until(lambda: ready(http))
        answer = await http.get("/readyz")
        assert answer.status_code == 200
        assert answer.json() == {"ready": True, "database": "ok", "migrations": "ok",
                                 "channels": {"telegram": "connected"}}

        before = (await http.get("/metrics")).text
        standin.say(AYSE, codes["Ayşe"])  # linking: a greeting and the language question
        await standin.wait_messages(AYSE, 2)
        async def delivered() -> bool:
            # A delivery counts when the Bot API answered; its outbox row is marked sent a moment later.
            text = (await http.get("/metrics")).text
            # the counter counts the hand-over; the outbox row is marked sent just after it
            return metric(text, "wegbegleiter_deliveries_total", channel="telegram", result="sent") >= \
                metric(before, "wegbegleiter_deliveries_total", channel="telegram", result="sent") + 2 \
                and metric(text, "wegbegleiter_outbox_depth", channel="telegram") == 0
        await until(delivered)
        after = await http.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    answered = dict(channel="telegram", outcome="answered")
    assert metric(text, "wegbegleiter_turns_total", **answered) == metric(
        before, "wegbegleiter_turns_total", **answered) + 1
    assert metric(text, "wegbegleiter_turn_seconds_count", channel="telegram") >= 1
    assert metric(text, "wegbegleiter_outbox_depth", channel="telegram") == 0
    assert metric(text, "wegbegleiter_channel_connected", channel="telegram") == 1
    assert metric(text, "wegbegleiter_unacknowledged_escalations", kind="child_protection") == 0
    assert "process_resident_memory_bytes" in text


async def ready(http: httpx.AsyncClient) -> bool:
    return (await http.get("/readyz")).status_code == 200


async def test_a_running_bot_runs_every_scan_at_start_and_again_one_round_at_a_time(app, monkeypatch):
    # Reminders and deadlines keep coming while the bot runs; a scan slower than its interval is not started
    # a second time beside itself (its rows would be read twice at once).
    running: Counter[str] = Counter()
    rounds: Counter[str] = Counter()
    beside_itself = []

    def scan(name: str):  # type: ignore[no-untyped-def]
        def run(_services) -> None:  # type: ignore[no-untyped-def]
            running[name] += 1
            beside_itself.append(running[name] > 1)
            rounds[name] += 1
            running[name] -= 1
        return run

    # every second (APScheduler's shortest interval): the two take turns in the scans' one thread
    monkeypatch.setattr(scheduler.REGISTRY, "tasks", {name: PeriodicTask(name, 1, scan(name)) for name in ("a", "b")})
    scans = scheduler.start(app.services)
    try:
        async with asyncio.timeout(60):
            while min(rounds["a"], rounds["b"]) < 2:
                await asyncio.sleep(0.01)
    finally:
        scans.shutdown()
    assert not any(beside_itself)


def test_metrics_show_what_waits_in_the_outbox_and_open_alerts(app, bot, clock, codes):
    with app.sessions.begin() as session:
        for chat in ("1", "2"):
            enqueue(session, channel="telegram", address=chat, reply=Reply("Hallo"), now=clock.now(), language="de")
        enqueue(session, channel="telegram", address="3", reply=Reply("Guten Morgen"), language="de",
                now=clock.now(), not_before=clock.now() + timedelta(hours=10))
    emre = bot.link("emre", codes["Emre"])
    emre.say("ich halt das zuhause nicht mehr aus")  # a child-protection alert, open until someone takes it on
    clock.advance(timedelta(minutes=5))
    scheduler.run_all(app.services)  # what the scheduler runs every few minutes
    with serving(app) as (_served, base):
        text = httpx.get(f"{base}/metrics").text
    assert metric(text, "wegbegleiter_outbox_depth", channel="telegram") == 2
    assert metric(text, "wegbegleiter_outbox_oldest_age_seconds", channel="telegram") == 300
    assert metric(text, "wegbegleiter_outbox_deferred", channel="telegram") == 1  # after quiet hours, on purpose
    assert metric(text, "wegbegleiter_unacknowledged_escalations", kind="child_protection") == 1
    assert metric(text, "wegbegleiter_unacknowledged_escalations", kind="attendance") == 0
    assert metric(text, "wegbegleiter_scan_seconds_count", task="appointments") >= 1


async def test_metrics_can_require_a_token(app):
    guarded = with_settings(app, metrics_token="s3cret-metrics-token")
    with serving(guarded) as (_served, base):
        assert httpx.get(f"{base}/metrics").status_code == 401
        allowed = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
        assert allowed.status_code == 200 and "wegbegleiter_outbox_depth" in allowed.text
        assert httpx.get(f"{base}/healthz").status_code == 200  # health stays open for the orchestrator


async def test_readiness_says_when_the_database_is_behind(app):
    with app.db.begin() as conn:
        heads = [row[0] for row in conn.execute(sql("SELECT version_num FROM alembic_version"))]
        conn.execute(sql("DELETE FROM alembic_version WHERE version_num = :v"), {"v": heads[0]})
    try:
        with serving(app) as (_served, base):
            answer = httpx.get(f"{base}/readyz")
            assert httpx.get(f"{base}/healthz").status_code == 200
    finally:
        with app.db.begin() as conn:
            conn.execute(sql("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": heads[0]})
    assert answer.status_code == 503
    assert answer.json()["migrations"] == "behind: run `wegbegleiter init`"


async def test_start_up_waits_for_telegram_and_carries_on_when_it_answers(app, standin, codes, caplog):
    port_of_standin = int(standin.base_url.split(":")[2].split("/")[0])
    gate = Forwarder(port_of_standin)
    caplog.set_level(logging.WARNING)
    try:
        async with running(app, f"http://{gate.url_host}/bot") as (channel, http, task):
            await until(lambda: _async(sum("telegram unreachable" in r.getMessage() for r in caplog.records) >= 2))
            assert (await http.get("/healthz")).status_code == 200  # alive while waiting
            waiting = await http.get("/readyz")
            assert waiting.status_code == 503 and waiting.json()["channels"] == "starting"
            assert not task.done()  # waiting, not exited
            gate.open()
            await until(lambda: ready(http))
            standin.say(AYSE, codes["Ayşe"])
            texts = await standin.wait_messages(AYSE, 2)
            assert "Ayşe" in texts[0]
    finally:
        gate.shutdown()
    waits = [r for r in caplog.records if "telegram unreachable" in r.getMessage()]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in waits)
    assert "trying again in 0.1 s" in waits[1].getMessage()  # backing off: 0.05, 0.1, 0.2, 0.2, ...


async def _async(value: bool) -> bool:
    return value


def outbox_errors(app: App) -> list[str]:
    with app.sessions() as session:
        return [m.last_error for m in session.query(OutboxMessage) if m.last_error]


async def test_a_proxys_502_page_is_one_warning_line_not_a_traceback(app, standin, codes, clock, caplog):
    caplog.set_level(logging.INFO)
    async with running(app, standin.base_url) as (channel, http, _task):
        await until(lambda: ready(http))
        caplog.clear()
        standin.fail_next("getUpdates", 502, html=True)
        standin.fail_next("sendMessage", 502, html=True)
        await until(lambda: _async(channel.poll_failed_at is not None))
        standin.say(AYSE, codes["Ayşe"])
        await until(lambda: _async(bool(outbox_errors(app))))
        [error] = outbox_errors(app)
        clock.advance(timedelta(minutes=1))  # the retry is due
        await standin.wait_messages(AYSE, 2)  # the failed send was retried
    trouble = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(trouble) == 1, [r.getMessage() for r in trouble]
    line = trouble[0]
    assert line.levelno == logging.WARNING and line.exc_info is None
    assert "Bad Gateway (502)" in line.getMessage() and "<html>" not in line.getMessage()
    assert error == "Bad Gateway (502), not a Bot API answer"  # kept with the message, without the page


def test_an_alert_that_reaches_nobody_is_an_error_line(app, bot, codes, caplog):
    with app.sessions.begin() as session:
        session.execute(update(StaffMember).values(email=None))  # nobody linked a chat, and now no email either
    emre = bot.link("emre", codes["Emre"])
    caplog.set_level(logging.WARNING)
    answer = emre.say("ich halt das zuhause nicht mehr aus")
    assert "110" in answer[0]  # Emre still gets the help numbers at once
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "reached nobody" in error.getMessage() and "F-2027-0001" in error.getMessage()
    assert "Jana Weber" in error.getMessage() and "Martina Hoffmann" in error.getMessage()  # Fachkraft, Leitung
    assert error.exc_info is None


def test_an_alert_the_leitung_can_read_is_no_error(app, bot, codes, caplog):
    emre = bot.link("emre", codes["Emre"])  # Fachkräfte without chat or email; the Leitung has an email address
    caplog.set_level(logging.WARNING)
    emre.say("ich halt das zuhause nicht mehr aus")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with app.sessions() as session:
        assert session.scalars(select(OutboxMessage.address).where(OutboxMessage.channel == "email")).all() == [
            "leitung@bruecke.example"]


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="a database server that is away: PostgreSQL")
def test_start_up_waits_for_the_database_server(app, settings, caplog):
    url = make_url(settings.database_url)
    gate = Forwarder(url.port or 5432, url.host or "127.0.0.1")
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the clock of start-up: no real waiting
        waits.append(seconds)
        if len(waits) == 3:
            gate.open()  # PostgreSQL has started

    through_gate = replace(settings, database_url=url.set(host="127.0.0.1", port=gate.port).render_as_string(
        hide_password=False))
    caplog.set_level(logging.WARNING)
    try:
        started = wait_for_database(lambda: build(through_gate), Backoff(first=1, most=4), sleep)
        started.db.dispose()
    finally:
        gate.shutdown()
    assert waits == [1, 2, 4]
    lines = [r.getMessage() for r in caplog.records if "database unreachable" in r.getMessage()]
    assert len(lines) == 3 and "trying again in 4.0 s" in lines[-1]
    assert all("\n" not in line for line in lines)


async def test_a_502_page_at_start_up_is_waited_out_and_a_refused_token_stops_with_one_line(app, standin, caplog):
    caplog.set_level(logging.WARNING)
    standin.fail_next("getMe", 502, html=True)
    async with running(app, standin.base_url) as (_channel, http, _task):
        await until(lambda: ready(http))
    trouble = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in trouble] == [
        "telegram unreachable (Telegram Bot API: Bad Gateway (502), not a Bot API answer); trying again in 0.1 s"]

    standin.fail_next("getMe", 401, description="Unauthorized")
    served = with_settings(app, telegram_bot_token=TOKEN, telegram_api_base_url=standin.base_url,
                           http_listen=f"127.0.0.1:{free_port()}")
    with pytest.raises(ChannelFailed) as refused:
        await serve(served, [TelegramChannel(served, poll_timeout=1)], asyncio.Event(), backoff=QUICK)
    assert str(refused.value) == "Telegram refused TELEGRAM_BOT_TOKEN: check the token from @BotFather"
    assert TOKEN not in caplog.text  # the token is a secret
