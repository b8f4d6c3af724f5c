"""Telegram end to end: python-telegram-bot against a local Bot API stand-in, the real engine and outbox.

Each test plays a person on a phone: messages and button presses go into the stand-in, the bot
long-polls them, answers through the outbox, and the test reads what the phone would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import cache

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.base import (
    Limits,
    OutgoingMessage,
    PermanentFailure,
    RecipientGone,
    RetryLater,
    TemporaryFailure,
)
from bot.channels.telegram import TelegramChannel
from bot.outbox import Dispatcher
from conversations.i18n import translator
from conversations.messages import Attachment, Reply
from conversations.outbox import enqueue, notify
from storage.models import ChatIdentity, ConversationState, FamilyMember, OutboxMessage, OutboxStatus
from tests.conftest import with_settings
from tests.support.telegram_standin import BotApiStandIn

TOKEN = "4242:TEST-TOKEN"
UNPACED = Limits(per_second=1000, per_chat_per_second=100, per_chat_burst=100)  # pacing: see bench/
AYSE, MURAT, STRANGER = 5001, 5002, 5003


@cache
def shared_standin() -> BotApiStandIn:
    return BotApiStandIn().start()  # once per test session


@pytest.fixture
def standin() -> BotApiStandIn:
    server = shared_standin()
    server.reset()
    return server


@pytest.fixture
def tg_app(app: App, standin: BotApiStandIn) -> App:
    return with_settings(app, telegram_bot_token=TOKEN, telegram_api_base_url=standin.base_url)


@contextlib.asynccontextmanager
async def serving(app: App, read_timeout: float = 3) -> AsyncIterator[TelegramChannel]:
    """The channel and outbox delivery as `wegbegleiter run` wires them."""
    channel = TelegramChannel(app, poll_timeout=1, read_timeout=read_timeout, limits=UNPACED)
    dispatcher = Dispatcher(app.sessions, app.services.clock, {channel.name: channel.transport})
    channel.dispatcher = dispatcher
    stop = asyncio.Event()
    await channel.start()
    delivery = asyncio.create_task(dispatcher.run(stop, poll=0.05))
    try:
        yield channel
    finally:
        stop.set()
        await channel.stop()
        await delivery


async def link(standin: BotApiStandIn, chat: int, code: str, language: str = "Deutsch") -> None:
    start = len(standin.messages(chat))
    standin.say(chat, f"/start {code}")
    await standin.wait_messages(chat, start + 2)
    standin.press(chat, language)
    await standin.wait_messages(chat, start + 3)
    standin.press(chat, "Ich bin einverstanden" if language == "Deutsch" else "I agree")
    await standin.wait_messages(chat, start + 5)


async def test_a_mother_links_her_chat_through_a_deep_link_in_german(tg_app, standin, codes):
    async with serving(tg_app):
        standin.say(AYSE, "/start")
        first = await standin.wait_messages(AYSE, 1)
        assert "Code aus Ihrem Einladungsbrief" in first[0]

        standin.say(AYSE, f"/start {codes['Ayşe']}")  # what t.me/WegbegleiterBot?start=CODE sends
        texts = await standin.wait_messages(AYSE, 3)
        turkish = translator("tr")  # the language her Fachkraft noted on the invitation
        assert turkish.gettext("Hello {name}, welcome!").format(name="Ayşe") in texts[1]
        language_question = standin.messages(AYSE)[2]
        assert turkish.gettext("Which language should I write in?") in language_question.text
        assert ("Deutsch" in [label for label, _ in language_question.buttons]
                and "English" in [label for label, _ in language_question.buttons])
        assert all(len(data.encode()) <= 64 and "lang" not in data for _, data in language_question.buttons)

        standin.press(AYSE, "Deutsch")
        notice = (await standin.wait_messages(AYSE, 4))[3]
        assert "Bis Sie zustimmen, wird nichts gespeichert." in notice
        assert language_question.buttons == []  # the keyboard is gone: it cannot be pressed twice
        assert standin.callback_answers[-1].get("text") is None  # the spinner stopped, nothing to say

        notice_shown = standin.messages(AYSE)[3]
        standin.press(AYSE, "Ich bin einverstanden")
        texts = await standin.wait_messages(AYSE, 6)
        assert "Dieser Chat ist jetzt verbunden" in texts[4] and "Was möchten Sie tun?" in texts[5]
        # What she agreed to stays readable (without its buttons); the answer came below it.
        linked = standin.messages(AYSE)[4]
        assert standin.by_id[notice_shown.message_id].text == notice_shown.text and notice_shown.buttons == []
        assert linked.message_id > notice_shown.message_id

        standin.say(AYSE, "/hilfe")
        help_text = (await standin.wait_messages(AYSE, 7))[6]
        assert "/meine_daten" in help_text and "0391 555 0100" in help_text
        # her own command menu, in German, with what a linked family member may do
        await standin.wait_for(lambda: "meine_daten" in standin.menu(chat_id=AYSE))
        assert "hilfe" in standin.menu(chat_id=AYSE)
    # the menu for chats that are not linked yet, per language
    assert "hilfe" in standin.menu(language="de") and "help" in standin.menu(language="en")
    assert "meine_daten" not in standin.menu(language="de")


async def test_the_answer_to_a_pressed_question_takes_its_place_and_a_failed_edit_is_tried_again(
        tg_app, standin, codes):
    clock = tg_app.services.clock
    async with serving(tg_app):
        standin.say(MURAT, codes["Murat"])
        await standin.wait_messages(MURAT, 2)
        question = standin.messages(MURAT)[1]
        standin.fail_next("editMessageText", 502)  # Telegram has a bad moment
        standin.press(MURAT, "English")

        def waiting_to_retry() -> bool:
            with tg_app.sessions() as session:
                return session.scalar(select(OutboxMessage.id).where(
                    OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.last_error.is_not(None))) is not None

        await standin.wait_for(waiting_to_retry)
        clock.advance(timedelta(seconds=1))  # the outbox's first retry is due
        texts = await standin.wait_messages(MURAT, 3)
        assert "Nothing is recorded until you agree." in texts[2]  # the consent question, in English
        shown = standin.messages(MURAT)[2]
        assert shown.message_id == question.message_id  # in the answered question's place, not below it
        assert question.buttons == [] and shown.buttons  # the language buttons are gone, the new ones there
        assert len(standin.calls_of("editMessageText")) == 2 and not standin.calls_of("sendMessage")[2:]
        assert len(standin.calls_of("answerCallbackQuery")) == 1  # two Bot API calls for the press


async def test_an_older_question_answered_later_keeps_its_words_and_loses_its_buttons(tg_app, standin, codes):
    async with serving(tg_app):
        await link(standin, MURAT, codes["Murat"], "English")
        menu = standin.messages(MURAT)[-1]
        assert menu.buttons
        standin.say(MURAT, "/help")  # something newer comes below the menu
        help_text = (await standin.wait_for(lambda: [s for s in standin.messages(MURAT)
                                                     if s.text.startswith("I can help you with these commands")]))[0]
        await asyncio.sleep(0.3)  # everything the help brings has arrived
        count, edits = len(standin.messages(MURAT)), len(standin.calls_of("editMessageText"))
        removals = len(standin.calls_of("editMessageReplyMarkup"))
        standin.fail_next("editMessageReplyMarkup", 400, description="Bad Request: message to edit not found")
        standin.press(MURAT, menu.buttons[0][0], data=menu.buttons[0][1], message_id=menu.message_id)
        await standin.wait_messages(MURAT, count + 1)  # the answer comes as a new message, at the end
        answer = standin.messages(MURAT)[count]
        assert answer.method == "sendMessage" and answer.message_id > help_text.message_id
        # A message that cannot be edited (gone, too old) is not tried again: the reply goes out regardless.
        assert len(standin.calls_of("editMessageReplyMarkup")) == removals + 1
        assert len(standin.calls_of("editMessageText")) == edits
        answers = len(standin.callback_answers)
        standin.press(MURAT, menu.buttons[0][0], data=menu.buttons[0][1], message_id=menu.message_id)
        await standin.wait_for(lambda: len(standin.callback_answers) > answers)
        assert "no longer valid" in standin.callback_answers[-1].get("text", "")  # used up all the same


async def test_when_the_buttons_of_an_older_question_cannot_come_off_yet_the_answer_waits_and_comes_once(
        tg_app, standin, codes):
    clock = tg_app.services.clock
    async with serving(tg_app):
        await link(standin, MURAT, codes["Murat"], "English")
        menu = standin.messages(MURAT)[-1]
        standin.say(MURAT, "/help")  # something newer comes below the menu
        await standin.wait_for(lambda: [s for s in standin.messages(MURAT)
                                        if s.text.startswith("I can help you with these commands")])
        await asyncio.sleep(0.3)  # everything the help brings has arrived
        count, removals = len(standin.messages(MURAT)), len(standin.calls_of("editMessageReplyMarkup"))
        standin.fail_next("editMessageReplyMarkup", 502)  # Telegram has a bad moment
        standin.press(MURAT, menu.buttons[0][0], data=menu.buttons[0][1], message_id=menu.message_id)

        def waiting_to_retry() -> bool:
            with tg_app.sessions() as session:
                return session.scalar(select(OutboxMessage.id).where(
                    OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.last_error.is_not(None))) is not None

        await standin.wait_for(waiting_to_retry)
        assert len(standin.messages(MURAT)) == count  # no answer yet below buttons that still work
        clock.advance(timedelta(seconds=1))  # the outbox's first retry is due
        await standin.wait_for(lambda: len(standin.messages(MURAT)) > count)
        await asyncio.sleep(0.3)  # nothing more comes
    answer = [m.text for m in standin.messages(MURAT)[count:]]  # the help again, and the menu below it
    assert answer[0].startswith("I can help you with these commands") and len(answer) == len(set(answer)) == 2
    assert len(standin.calls_of("editMessageReplyMarkup")) == removals + 2  # tried again, and then it worked
    assert menu.buttons == []  # the older question kept its words and lost its buttons


async def test_a_father_types_his_code_and_continues_in_english(tg_app, standin, codes):
    async with serving(tg_app):
        standin.say(MURAT, codes["Murat"])
        await standin.wait_messages(MURAT, 2)
        standin.press(MURAT, "English")
        assert "Nothing is recorded until you agree." in (await standin.wait_messages(MURAT, 3))[2]
        standin.press(MURAT, "I agree")
        texts = await standin.wait_messages(MURAT, 5)
        assert "This chat is now linked. You can write /help at any time." in texts[3]
        standin.say(MURAT, "/help")
        assert "/my_data" in (await standin.wait_messages(MURAT, 6))[5]
        await standin.wait_for(lambda: "my_data" in standin.menu(chat_id=MURAT))


async def test_staff_and_families_each_get_the_command_menu_of_their_role(tg_app, standin, codes):
    jana = 5010
    async with serving(tg_app):
        await link(standin, AYSE, codes["Ayşe"])
        await link(standin, jana, codes["Jana"])
        await standin.wait_for(lambda: standin.menu(chat_id=AYSE) and standin.menu(chat_id=jana))
    family, staff = standin.menu(chat_id=AYSE), standin.menu(chat_id=jana)
    assert "beschwerde" in family and "termin" not in family
    assert "termin" in staff and "beschwerde" not in staff and "hilfe" in staff


async def test_replayed_forged_and_foreign_buttons_are_refused_kindly_and_change_nothing(tg_app, standin, codes):
    async with serving(tg_app):
        standin.say(AYSE, codes["Ayşe"])
        await standin.wait_messages(AYSE, 2)
        question = standin.messages(AYSE)[1]
        german, english = (dict(question.buttons)[label] for label in ("Deutsch", "English"))
        standin.press(AYSE, "Deutsch")
        await standin.wait_messages(AYSE, 3)

        for data, chat in ((german, AYSE), (english, AYSE), ("forged-token-123", AYSE)):
            standin.press(chat, "", data=data, message_id=question.message_id)
        standin.say(MURAT, codes["Murat"])
        await standin.wait_messages(MURAT, 2)
        standin.press(MURAT, "", data=standin.messages(AYSE)[2].buttons[0][1])  # Ayşe's "I agree", in his chat

        await standin.wait_for(lambda: len(standin.callback_answers) == 5)
        refusals = [a.get("text", "") for a in standin.callback_answers[1:]]
        assert all("nicht mehr gültig" in text and "nichts geändert" in text for text in refusals)
        await asyncio.sleep(0.3)  # nothing else may arrive
        assert len(standin.messages(AYSE)) == 3 and len(standin.messages(MURAT)) == 2
    with tg_app.sessions() as session:
        assert session.scalar(select(ChatIdentity)) is None  # nobody got linked by a foreign button
        state = session.scalar(select(ConversationState).where(ConversationState.address == str(AYSE)))
        assert state.language == "de"  # the replayed "English" changed nothing


async def test_a_redelivered_update_is_answered_once(tg_app, standin, codes):
    async with serving(tg_app):
        update_id = standin.say(AYSE, codes["Murat"])  # Murat reads German
        await standin.wait_messages(AYSE, 2)
        standin.redeliver(update_id)
        standin.say(AYSE, "/hilfe")  # handled after the redelivered one: same chat, in order
        await standin.wait_for(lambda: any("Befehlen" in t for t in standin.texts(AYSE)))
        await asyncio.sleep(0.2)
    texts = standin.texts(AYSE)
    assert sum("herzlich willkommen" in t for t in texts) == 1
    assert "Befehlen" in texts[2]  # nothing came between the first answer and the help


async def test_429_is_honoured_and_the_message_goes_out_after_the_wait(tg_app, standin, clock):
    standin.fail_next("sendMessage", 429, retry_after=1)
    async with serving(tg_app):
        standin.say(AYSE, "hallo")
        await standin.wait_for(lambda: len(standin.calls_of("sendMessage")) == 1)
        await asyncio.sleep(0.2)
        assert standin.messages(AYSE) == []  # waiting, as Telegram asked
        clock.advance(timedelta(seconds=1))
        texts = await standin.wait_messages(AYSE, 1, timeout=5)
    assert "Code aus Ihrem Einladungsbrief" in texts[0]
    assert len(standin.calls_of("sendMessage")) == 2


async def test_a_person_who_blocked_the_bot_is_recorded_and_not_retried(tg_app, standin, codes, clock):
    async with serving(tg_app) as channel:
        await link(standin, AYSE, codes["Ayşe"])
        standin.block(AYSE)
        with tg_app.sessions.begin() as session:
            ayse = session.scalar(select(FamilyMember).where(FamilyMember.first_name == "Ayşe"))
            notify(session, ayse, lambda tr: Reply("Erinnerung: morgen 10 Uhr"), now=clock.now(), kind="reminder")
        channel.dispatcher.poke()
        await standin.wait_for(lambda: any(p["chat_id"] == str(AYSE) and "Erinnerung" in p["text"]
                                           for p in standin.calls_of("sendMessage")))
        await asyncio.sleep(0.2)
        clock.advance(timedelta(hours=1))
        await asyncio.sleep(0.2)
    with tg_app.sessions() as session:
        reminder = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        assert reminder.status == OutboxStatus.BLOCKED and reminder.attempts == 1
        assert session.scalar(select(ChatIdentity.blocked_at)) is not None
    assert sum("Erinnerung" in p["text"] for p in standin.calls_of("sendMessage")) == 1


async def test_blocking_the_bot_is_noticed_at_once_and_reminders_wait(tg_app, standin, codes, clock):
    async with serving(tg_app):
        await link(standin, AYSE, codes["Ayşe"])
        standin.block_bot(AYSE)
        await standin.wait_for(lambda: _blocked(tg_app))
        with tg_app.sessions.begin() as session:
            ayse = session.scalar(select(FamilyMember).where(FamilyMember.first_name == "Ayşe"))
            assert notify(session, ayse, lambda tr: Reply("Erinnerung"), now=clock.now(), kind="reminder",
                          email=False) == []  # nothing is queued for a chat that blocked the bot


def _blocked(app: App) -> bool:
    with app.sessions() as session:
        return session.scalar(select(ChatIdentity.blocked_at)) is not None


def test_the_channel_is_served_only_with_a_token(app, tg_app):
    from bot.runner import configured_channels

    assert [c.name for c in configured_channels(tg_app)].count("telegram") == 1
    assert "telegram" not in [c.name for c in configured_channels(app)]


async def test_my_data_arrives_as_a_document_and_a_chart_as_a_photo(tg_app, standin, codes, clock):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    async with serving(tg_app) as channel:
        await link(standin, AYSE, codes["Ayşe"])
        standin.say(AYSE, "/meine_daten")
        await standin.wait_for(lambda: any(s.method == "sendDocument" for s in standin.messages(AYSE)))
        with tg_app.sessions.begin() as session:
            enqueue(session, channel="telegram", address=str(AYSE), now=clock.now(), language="de",
                    reply=Reply("Ihre Stunden im März", attachments=[Attachment("stunden.png", "image/png", png)]))
        channel.dispatcher.poke()
        await standin.wait_for(lambda: any(s.method == "sendPhoto" for s in standin.messages(AYSE)))
    document = next(s for s in standin.messages(AYSE) if s.method == "sendDocument")
    assert document.filename == "meine-daten.json" and json.loads(document.data)
    photo = next(s for s in standin.messages(AYSE) if s.method == "sendPhoto")
    assert photo.data == png and photo.text == "Ihre Stunden im März"


async def test_a_photo_where_no_flow_takes_files_gets_a_kind_answer(tg_app, standin, codes):
    async with serving(tg_app):
        await link(standin, AYSE, codes["Ayşe"])
        count = len(standin.messages(AYSE))
        standin.send_photo(AYSE, b"\xff\xd8\xff\xe0 a photo of the fridge")
        texts = await standin.wait_messages(AYSE, count + 1)
    assert "Danke für die Datei" in texts[count]
    assert standin.calls_of("getFile")  # it was fetched, within the size limit, and handed to the engine


async def test_a_file_over_the_size_limit_is_not_fetched_and_the_person_is_told(tg_app, standin, codes):
    async with serving(tg_app):
        await link(standin, AYSE, codes["Ayşe"])
        count = len(standin.messages(AYSE))
        standin.send_document(AYSE, "scan.pdf", "application/pdf", b"%PDF-1.4", file_size=30 * 1024 * 1024)
        texts = await standin.wait_messages(AYSE, count + 1)
    assert "zu groß" in texts[count] and "10 MB" in texts[count]
    assert standin.calls_of("getFile") == []


async def test_a_send_that_times_out_is_sent_again_rather_than_lost(tg_app, standin, clock):
    standin.fail_next("sendMessage", 0, hang=1.0)  # the request hangs past the client's timeout
    async with serving(tg_app, read_timeout=0.3):
        standin.say(AYSE, "hallo")
        await standin.wait_for(lambda: len(standin.calls_of("sendMessage")) == 1)
        await asyncio.sleep(1.2)
        clock.advance(timedelta(seconds=3))  # the outbox's backoff
        texts = await standin.wait_messages(AYSE, 2)
    # Telegram may have carried out the hung request: a duplicate, never a lost message
    assert all("Code aus Ihrem Einladungsbrief" in text for text in texts)
    with tg_app.sessions() as session:
        assert session.scalar(select(OutboxMessage.status)) == OutboxStatus.SENT


async def test_a_group_chat_is_refused_politely_and_left(tg_app, standin, codes):
    group = -100777
    async with serving(tg_app):
        standin.say(group, codes["Ayşe"], chat_type="group")
        texts = await standin.wait_messages(group, 1)
        await standin.wait_for(lambda: standin.calls_of("leaveChat"))
    assert "privaten Chats" in texts[0]
    with tg_app.sessions() as session:
        assert session.scalar(select(ConversationState)) is None  # nothing about the group was stored


async def test_webhook_mode_serves_the_same_conversation(app, standin, codes):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hooked = with_settings(app, telegram_bot_token=TOKEN, telegram_api_base_url=standin.base_url,
                           telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
                           telegram_webhook_listen=f"127.0.0.1:{port}")
    async with serving(hooked):
        assert standin.webhook is not None and standin.webhook[1]  # registered with a secret
        standin.say(AYSE, codes["Ayşe"])
        texts = await standin.wait_messages(AYSE, 2)
    assert "Merhaba Ayşe" in texts[0]  # greeted in the language noted on her invitation


async def test_stopping_finishes_the_turn_under_way_and_delivers_its_replies(tg_app, standin, codes):
    from bot.runner import serve

    channel = TelegramChannel(tg_app, poll_timeout=1, limits=UNPACED)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(tg_app, [channel], stop))
    await standin.wait_for(lambda: standin.calls_of("getUpdates"))
    standin.say(AYSE, codes["Ayşe"])
    await standin.wait_for(lambda: channel.turns.queues)  # the turn is under way
    stop.set()  # what SIGTERM does
    await asyncio.wait_for(running, 20)
    texts = standin.texts(AYSE)
    assert len(texts) == 2 and "Merhaba Ayşe" in texts[0]


@pytest.mark.parametrize(("status", "outcome"), [
    (429, RetryLater), (502, TemporaryFailure), (500, TemporaryFailure), (403, RecipientGone),
    (400, PermanentFailure),
])
async def test_telegram_errors_become_the_outbox_outcomes(tg_app, standin, status, outcome):
    channel = TelegramChannel(tg_app, read_timeout=3)
    await channel.application.bot.initialize()
    standin.fail_next("sendMessage", status, retry_after=3)
    try:
        with pytest.raises(outcome) as raised:
            await channel.transport.send(OutgoingMessage(id=1, channel="telegram", address=str(AYSE), text="Hallo"))
    finally:
        await channel.application.bot.shutdown()
    if outcome is RetryLater:
        assert raised.value.seconds == 3


async def test_before_a_code_the_greeting_is_in_the_language_telegram_reports(tg_app, standin):
    async with serving(tg_app):
        standin.say(AYSE, "/start", language_code="tr")
        first = await standin.wait_messages(AYSE, 1)
        assert translator("tr").gettext("Hello! I am Wegbegleiter, the chat helper for your family help. "
                                        "Please send me the code from your invitation letter, for example "
                                        "ABCD-EFG-HJK.") in first[0]


async def test_a_question_written_before_buttons_came_with_it_gets_them_when_it_is_sent(tg_app, standin, codes,
                                                                                       clock):
    """An outbox row from before this version (no tokens written with it) still shows buttons that work."""
    async with serving(tg_app):
        await link(standin, AYSE, codes["Ayşe"])
        shown = len(standin.messages(AYSE))
        with tg_app.sessions.begin() as session:
            session.add(OutboxMessage(  # as an older version wrote it: the row alone, without its tokens
                channel="telegram", address=str(AYSE), kind="reply", text="Was möchten Sie tun?",
                choices=[{"label": "Hilfe", "payload": "cmd:help"}], language="de",
                next_attempt_at=clock.now(), created_at=clock.now()))
        question = await standin.wait_for(lambda: next(  # (the dispatcher polls every 50 ms)
            (m for m in standin.messages(AYSE)[shown:] if m.text == "Was möchten Sie tun?"), None))
        assert [label for label, _data in question.buttons] == ["Hilfe"]
        standin.press(AYSE, "Hilfe", data=question.buttons[0][1], message_id=question.message_id)
        # the help came: the button's payload was found
        await standin.wait_for(lambda: any("/meine_daten" in t for t in standin.texts(AYSE)[shown:]))
