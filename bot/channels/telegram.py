"""The Telegram channel: python-telegram-bot (v22) in, the outbox out.

Receiving: every update of a private chat becomes one :class:`Incoming` (event id ``u<update_id>``,
so a redelivered update is answered once) and goes to the engine in a worker thread. Updates of one
chat are handled in order, different chats side by side. Group chats are refused politely: no case
data is ever written where others can read it. An update is confirmed to Telegram only after its turn
committed (:mod:`bot.channels.telegram_updates`): a crash loses no input.

A button press is two Bot API calls and one database transaction: the engine redeems the button's
single-use token in the turn itself (:mod:`conversations.buttons`), and the turn's first reply is shown in
the pressed message's place (``editMessageText``) when that message is the newest in the chat and a
question of the conversation; otherwise the pressed message keeps its words and loses its buttons, and
the reply comes below. Then ``answerCallbackQuery`` stops the spinner.

Sending: :class:`TelegramTransport` carries outbox messages; choices become inline keyboards whose
buttons hold only an opaque, single-use token (``telegram_callback``, written with the outbox message).
The outbox paces delivery to Telegram's limits and retries; this module only maps PTB's errors to the
outbox's outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, exists, func, select
from sqlalchemy.orm import Session, joinedload, sessionmaker
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InputFile,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder

from bot import runner
from bot.app import App
from bot.channels import telegram_logging
from bot.channels.base import (
    ChannelFailed,
    Limits,
    OutgoingMessage,
    PermanentFailure,
    RecipientGone,
    RetryLater,
    TemporaryFailure,
    Unreachable,
)
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_logging import brief
from bot.channels.telegram_updates import Poller, WebhookServer
from conversations import authz, buttons
from conversations.address import translator_for
from conversations.authz import Principal
from conversations.clock import Clock
from conversations.context import Services
from conversations.i18n import available_languages, translator
from conversations.messages import Attachment, Incoming
from conversations.registry import REGISTRY, PeriodicTask
from conversations.settings import Settings
from storage.locks import Leadership
from storage.models import (
    ChatIdentity,
    ConversationState,
    OutboxAttachment,
    OutboxMessage,
    OutboxStatus,
    TelegramCallback,
    TelegramChatMenu,
)

if TYPE_CHECKING:
    from bot.outbox import Dispatcher
    from conversations.engine import TurnResult

log = logging.getLogger(__name__)
os.environ.setdefault("PTB_TIMEDELTA", "true")  # PTB's future behaviour (retry_after as timedelta), no warnings

CHANNEL = "telegram"
TEXT_LIMIT = 4096  # Telegram's limit for one message
CAPTION_LIMIT = 1024
MAX_DOWNLOAD = 10 * 1024 * 1024  # files people send us; Telegram's Bot API serves at most 20 MB
PHOTO_TYPES = ("image/png", "image/jpeg")  # sent as a photo (shown inline); everything else as a document
TURN_CONCURRENCY = 8  # chats handled side by side (the engine runs in worker threads)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
FAILING_FOR = 45.0  # seconds after a failed poll during which the channel counts as not connected
telegram_logging.install()  # a 502 page from a proxy: one WARNING line, not a traceback
COMMAND_WORD = re.compile(r"[a-z0-9_]{1,32}")
TELEGRAM_LANGUAGE = re.compile(r"[a-z]{2}")  # language_code of setMyCommands: ISO 639-1
CALLBACK_MEMORY = timedelta(days=60)  # button tokens older than this are forgotten
# Seconds before a Bot API call is given up. Longer than Telegram's slow answers: a send given up while
# Telegram still carries it out is sent again, and the person reads it twice.
SEND_TIMEOUT = 30.0
# Connections kept open for sending: the turns answering presses side by side and the outbox's sends
# (Telegram lets 30 messages a second through; round trips of 0.1 s need a few connections, not dozens).
SEND_CONNECTIONS = 16


# --- what a send needs from the database -----------------------------------------------------
# Built once: they run in every claim of the outbox (bot.outbox.ChannelSender), for all its messages at once.
WRITTEN_TOKENS = (
    select(TelegramCallback.outbox_id, TelegramCallback.token)
    .where(TelegramCallback.outbox_id.in_(bindparam("ids", expanding=True)))
    .order_by(TelegramCallback.outbox_id, TelegramCallback.position)
)
NEWEST_SENT = (  # per chat, the newest message delivered (ix_outbox_chat), and whether it carried files
    select(OutboxMessage.address, OutboxMessage.external_id, OutboxMessage.kind, OutboxMessage.text,
           exists().where(OutboxAttachment.outbox_id == OutboxMessage.id).label("files"))
    .where(OutboxMessage.id.in_(
        select(func.max(OutboxMessage.id))
        .where(OutboxMessage.channel == CHANNEL, OutboxMessage.address.in_(bindparam("addresses", expanding=True)),
               OutboxMessage.status == OutboxStatus.SENT)
        .group_by(OutboxMessage.address)))
)


@dataclass(frozen=True)
class SendPlan:
    """What the database says about one message before it is sent."""

    tokens: list[str]  # written with it, in the order of its choices (fewer: written by an older version)
    in_place: bool  # it may take the pressed message's place (:func:`send_plans`)


def send_plans(session: Session, messages: Sequence[OutgoingMessage]) -> dict[int, SendPlan]:
    """The tokens of these messages' buttons, and which of them may take the place of the pressed message:
    only a question the person just answered, nothing they may want to read again. The pressed message
    is the newest one in the chat (anything newer, and the reply would appear above it), it was a reply
    of the conversation itself (a reminder or a notice keeps its words on screen), one message without
    files, and so is the new reply. A message waiting in the outbox holds back the later ones of its chat,
    so what is true when it is claimed is still true when it goes out."""
    tokens: dict[int, list[str]] = {message.id: [] for message in messages}
    with_choices = [message.id for message in messages if message.choices]
    if with_choices:
        for outbox_id, token in session.execute(WRITTEN_TOKENS, {"ids": with_choices}):
            tokens[outbox_id].append(token)
    replacing = [message for message in messages if message.replaces and not message.attachments
                 and len(split_text(message.text)) == 1]
    newest = {row.address: row for row in session.execute(
        NEWEST_SENT, {"addresses": sorted({message.address for message in replacing})})} if replacing else {}
    plans = {}
    for message in messages:
        pressed = newest.get(message.address) if message in replacing else None
        in_place = pressed is not None and pressed.external_id == message.replaces and pressed.kind == "reply" \
            and not pressed.files and len(split_text(pressed.text)) == 1
        plans[message.id] = SendPlan(tokens[message.id], in_place)
    return plans


def keyboard_tokens(sessions: sessionmaker[Session], clock: Clock, message: OutgoingMessage,
                    written: list[str]) -> list[str]:
    """The tokens of this outbox message's buttons, the same ones again when it is re-sent. A message
    written before tokens came with it gets them here."""
    if len(written) == len(message.choices):
        return written
    with sessions.begin() as session:
        session.execute(delete(TelegramCallback).where(TelegramCallback.outbox_id == message.id))
        tokens = [buttons.new_token() for _ in message.choices]
        now = clock.now()
        session.add_all(
            TelegramCallback(token=token, address=message.address, outbox_id=message.id, position=i,
                             payload=choice.payload, created_at=now)
            for i, (token, choice) in enumerate(zip(tokens, message.choices, strict=True))
        )
        return tokens


def forget_old_tokens(sessions: sessionmaker[Session], clock: Clock) -> None:
    with sessions.begin() as session:
        session.execute(delete(TelegramCallback).where(TelegramCallback.created_at < clock.now() - CALLBACK_MEMORY))


def record_blocked(sessions: sessionmaker[Session], clock: Clock, address: str, blocked: bool) -> None:
    """The person blocked (or unblocked) the bot: no reminder is sent into the void meanwhile."""
    with sessions.begin() as session:
        identity = session.scalar(select(ChatIdentity).where(ChatIdentity.channel == CHANNEL,
                                                             ChatIdentity.address == address))
        if identity is not None:
            identity.blocked_at = clock.now() if blocked else None
            log.info("chat %s %s the bot", address, "blocked" if blocked else "unblocked")


def forget_old_buttons(services: Services) -> None:
    forget_old_tokens(services.sessions, services.clock)


def chat_language(session: Session, address: str, settings: Settings) -> str:
    identity = session.scalar(select(ChatIdentity).where(ChatIdentity.channel == CHANNEL,
                                                         ChatIdentity.address == address))
    person = identity and (identity.member or identity.staff)
    if person is not None:
        return person.language
    state_language = session.scalar(select(ConversationState.language).where(
        ConversationState.channel == CHANNEL, ConversationState.address == address))
    return state_language or settings.default_language


# --- command menus ----------------------------------------------------------------------------
def menu_commands(lang: str, principal: Principal) -> list[BotCommand]:
    """The commands a chat may use (:func:`authz.may_use_command`), in its language."""
    tr = translator(lang)
    commands: dict[str, BotCommand] = {}
    for command in REGISTRY.commands.values():
        word = command.telegram_word(lang)  # Telegram accepts only [a-z0-9_]: "yardim" for "yardım"
        if authz.may_use_command(principal, command) and COMMAND_WORD.fullmatch(word) and word not in commands:
            commands[word] = BotCommand(word, tr.gettext(command.description)[:256])
    return list(commands.values())[:100]


# After every turn: whether the chat is linked and which menu it has, in one statement built once.
CHAT_MENU_STATE = select(
    select(ChatIdentity.id).where(ChatIdentity.channel == CHANNEL, ChatIdentity.address == bindparam("address"))
    .scalar_subquery(),
    select(TelegramChatMenu.menu).where(TelegramChatMenu.address == bindparam("address")).scalar_subquery(),
)


def chat_menu(session: Session, address: str, settings: Settings) -> tuple[str, list[BotCommand]] | None:
    """The menu this chat should have, if it differs from the one set last (None: nothing to do)."""
    identity_id, known = session.execute(CHAT_MENU_STATE, {"address": address}).one()
    if identity_id is None:
        return ("", []) if known is not None else None  # unlinked: back to the general menu
    identity = session.get(ChatIdentity, identity_id, options=[joinedload(ChatIdentity.member),
                                                               joinedload(ChatIdentity.staff)])
    assert identity is not None  # (read in this transaction a moment ago)
    person = identity.member or identity.staff
    assert person is not None
    commands = menu_commands(person.language, Principal(member=identity.member, staff=identity.staff))
    key = hashlib.sha256(json.dumps([person.language, [c.to_dict() for c in commands]]).encode()).hexdigest()[:40]
    return None if known == key else (key, commands)


def remember_menu(sessions: sessionmaker[Session], clock: Clock, address: str, key: str) -> None:
    with sessions.begin() as session:
        row = session.get(TelegramChatMenu, address)
        if not key:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(TelegramChatMenu(address=address, menu=key, updated_at=clock.now()))
        else:
            row.menu, row.updated_at = key, clock.now()


# --- sending ----------------------------------------------------------------------------------
def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Telegram takes at most 4096 characters per message: cut at line ends where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text.strip():
        parts.append(text)
    return parts


Markup = dict[str, list[list[dict[str, str]]]]  # reply_markup with an inline keyboard, as the Bot API takes it


def keyboard(labels: Sequence[str], tokens: Sequence[str]) -> Markup:
    """Short labels two to a row, longer ones alone, so nothing is cut off on a phone. As the Bot API's
    JSON: built for every reply with buttons, PTB's objects cost more to make and to turn back into JSON
    than the rest of the call."""
    buttons = [{"text": label[:64], "callback_data": token} for label, token in zip(labels, tokens, strict=True)]
    if all(len(label) <= 14 for label in labels):
        return {"inline_keyboard": [buttons[i:i + 2] for i in range(0, len(buttons), 2)]}
    return {"inline_keyboard": [[button] for button in buttons]}


KEYBOARD_RETRY_SECONDS = (0.5, 2.0, 8.0)  # waits before the 2nd, 3rd and 4th try to remove a pressed keyboard


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns that retry_after will become a timedelta
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramTransport:
    channel = CHANNEL
    # Telegram: 30 messages/s overall, counted in every second as they arrive, and 1/s per chat (short
    # bursts tolerated). The outbox paces to the 30 as Telegram counts them (bot/ratelimit.py
    # ArrivalWindow); bench/telegram_burst.py measures it.
    limits = Limits(per_second=30, per_chat_per_second=1, per_chat_burst=3)

    def __init__(self, bot: Bot, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.in_flight = 0  # sends under way: the channel closes the connection only when none is left
        self.plans: dict[int, SendPlan] = {}  # outbox id → read in its claim (prepare_claimed), until sent

    async def send(self, message: OutgoingMessage) -> str | None:
        self.in_flight += 1
        try:
            return await self._send(message)
        except RetryAfter as exc:
            raise RetryLater(retry_seconds(exc), str(exc)) from exc
        except Forbidden as exc:  # blocked by the user, or the account was deleted
            raise RecipientGone(str(exc)) from exc
        except BadRequest as exc:  # before NetworkError: PTB derives BadRequest from it
            if "chat not found" in str(exc).lower():
                raise RecipientGone(str(exc)) from exc
            raise PermanentFailure(str(exc)) from exc
        except (TimedOut, NetworkError) as exc:  # maybe delivered: the outbox sends again rather than lose it
            raise TemporaryFailure(brief(exc)) from exc
        except TelegramError as exc:
            raise TemporaryFailure(str(exc)) from exc
        finally:
            self.in_flight -= 1

    def prepare_claimed(self, session: Session, messages: Sequence[OutgoingMessage]) -> None:
        """Called by the outbox in the transaction that claimed these messages: what their sends need
        from the database is read there, for all of them at once, not in a session per send."""
        self.plans.update(send_plans(session, [m for m in messages if m.choices or m.replaces]))

    async def _send(self, message: OutgoingMessage) -> str | None:
        chat_id = int(message.address)
        markup = None
        in_place = False
        if message.choices or message.replaces:
            plan = self.plans.pop(message.id, None) or await asyncio.to_thread(self._plan, message)
            in_place = plan.in_place
            if message.choices:
                tokens = plan.tokens if len(plan.tokens) == len(message.choices) else await asyncio.to_thread(
                    keyboard_tokens, self.sessions, self.clock, message, plan.tokens)
                markup = keyboard([c.label for c in message.choices], tokens)
        if message.replaces:
            if in_place and await self._edit_in_place(chat_id, int(message.replaces), message.text, markup):
                return message.replaces
            await self._take_buttons_off(chat_id, int(message.replaces))
        files = message.attachments
        if len(files) == 1 and len(message.text) <= CAPTION_LIMIT:
            sent = await self._send_file(chat_id, files[0], message.text or None, markup)
            return str(sent["message_id"])
        chunks = split_text(message.text)
        sent_last: dict[str, Any] | None = None
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1 and not files
            sent_last = await self.call("sendMessage", chat_id=chat_id, text=chunk,
                                         reply_markup=markup if last else None)
        for i, attachment in enumerate(files):
            sent_last = await self._send_file(chat_id, attachment, None, markup if i == len(files) - 1 else None)
        return str(sent_last["message_id"]) if sent_last else None

    async def call(self, method: str, **params: object) -> Any:
        """A Bot API method with plain JSON both ways (parameters that are None are left out, as PTB
        does): a reply needs only the message's id from the answer, and PTB's typed methods made objects
        of the arguments and of the answer that cost a fifth of a send's CPU."""
        return await self.bot.do_api_request(
            method, api_kwargs={name: value for name, value in params.items() if value is not None})

    def _plan(self, message: OutgoingMessage) -> SendPlan:
        """For a message sent without the outbox's claim (which plans its messages: prepare_claimed)."""
        with self.sessions() as session:
            return send_plans(session, [message])[message.id]

    async def _edit_in_place(self, chat_id: int, message_id: int, text: str,
                             markup: Markup | None) -> bool:
        """The pressed question becomes the reply: one call instead of taking its buttons off and sending."""
        try:
            await self.call("editMessageText", chat_id=chat_id, message_id=message_id, text=text,
                             reply_markup=markup)
            return True
        except BadRequest as exc:  # (a network failure goes up: the outbox tries the edit again)
            if "not modified" in str(exc).lower():
                return True
            log.info("could not edit message %s in place (%s); sending the reply as a new message", message_id,
                     exc)
            return False

    async def _take_buttons_off(self, chat_id: int, message_id: int) -> None:
        """The answered question stays, without its buttons (they cannot be pressed twice anyway). A message
        that cannot be edited (gone, too old) keeps them; a failure of the network (5xx, 429, no answer)
        fails this send, and the outbox tries both again, the reply not sent yet."""
        try:
            await self.call("editMessageReplyMarkup", chat_id=chat_id, message_id=message_id)  # none: removed
        except BadRequest as exc:
            log.info("the buttons of message %s stay on screen: %s", message_id, exc)

    async def _send_file(self, chat_id: int, attachment: Attachment, caption: str | None,
                         markup: Markup | None) -> dict[str, Any]:
        upload = InputFile(attachment.data, filename=attachment.filename)
        if attachment.mime_type in PHOTO_TYPES:
            return await self.call("sendPhoto", chat_id=chat_id, photo=upload, caption=caption, reply_markup=markup)
        return await self.call("sendDocument", chat_id=chat_id, document=upload, caption=caption,
                                reply_markup=markup)


# --- receiving --------------------------------------------------------------------------------
class ChatQueues:
    """Updates of one chat one after the other, in arrival order; different chats side by side.

    :meth:`put` returns a future that becomes True when the update was handled (its turn committed),
    False when handling failed: then it is not confirmed to Telegram and comes again."""

    def __init__(self, handle: Callable[[Update], Awaitable[None]], concurrency: int = TURN_CONCURRENCY) -> None:
        self.handle = handle
        self.queues: dict[int, deque[tuple[Update, asyncio.Future[bool]]]] = {}
        self.workers: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(concurrency)

    def put(self, chat_id: int, update: Update) -> asyncio.Future[bool]:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        queue = self.queues.get(chat_id)
        if queue is not None:
            queue.append((update, done))
            return done
        self.queues[chat_id] = deque([(update, done)])
        worker = asyncio.create_task(self._work(chat_id), name=f"telegram-chat-{chat_id}")
        self.workers.add(worker)
        worker.add_done_callback(self.workers.discard)
        return done

    async def _work(self, chat_id: int) -> None:
        queue = self.queues[chat_id]
        try:
            while queue:
                update, done = queue[0]
                ok = False
                async with self.slots:
                    try:
                        await self.handle(update)
                        ok = True
                    except Exception:  # one bad update must not stop the chat's later ones
                        log.exception("telegram update %s failed", update.update_id)
                queue.popleft()
                if not done.done():
                    done.set_result(ok)
        finally:
            for _update, done in self.queues.pop(chat_id, ()):
                if not done.done():
                    done.set_result(False)

    async def drain(self) -> None:
        while self.workers:
            await asyncio.gather(*list(self.workers), return_exceptions=True)


class TooLarge(Exception):
    pass


class TelegramChannel:
    name = CHANNEL

    def __init__(self, app: App, *, read_timeout: float = SEND_TIMEOUT, poll_timeout: int = 10,
                 limits: Limits | None = None) -> None:
        self.app = app
        self.settings = app.settings
        self.clock = app.services.clock
        self.poll_timeout = poll_timeout
        self.dispatcher: Dispatcher | None = None  # set by the runner: poked after each turn
        builder = ApplicationBuilder().token(self.settings.telegram_bot_token)
        if self.settings.telegram_api_base_url:
            base = self.settings.telegram_api_base_url.rstrip("/")
            builder = builder.base_url(base).base_file_url(re.sub(r"/bot$", "/file/bot", base))
        # Long timeouts: a send that Telegram answers slowly must not be given up and sent a second time.
        # getUpdates has a connection of its own: a long poll never holds up a send. With all connections
        # busy, a send waits for one (it has not left yet: nothing is sent twice) rather than fail.
        builder = builder.request(AiohttpRequest(connections=SEND_CONNECTIONS, read_timeout=read_timeout,
                                                 pool_timeout=read_timeout)) \
            .get_updates_request(AiohttpRequest(connections=1)).updater(None)  # (the poller sets its timeouts)
        self.application: Application = builder.build()  # type: ignore[type-arg]
        self.transport = TelegramTransport(self.application.bot, app.sessions, self.clock)
        if limits is not None:  # tests that are not about pacing need not wait for it
            self.transport.limits = limits
        self.turns = ChatQueues(self._handle)
        self.keyboard_removals: set[asyncio.Task[None]] = set()
        self.refused_groups: set[int] = set()
        self.username = self.settings.telegram_bot_username
        self.intake: Poller | WebhookServer | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect; :class:`Unreachable` while the Bot API does not answer (the runner tries again)."""
        try:
            await self._start()
        except InvalidToken as exc:
            # Not the exception's text: PTB puts the token itself into it.
            raise ChannelFailed("Telegram refused TELEGRAM_BOT_TOKEN: check the token from @BotFather") from exc
        except BadRequest as exc:
            raise ChannelFailed(f"Telegram refused to start: {exc}") from exc
        except (NetworkError, OSError) as exc:  # TimedOut too
            raise Unreachable(f"Telegram Bot API: {brief(exc)}") from exc

    @property
    def connected(self) -> bool:
        """Started, and no poll failed lately (for /readyz)."""
        if not self.application.running:
            return False
        failed = self.poll_failed_at
        return failed is None or time.monotonic() - failed > FAILING_FOR

    def describe(self) -> dict[str, str]:
        """For the start line: which bot, and how updates arrive."""
        return {"bot": f"@{self.username}", "mode": "webhook" if self.settings.telegram_webhook_url else "polling"}

    async def _start(self) -> None:
        await self.application.initialize()  # getMe: the token, and whether the Bot API answers at all
        self.username = self.application.bot.username or self.username
        await self.set_general_menus()
        if not self.application.running:
            await self.application.start()
        if self.intake is not None:
            return  # started before (the runner tries again after a failed start)
        bot = self.application.bot
        if self.settings.telegram_webhook_url:
            webhook = WebhookServer(bot, self.accept, url=self.settings.telegram_webhook_url,
                                    listen=self.settings.telegram_webhook_listen, secret=self.webhook_secret(),
                                    allowed_updates=ALLOWED_UPDATES)
            await webhook.start()
            self.intake = webhook
        else:  # exactly one instance polls; the others wait and take over when it stops
            poller = Poller(bot, self.accept, Leadership(self.app.db, f"telegram-poller:{bot.id}"),
                            timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES)
            poller.start()
            self.intake = poller

    @property
    def poll_failed_at(self) -> float | None:
        """Monotonic time of the last failed poll (None: none failed, or webhook mode)."""
        return self.intake.failed_at if isinstance(self.intake, Poller) else None

    def _due_or_sending(self) -> bool:
        now = self.clock.now()
        with self.app.sessions() as session:
            return session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.channel == CHANNEL,
                (OutboxMessage.status == OutboxStatus.SENDING)
                | ((OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now)),
            ).limit(1)) is not None

    def webhook_secret(self) -> str:
        """Derived from the token, so every instance behind the webhook URL knows it."""
        return hashlib.sha256(b"webhook:" + self.settings.telegram_bot_token.encode()).hexdigest()

    async def stop(self) -> None:
        """Stop taking updates, finish the turns under way, deliver what they wrote, then close."""
        if isinstance(self.intake, WebhookServer):
            await self.intake.stop()
        elif isinstance(self.intake, Poller):
            await asyncio.gather(self.intake.stop(), self.turns.drain())
        await self.turns.drain()
        for removal in list(self.keyboard_removals):  # a retry still waiting is given up: the process ends
            removal.cancel()
        await asyncio.gather(*self.keyboard_removals, return_exceptions=True)
        if self.dispatcher is not None and CHANNEL in self.dispatcher.senders:
            # The replies of the last turns still go out over this connection (the runner's own last
            # delivery round may be sending some of them right now: wait for those too).
            sender = self.dispatcher.senders[CHANNEL]
            for _round in range(100):  # at most about 5 s: a stale lease of a dead process is not waited for
                if not await sender.deliver_due():
                    if not self.transport.in_flight and not await asyncio.to_thread(self._due_or_sending):
                        break
                    await asyncio.sleep(0.05)
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    # --- updates ------------------------------------------------------------------------------
    def accept(self, update: Update) -> asyncio.Future[bool]:
        """Queue an update in its chat; the future is True once it is handled (may be confirmed)."""
        chat = update.effective_chat
        if chat is not None and chat.type == "private" and (
                update.message is not None or update.callback_query is not None
                or update.my_chat_member is not None):
            return self.turns.put(chat.id, update)
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if chat is None or chat.type == "private":
            done.set_result(True)  # nothing for us in it
            return done

        async def refuse() -> None:
            try:
                await self._refuse_group(update)
            finally:
                done.set_result(True)

        task = asyncio.create_task(refuse())
        self.turns.workers.add(task)
        task.add_done_callback(self.turns.workers.discard)
        return done

    async def _handle(self, update: Update) -> None:
        if update.callback_query is not None:
            await self._on_press(update)
        elif update.message is not None:
            await self._on_message(update, update.message)
        elif update.my_chat_member is not None:
            blocked = update.my_chat_member.new_chat_member.status == "kicked"
            await asyncio.to_thread(record_blocked, self.app.sessions, self.clock, str(update.my_chat_member.chat.id),
                                    blocked)

    async def _on_press(self, update: Update) -> None:
        """The button's token is redeemed in the turn itself (one transaction: conversations.buttons); the
        spinner on the button stops when the turn has committed, with a word if the button was used up."""
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        address = str(update.effective_chat.id)
        pressed = query.message if isinstance(query.message, Message) else None
        result = await self._turn(Incoming(
            channel=CHANNEL, address=address, event_id=f"u{update.update_id}", received_at=self.clock.now(),
            button=query.data or "", pressed_message=str(pressed.message_id) if pressed else None,
            sender_name=query.from_user.first_name if query.from_user else None,
            language=query.from_user.language_code if query.from_user else None))
        if result.refused:
            language = await asyncio.to_thread(self._chat_language, address)
            text = translator(language).gettext(
                "This button was already used or is no longer valid. Nothing was changed.")
            with contextlib.suppress(TelegramError):
                await self._answer(query.id, text[:200])
            return
        with contextlib.suppress(TelegramError):
            await self._answer(query.id)  # stops the spinner on the button
        # Old buttons must not stay on screen (nor be pressed twice). The turn's first reply takes them off
        # when it is sent, or takes the pressed message's place (TelegramTransport); without a reply, here.
        # Not for a press handed in again (after a restart): its reply may show its own buttons there now.
        if pressed is not None and not result.replies and not result.duplicate:
            removal = asyncio.create_task(self._remove_keyboard(pressed), name="telegram-keyboard")
            self.keyboard_removals.add(removal)
            removal.add_done_callback(self.keyboard_removals.discard)

    async def _answer(self, query_id: str, text: str | None = None) -> None:
        """answerCallbackQuery, as plain JSON (:meth:`TelegramTransport.call`: no objects built for a yes)."""
        await self.transport.call("answerCallbackQuery", callback_query_id=query_id, text=text)

    def _chat_language(self, address: str) -> str:
        with self.app.sessions() as session:
            return chat_language(session, address, self.settings)

    async def _remove_keyboard(self, message: Message) -> None:
        """Take the buttons off a message that was answered. A failed edit (no network, 429, a 5xx) is tried
        again a few times, alongside the turn; one that cannot succeed (the message is gone or too old,
        the chat blocked us, nothing left to remove) is left alone. The button's token is spent either way."""
        for wait in (*KEYBOARD_RETRY_SECONDS, None):
            try:
                await message.edit_reply_markup(reply_markup=None)
                return
            except RetryAfter as exc:
                delay = max(retry_seconds(exc), wait or 0.0)
            except (BadRequest, Forbidden):  # before NetworkError: PTB derives BadRequest from it
                return
            except TelegramError:
                delay = wait or 0.0
            if wait is None:
                log.warning("the keyboard of message %s stayed after %d tries", message.message_id,
                            len(KEYBOARD_RETRY_SECONDS) + 1)
                return
            await asyncio.sleep(delay)

    async def _on_message(self, update: Update, message: Message) -> None:
        address = str(message.chat.id)
        try:
            attachments = await self._attachments(message)
        except TooLarge:
            await self._tell(address, update, lambda _: _("This file is too large for me (at most {size} MB). "
                                                          "Please send a smaller one.").format(
                size=MAX_DOWNLOAD // (1024 * 1024)))
            return
        text = message.text or message.caption or (message.sticker.emoji if message.sticker else None) or ""
        if not text and not attachments:
            await self._tell(address, update, lambda _: _(
                "I can only read text, voice messages, photos and documents."))
            return
        await self._turn(Incoming(channel=CHANNEL, address=address, event_id=f"u{update.update_id}",
                                  received_at=self.clock.now(), text=text, attachments=tuple(attachments),
                                  sender_name=message.from_user.first_name if message.from_user else None,
                                  language=message.from_user.language_code if message.from_user else None))

    async def _attachments(self, message: Message) -> list[Attachment]:
        found: list[tuple[str, str, str, int | None]] = []  # file id, name, type, size
        if message.photo:
            fitting = [p for p in message.photo if (p.file_size or 0) <= MAX_DOWNLOAD]
            if not fitting:
                raise TooLarge
            best = max(fitting, key=lambda p: p.width * p.height)
            found.append((best.file_id, "photo.jpg", "image/jpeg", best.file_size))
        if message.voice:
            found.append((message.voice.file_id, "voice.ogg", message.voice.mime_type or "audio/ogg",
                          message.voice.file_size))
        if message.audio:
            found.append((message.audio.file_id, message.audio.file_name or "audio",
                          message.audio.mime_type or "audio/mpeg", message.audio.file_size))
        if message.document:
            found.append((message.document.file_id, message.document.file_name or "document",
                          message.document.mime_type or "application/octet-stream", message.document.file_size))
        attachments = []
        for file_id, filename, mime_type, size in found:
            if size is not None and size > MAX_DOWNLOAD:
                raise TooLarge
            file = await self.application.bot.get_file(file_id)
            data = bytes(await file.download_as_bytearray())
            if len(data) > MAX_DOWNLOAD:
                raise TooLarge
            attachments.append(Attachment(filename, mime_type, data))
        return attachments

    async def _turn(self, incoming: Incoming) -> TurnResult:
        result, menu = await asyncio.to_thread(self._handle_in_thread, incoming)
        if self.dispatcher is not None and result.replies:
            self.dispatcher.poke()  # the replies are in the outbox: send them now, not at the next poll
        if menu is not None:
            await self._set_chat_menu(incoming.address, *menu)
        return result

    def _handle_in_thread(self, incoming: Incoming) -> tuple[TurnResult, tuple[str, list[BotCommand]] | None]:
        result = self.app.engine.handle(incoming)
        if result.duplicate or result.refused:
            return result, None
        with self.app.sessions() as session:
            return result, chat_menu(session, incoming.address, self.settings)

    async def _tell(self, address: str, update: Update, render: Callable[[Callable[[str], str]], str]) -> None:
        """A notice from the channel itself, through the outbox, in the chat's language, once per update."""
        await asyncio.to_thread(self._tell_in_thread, address, f"u{update.update_id}", render)
        if self.dispatcher is not None:
            self.dispatcher.poke()

    def _tell_in_thread(self, address: str, event_id: str, render: Callable[[Callable[[str], str]], str]) -> None:
        from conversations.messages import Reply
        from conversations.outbox import enqueue

        with self.app.sessions.begin() as session:
            language = chat_language(session, address, self.settings)
            identity = session.scalar(select(ChatIdentity).where(ChatIdentity.channel == CHANNEL,
                                                                 ChatIdentity.address == address))
            person = identity and (identity.member or identity.staff)
            tr = translator_for(person, self.clock.now(), language)  # du for a young person
            enqueue(session, channel=CHANNEL, address=address, reply=Reply(render(tr.gettext)),
                    now=self.clock.now(), language=language, identity_id=identity.id if identity else None,
                    kind="notice", dedupe_key=f"telegram:{event_id}:notice")

    async def _refuse_group(self, update: Update) -> None:
        """No case data where others read along: say so once, then leave the group."""
        chat = update.effective_chat
        assert chat is not None
        if chat.id in self.refused_groups or chat.type == "channel":
            return
        self.refused_groups.add(chat.id)
        member = update.my_chat_member
        if member is not None and member.new_chat_member.status in ("left", "kicked"):
            return  # we were removed: nothing to say
        user = update.effective_user
        _ = translator(user.language_code if user else None).gettext
        text = _("I only talk in private chats, so that nothing about a family can be read by others. "
                 "Please write to me directly: @{bot}").format(bot=self.username)
        with contextlib.suppress(TelegramError):
            await self.application.bot.send_message(chat.id, text)
            await self.application.bot.leave_chat(chat.id)

    # --- command menus ------------------------------------------------------------------------
    async def set_general_menus(self) -> None:
        """What a chat that is not linked yet sees, per language; linked chats get their own."""
        scope = BotCommandScopeAllPrivateChats()
        try:
            await self.application.bot.set_my_commands(
                menu_commands(self.settings.default_language, Principal()), scope=scope)
            for lang in filter(TELEGRAM_LANGUAGE.fullmatch, available_languages()):  # not de@leicht
                await self.application.bot.set_my_commands(menu_commands(lang, Principal()), scope=scope,
                                                           language_code=lang)
        except TelegramError:
            log.warning("could not set Telegram's command menus", exc_info=True)

    async def _set_chat_menu(self, address: str, key: str, commands: list[BotCommand]) -> None:
        scope = BotCommandScopeChat(int(address))
        try:
            if commands:
                await self.application.bot.set_my_commands(commands, scope=scope)
            else:
                await self.application.bot.delete_my_commands(scope=scope)
        except TelegramError:
            log.info("could not set the command menu of chat %s; trying after the next turn", address)
            return
        await asyncio.to_thread(remember_menu, self.app.sessions, self.clock, address, key)


def channel_for(app: App) -> TelegramChannel | None:
    return TelegramChannel(app) if app.settings.telegram_bot_token else None


runner.CHANNEL_FACTORIES.append(channel_for)
REGISTRY.tasks["telegram-buttons"] = PeriodicTask("telegram-buttons", 24 * 3600, forget_old_buttons)
