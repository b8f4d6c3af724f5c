"""The Matrix channel against a real Synapse on 127.0.0.1, with a matrix-nio client playing the family.

One homeserver for the whole test session; every test registers a fresh bot account and family
members (about 30 ms each), so tests do not see each other's rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import vodozemac
from nio import AsyncClient, AsyncClientConfig
from nio.api import Api
from nio.responses import RoomSendResponse
from sqlalchemy.exc import OperationalError

from bot.app import App
from bot.channels.base import OutgoingMessage, RecipientGone, RetryLater, TemporaryFailure
from bot.channels.matrix import MatrixChannel, MatrixTransport, keycap_number, strip_reply_fallback
from bot.outbox import Dispatcher
from conversations.messages import Attachment, Choice, Incoming
from tests.conftest import with_settings
from tests.support.synapse import MatrixPerson, Synapse, User, free_port

# The bot's sync task and the test share one event loop: fixtures run in the session loop.
pytestmark = pytest.mark.asyncio(loop_scope="session")

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@dataclass
class RunningBot:
    """The Matrix channel with outbox delivery, as `wegbegleiter run` has it, and a way to restart it."""

    app: App
    user: User
    seen: list[Incoming] = field(default_factory=list)
    database_outages: int = 0  # the next turns fail as if the database were away
    channel: MatrixChannel | None = None
    _stop: asyncio.Event | None = None
    _delivery: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.channel = MatrixChannel(self.app)
        dispatcher = Dispatcher(self.app.sessions, self.app.services.clock, {"matrix": self.channel.transport})
        self.channel.dispatcher = dispatcher
        await self.channel.start()
        self._stop = asyncio.Event()
        self._delivery = asyncio.create_task(dispatcher.run(self._stop, poll=0.1))

    async def stop(self) -> None:
        assert self.channel and self._stop and self._delivery
        self._stop.set()
        await self._delivery
        await self.channel.stop()

    async def synced(self) -> None:
        assert self.channel
        await asyncio.wait_for(self.channel.synced.wait(), 40)


@pytest.fixture
async def matrix_bot(app: App, synapse: Synapse) -> AsyncIterator[RunningBot]:
    user = synapse.register("wegbegleiter")
    bot_app = with_settings(app, matrix_homeserver=synapse.url, matrix_user_id=user.user_id,
                            matrix_password=user.password)
    running = RunningBot(bot_app, user)
    handle = bot_app.engine.handle

    def recording(incoming: Incoming):  # type: ignore[no-untyped-def]
        if running.database_outages:
            running.database_outages -= 1
            raise OperationalError("INSERT INTO processed_event", {}, Exception("server closed the connection"))
        running.seen.append(incoming)
        return handle(incoming)

    bot_app.engine.handle = recording  # type: ignore[method-assign]
    await running.start()
    yield running
    with contextlib.suppress(Exception):
        await running.stop()


@pytest.fixture
async def family(synapse: Synapse, tmp_path: Path) -> AsyncIterator[list[MatrixPerson]]:
    """Up to three family members' Matrix apps, started on demand via ``person()``."""
    people: list[MatrixPerson] = []
    yield people
    for person in people:
        await person.stop()


async def person(family: list[MatrixPerson], synapse: Synapse, tmp_path: Path, name: str) -> MatrixPerson:
    someone = MatrixPerson(synapse, synapse.register(name), tmp_path / f"store-{name}")
    await someone.start()
    family.append(someone)
    return someone


def numbered(text: str) -> list[str]:
    return [line.strip().split(". ", 1)[1] for line in text.splitlines() if line.startswith("  ") and ". " in line]


# --- the family's view --------------------------------------------------------------------------------------
async def test_encrypted_direct_chat_onboarding_in_german_with_reaction_and_my_data(
        matrix_bot, family, synapse, tmp_path, codes):
    ayse = await person(family, synapse, tmp_path, "ayse")
    room = await ayse.direct_chat(matrix_bot.user.user_id)  # as Element does: is_direct, encrypted
    assert "Code" in await ayse.next_text(room)
    assert ayse.client.rooms[room].encrypted

    await ayse.say(room, codes["Ayşe"])
    question = await ayse.next_text(room)  # the turn's replies as one message: the welcome and the question
    assert "Ayşe" in question and question.index("Ayşe") < question.index("Sprache")
    assert "1. Deutsch" in question and "English" in question
    question_event = ayse.received[room][-1]

    await ayse.react(room, question_event.event_id, "1️⃣")  # Deutsch, picked by reacting
    notice = await ayse.until(room, "Bevor es losgeht")
    await ayse.react(room, question_event.event_id, "3️⃣")  # an old question: its choices are used up
    notice = await ayse.until(room, "Dieser Knopf gilt nicht mehr")
    assert "Bevor es losgeht" in notice  # and the open question again, below it in the same message
    await ayse.say(room, str(numbered(notice).index("Ich bin einverstanden") + 1))
    linked = await ayse.until(room, "verbunden")
    assert linked.startswith("Danke! Dieser Chat ist jetzt verbunden.")  # and the menu, its numbers last
    assert "\n\nWas möchten Sie tun?\n  1. Hilfe und Kontakt\n" in linked and linked.endswith("Notfall-Hilfe")

    await ayse.say(room, "!meine_daten")  # commands with ! work as with /
    await ayse.until(room, "meine-daten.json")
    file_event = ayse.received[room][-1]
    assert hasattr(file_event, "key"), "in an encrypted room the file is uploaded encrypted"
    export = json.loads(await ayse.fetch(file_event))
    assert export["name"] == "Ayşe Yılmaz"


async def test_plain_room_in_english_numbers_typed_and_a_photo_received(matrix_bot, family, synapse, tmp_path, codes):
    murat = await person(family, synapse, tmp_path, "murat")
    room = await murat.direct_chat(matrix_bot.user.user_id, encrypted=False)
    await murat.next_text(room)
    await murat.say(room, codes["Murat"])
    question = await murat.until(room, "1. Deutsch")
    await murat.say(room, str(numbered(question).index("English") + 1))  # a typed number picks the option
    notice = await murat.until(room, "Before we start")
    await murat.say(room, str(numbered(notice).index("I agree") + 1))
    assert "What would you like to do?" in await murat.until(room, "now linked")  # one message, the menu last

    await murat.send_file(room, PNG, "photo.png", "image/png", msgtype="m.image")
    await murat.until(room, "Thank you for the file")
    assert matrix_bot.seen[-1].attachments == (Attachment("photo.png", "image/png", PNG),)


async def test_an_encrypted_voice_note_arrives_decrypted(matrix_bot, family, synapse, tmp_path):
    emre = await person(family, synapse, tmp_path, "emre")
    room = await emre.direct_chat(matrix_bot.user.user_id)
    await emre.next_text(room)
    voice = b"OggS" + bytes(range(256)) * 4
    await emre.send_file(room, voice, "voice.ogg", "audio/ogg", msgtype="m.audio")
    await emre.next_text(room)
    assert matrix_bot.seen[-1].attachments == (Attachment("voice.ogg", "audio/ogg", voice),)


async def test_a_group_room_is_refused_politely_and_left(matrix_bot, family, synapse, tmp_path):
    ayse = await person(family, synapse, tmp_path, "ayse")
    murat = synapse.register("murat")
    room = await ayse.direct_chat(matrix_bot.user.user_id, also_invite=(murat.user_id,))
    refusal = await ayse.next_text(room)
    assert "direkten Chats" in refusal and "direct chats" in refusal
    await ayse.wait_for(lambda: room in ayse.left)
    assert not [i for i in matrix_bot.seen if i.address == room], "nothing reached the conversations"


async def test_a_restart_in_the_middle_of_onboarding_resumes_and_answers_nothing_twice(
        matrix_bot, family, synapse, tmp_path, codes):
    olga = await person(family, synapse, tmp_path, "olga")
    room = await olga.direct_chat(matrix_bot.user.user_id)
    await olga.next_text(room)
    await olga.say(room, codes["Olga"])
    question = await olga.until(room, "1. Deutsch")

    await matrix_bot.stop()
    await olga.say(room, str(numbered(question).index("English") + 1))  # written while the bot is away
    await matrix_bot.start()

    notice = await olga.until(room, "Before we start")
    await olga.say(room, str(numbered(notice).index("I agree") + 1))
    assert "What would you like to do?" in await olga.until(room, "now linked")
    await asyncio.sleep(0.5)
    bodies = [e.body for e in olga.received[room]]
    # the greeting; hello with the language question; the notice; linked with the menu (a turn's replies
    # are one message)
    assert len(bodies) == len(set(bodies)) == 4, bodies


async def test_a_message_that_arrives_while_the_database_is_away_is_answered_later(
        matrix_bot, family, synapse, tmp_path):
    emre = await person(family, synapse, tmp_path, "emre")
    room = await emre.direct_chat(matrix_bot.user.user_id)
    await emre.next_text(room)
    matrix_bot.database_outages = 1
    await emre.say(room, "hallo")
    assert "Code" in await emre.next_text(room)  # the sync was tried again from the stored token
    assert [i.text for i in matrix_bot.seen if i.address == room] == ["", "hallo"]


async def test_messages_written_in_the_same_moment_come_in_one_sync_each_answered_once(
        matrix_bot, family, synapse, tmp_path):
    lena, jonas, mia = [await person(family, synapse, tmp_path, name) for name in ("lena", "jonas", "mia")]
    rooms = [await someone.direct_chat(matrix_bot.user.user_id, encrypted=False) for someone in (lena, jonas, mia)]
    for someone, room in zip((lena, jonas, mia), rooms, strict=True):
        await someone.next_text(room)
    channel = matrix_bot.channel
    channel.busy_sync_pause = 3.0  # (wide, so that a slow machine still writes inside it)
    syncs, sync = [0], channel.client.sync

    async def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        syncs[0] += 1
        return await sync(*args, **kwargs)

    channel.client.sync = counted  # type: ignore[method-assign]
    seen_in: dict[str, int] = {}
    handle = channel.app.engine.handle

    def noting_the_sync(incoming: Incoming):  # type: ignore[no-untyped-def]
        seen_in[incoming.address] = syncs[0]
        return handle(incoming)

    channel.app.engine.handle = noting_the_sync  # type: ignore[method-assign]
    await lena.say(rooms[0], "hallo")
    await lena.next_text(rooms[0])  # answered at once; the bot pauses before its next sync
    await jonas.say(rooms[1], "hallo")
    await asyncio.sleep(0.5)  # (without the pause, Jonas's message alone would have ended the bot's next sync)
    await mia.say(rooms[2], "hallo")
    answers = await asyncio.gather(jonas.next_text(rooms[1]), mia.next_text(rooms[2]))
    assert all("nicht verwenden" in answer for answer in answers)  # each answered
    assert seen_in[rooms[1]] == seen_in[rooms[2]] > seen_in[rooms[0]], "the two came in one sync after a pause"
    await asyncio.sleep(0.5)
    assert [len(someone.received[room]) for someone, room in zip((lena, jonas, mia), rooms, strict=True)] == [2, 2, 2]

    channel.busy_sync_pause = 600.0
    await lena.say(rooms[0], "noch da?")
    await lena.next_text(rooms[0])
    await asyncio.wait_for(matrix_bot.stop(), 20)  # a stop does not wait for the pause


async def test_undecryptable_message_gets_a_kind_answer(matrix_bot, family, synapse, tmp_path):
    ayse = await person(family, synapse, tmp_path, "ayse")
    room = await ayse.direct_chat(matrix_bot.user.user_id)
    await ayse.next_text(room)
    # A Megolm session whose key never reaches the bot (as when one-time keys ran out).
    session = vodozemac.GroupSession()
    content = {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": ayse.client.olm.account.identity_keys["curve25519"],
               "device_id": ayse.client.device_id, "session_id": session.session_id,
               "ciphertext": session.encrypt(json.dumps(
                   {"type": "m.room.message", "room_id": room,
                    "content": {"msgtype": "m.text", "body": "hallo"}}).encode()).to_base64()}
    method, path, data = Api.room_send(ayse.client.access_token, room, "m.room.encrypted", content, "lost-key")
    await ayse.client._send(RoomSendResponse, method, path, data, (room,))
    assert "konnte Ihre letzte Nachricht nicht lesen" in await ayse.next_text(room)


async def test_when_all_one_time_keys_are_claimed_the_fallback_key_keeps_new_chats_readable(
        matrix_bot, family, synapse, tmp_path):
    stranger = synapse.register("stranger")
    bot_device = matrix_bot.channel.client.device_id
    claim = {"one_time_keys": {matrix_bot.user.user_id: {bot_device: "signed_curve25519"}}}
    for _attempt in range(200):  # many new senders at once
        answer = synapse._request("POST", "/_matrix/client/v3/keys/claim", claim, token=stranger.access_token)
        (key,) = answer["one_time_keys"][matrix_bot.user.user_id][bot_device].values()
        if key.get("fallback"):
            break
    assert key.get("fallback"), "a claim after the last one-time key gets the fallback key"

    leyla = await person(family, synapse, tmp_path, "leyla")
    room = await leyla.direct_chat(matrix_bot.user.user_id)
    await leyla.next_text(room)
    await leyla.say(room, "hallo")
    assert "nicht verwenden" in await leyla.next_text(room)  # read and answered: not undecryptable


async def test_a_message_whose_key_comes_late_is_answered_when_the_key_arrives(matrix_bot, family, synapse, tmp_path):
    ayse = await person(family, synapse, tmp_path, "ayse")
    room = await ayse.direct_chat(matrix_bot.user.user_id)
    await ayse.next_text(room)
    held, send = [], ayse.client._send

    async def holding_keys_back(response_class, method, path, data=None, response_data=None, **kwargs):  # type: ignore[no-untyped-def]
        if "/sendToDevice/" in path:  # the room key for the bot is late (a slow phone, a flaky network)
            held.append((response_class, method, path, data, response_data))
            raise ConnectionError("held back")
        return await send(response_class, method, path, data, response_data, **kwargs)

    ayse.client._send = holding_keys_back  # type: ignore[method-assign]
    await ayse.say(room, "hallo")
    ayse.client._send = send  # type: ignore[method-assign]
    assert "konnte Ihre letzte Nachricht nicht lesen" in await ayse.next_text(room)
    for request in held:
        await send(*request)
    assert "nicht verwenden" in await ayse.next_text(room)  # "hallo" was read and answered after all


# --- delivery outcomes ------------------------------------------------------------------------------------
async def test_when_the_person_leaves_the_bot_leaves_and_delivery_stops(matrix_bot, family, synapse, tmp_path):
    emre = await person(family, synapse, tmp_path, "emre")
    room = await emre.direct_chat(matrix_bot.user.user_id, encrypted=False)
    await emre.next_text(room)
    await emre.client.room_leave(room)
    await matrix_bot.synced()
    with pytest.raises(RecipientGone):
        await matrix_bot.channel.transport.send(OutgoingMessage(id=900_100, channel="matrix", address=room, text="x"))


async def test_the_rate_limit_of_the_homeserver_becomes_retry_later(synapse):
    admin, bot = synapse.register("admin", admin=True), synapse.register("bot")
    client = AsyncClient(synapse.url, bot.user_id, config=AsyncClientConfig(max_limit_exceeded=0))
    client.restore_login(bot.user_id, bot.device_id, bot.access_token)
    room = synapse.create_room(admin, invite=[bot.user_id])
    await client.join(room)
    await client.sync(timeout=0)
    synapse.override_ratelimit(admin, bot.user_id, per_second=1, burst=1)
    transport = MatrixTransport(client, lambda *args: None)
    with pytest.raises(RetryLater) as limited:
        for number in range(1, 6):
            await transport.send(OutgoingMessage(id=number, channel="matrix", address=room, text="x"))
    assert 0 < limited.value.seconds <= 2
    await client.close()


async def test_same_outbox_message_twice_is_one_matrix_event_and_its_choices_still_work(
        matrix_bot, family, synapse, tmp_path):
    emre = await person(family, synapse, tmp_path, "emre")
    room = await emre.direct_chat(matrix_bot.user.user_id)
    await emre.next_text(room)
    message = OutgoingMessage(id=777_001, channel="matrix", address=room, text="Erinnerung",
                              choices=[Choice("Ja", "reminder:yes"), Choice("Nein", "reminder:no")])
    transport = matrix_bot.channel.transport
    sent = []
    for _ in range(2):  # the second time e.g. after a lease ran out mid-send
        sent.append(await transport.send(message))
        with matrix_bot.app.sessions.begin() as session:  # as the outbox marks it sent
            transport.record_sent(session, message, sent[-1])
    assert sent[0] == sent[1]

    await emre.react(room, sent[0], "2️⃣")
    for _ in range(200):
        if any(incoming.payload == "reminder:no" for incoming in matrix_bot.seen):
            break
        await asyncio.sleep(0.05)
    assert any(incoming.payload == "reminder:no" for incoming in matrix_bot.seen)


async def test_network_trouble_is_a_temporary_failure(app, synapse, tmp_path):
    client = AsyncClient(f"http://127.0.0.1:{free_port()}", "@bot:x", config=AsyncClientConfig(max_timeouts=0))
    client.access_token = "nothing"
    client.rooms["!room"] = type("Room", (), {"room_id": "!room", "encrypted": False})()
    transport = MatrixTransport(client, lambda *args: None)
    with pytest.raises(TemporaryFailure):
        await transport.send(OutgoingMessage(id=1, channel="matrix", address="!room", text="x"))
    await client.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_matrix_is_served_only_when_configured(app):
    from bot.runner import configured_channels

    assert "matrix" not in [c.name for c in configured_channels(app)]
    configured = with_settings(app, matrix_homeserver="http://127.0.0.1:9", matrix_user_id="@bot:x",
                               matrix_password="secret")
    assert "matrix" in [c.name for c in configured_channels(configured)]


@pytest.mark.asyncio(loop_scope="session")
async def test_keycaps_and_reply_fallbacks():
    assert [keycap_number(k) for k in ("1️⃣", "2⃣", "🔟", "👍")] == [1, 2, 10, None]
    reply = {"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}
    assert strip_reply_fallback("> <@bot:x> Welche Sprache?\n> 1. Deutsch\n\n2", reply) == "2"
    assert strip_reply_fallback("> quoted\n\nno reply", {}) == "> quoted\n\nno reply"
