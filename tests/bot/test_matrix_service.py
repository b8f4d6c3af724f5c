"""The Matrix channel as a service, against the real Synapse: a new chat's greeting readable even before the
bot knew the member's devices, no HTTP session left open at shutdown, the "left out" warning only when
a person's events were left out, and start-up that waits for a homeserver that is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx
import pytest
from nio import MegolmEvent

from bot.channels import matrix as matrix_module
from bot.channels.base import ChannelFailed
from bot.channels.matrix import MatrixChannel
from bot.runner import Backoff, serve
from conversations.messages import Reply
from conversations.outbox import enqueue
from tests.bot.test_matrix import family, matrix_bot, person  # noqa: F401  (fixtures)
from tests.conftest import with_settings
from tests.support.forward import Forwarder, free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_greeting_is_readable_even_if_the_bot_never_asked_for_the_members_devices(
        matrix_bot, family, synapse, tmp_path):  # noqa: F811  (fixtures)
    channel = matrix_bot.channel
    keep_keys = channel._keep_keys

    async def no_key_queries() -> None:  # as if the sync loop had not come round to asking yet
        queries = channel.client.olm.users_for_key_query
        held = set(queries)
        queries.clear()
        try:
            await keep_keys()
        finally:
            queries.update(held)

    channel._keep_keys = no_key_queries  # type: ignore[method-assign]
    ayse = await person(family, synapse, tmp_path, "ayse")
    unreadable: list[MegolmEvent] = []

    async def record(_room, event) -> None:  # type: ignore[no-untyped-def]
        unreadable.append(event)

    ayse.client.add_event_callback(record, (MegolmEvent,))
    room = await ayse.direct_chat(matrix_bot.user.user_id)  # created, and listened to at once
    greeting = await ayse.next_text(room)
    assert "Code" in greeting and not unreadable
    assert ayse.user.user_id in channel.client.olm.tracked_users  # asked for before the first send


async def test_no_http_session_is_left_open_at_shutdown(matrix_bot, family, synapse, tmp_path):  # noqa: F811
    emre = await person(family, synapse, tmp_path, "emre")
    room = await emre.direct_chat(matrix_bot.user.user_id)
    await emre.next_text(room)
    channel, app = matrix_bot.channel, matrix_bot.app
    await matrix_bot.stop()
    assert channel.client.client_session is None
    with app.sessions.begin() as session:  # a reminder written while the bot stops
        enqueue(session, channel="matrix", address=room, reply=Reply("Erinnerung"), now=app.services.clock.now(),
                language="de")
    from bot.outbox import ChannelSender

    sender = ChannelSender(app.sessions, app.services.clock, channel.transport)
    await sender.deliver_due()  # a late delivery round: retried after the restart, no new session opened
    assert channel.client.client_session is None
    app.services.clock.advance(timedelta(minutes=1))  # its retry is due
    await matrix_bot.start()  # the restarted bot delivers it
    assert "Erinnerung" in await emre.until(room, "Erinnerung")


async def test_a_new_chat_gives_no_left_out_warning_but_a_real_gap_does(
        matrix_bot, family, synapse, tmp_path, caplog, monkeypatch):  # noqa: F811
    caplog.set_level(logging.WARNING, logger="bot.channels.matrix")
    leyla = await person(family, synapse, tmp_path, "leyla")
    room = await leyla.direct_chat(matrix_bot.user.user_id)
    await leyla.next_text(room)
    assert not [r for r in caplog.records if "left out" in r.getMessage()]

    await matrix_bot.stop()
    monkeypatch.setitem(matrix_module.SYNC_FILTER["room"]["timeline"], "limit", 2)  # a small window
    for n in range(5):
        await leyla.say(room, f"Nachricht {n}")  # written while the bot is away
    await matrix_bot.start()
    await matrix_bot.synced()
    [gap] = [r for r in caplog.records if "left out" in r.getMessage()]
    assert gap.getMessage().startswith("3 events in") and gap.levelno == logging.WARNING


async def test_start_up_waits_for_the_homeserver_and_names_user_and_device(app, synapse, caplog):
    user = synapse.register("wegbegleiter")
    gate = Forwarder(int(synapse.url.rsplit(":", 1)[1]))
    port = free_port()
    served = with_settings(app, matrix_homeserver=f"http://{gate.url_host}", matrix_user_id=user.user_id,
                           matrix_password=user.password, http_listen=f"127.0.0.1:{port}")
    channel = MatrixChannel(served)
    stop = asyncio.Event()
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(serve(served, [channel], stop, backoff=Backoff(first=0.05, most=0.2)))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(400):
                if sum("matrix unreachable" in r.getMessage() for r in caplog.records) >= 2:
                    break
                await asyncio.sleep(0.05)
            assert (await http.get("/readyz")).json()["channels"] == "starting"
            gate.open()
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            assert (await http.get("/readyz")).json()["channels"] == {"matrix": "connected"}
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        gate.shutdown()
    [start] = [r for r in caplog.records if r.getMessage().startswith("serving matrix")]
    assert user.user_id in start.getMessage() and f"device {channel.client.device_id}" in start.getMessage()
    assert start.fields["matrix_user"] == user.user_id  # type: ignore[attr-defined]
    waits = [r for r in caplog.records if "matrix unreachable" in r.getMessage()]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in waits)


async def test_a_wrong_password_stops_start_up_with_one_line(app, synapse):
    user = synapse.register("wegbegleiter")
    wrong = with_settings(app, matrix_homeserver=synapse.url, matrix_user_id=user.user_id,
                          matrix_password="not-the-password")
    channel = MatrixChannel(wrong)
    try:
        with pytest.raises(ChannelFailed) as refused:  # waiting would not help: no retries
            await channel.start()
    finally:
        await channel.client.close()
    assert str(refused.value).startswith(f"Matrix login with MATRIX_PASSWORD refused for {user.user_id} (M_FORBIDDEN")
