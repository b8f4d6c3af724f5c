"""Matrix with several instances on one PostgreSQL: exactly one syncs; another takes over when it stops."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.bot.test_matrix import RunningBot, family, matrix_bot, person  # noqa: F401  (fixtures)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_one_instance_syncs_and_another_takes_over_within_30_seconds(
        matrix_bot, family, synapse, tmp_path, codes):  # noqa: F811
    if matrix_bot.app.db.dialect.name != "postgresql":
        pytest.skip("several instances share PostgreSQL; SQLite serves one")
    standby = RunningBot(matrix_bot.app, matrix_bot.user)  # a second instance, the same data folder
    await standby.start()
    try:
        assert standby.channel is not None and not standby.channel.transport.active  # it waits
        ayse = await person(family, synapse, tmp_path, "ayse")
        room = await ayse.direct_chat(matrix_bot.user.user_id)
        assert "Code" in await ayse.next_text(room)  # the first instance answers

        await matrix_bot.stop()
        stopped = time.monotonic()
        await ayse.say(room, codes["Ayşe"])
        assert "Ayşe" in await ayse.next_text(room, timeout=40)  # the standby took over
        assert time.monotonic() - stopped < 30 and standby.channel.transport.active
    finally:
        await standby.stop()
        await asyncio.sleep(0)
