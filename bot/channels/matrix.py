"""The Matrix channel: Wegbegleiter in Element and other Matrix apps, end-to-end encrypted, through matrix-nio.

Receiving: one sync loop. Every event of a sync is handed to the engine (one turn each, in order
within a room) before the sync token is stored in the database, so a restart neither misses nor
repeats anything (the engine also drops event ids it has seen). The bot's own messages are left out of
the syncs by their filter (see :meth:`MatrixChannel._sync_filter`). Sending: the outbox hands messages to
:class:`MatrixTransport`, which uses the outbox id as the Matrix transaction id, so a message sent
again after a crash is de-duplicated by the homeserver.

Who we talk to: the bot joins direct chats only. An invite is accepted from a person (not from the
bot itself) and the room is checked after joining; a room with anyone besides the member and the
bot is refused with a short message and left (no case data in group rooms), also when a third
person joins later.

Trust model for end-to-end encryption: trust on first use of the devices the homeserver lists for
a room's members (nio's ``ignore_unverified_devices``), and messages from any of their devices are
read. Who someone is, is decided by the invite code from the letter, not by device verification:
families do not verify devices with a bot, and refusing unverified devices would leave them without
answers. Encryption still keeps the content from everyone who is not in the room (including
the homeserver's database and backups); a homeserver admin who adds a device to a member's account
could read along, as with any unverified Element chat. nio pins each device's keys once seen, so a
device whose keys change is not trusted silently. The crypto store lives in
``<data_dir>/matrix-store`` (pickled with a key derived from the secret key) and the device's
access token in the database, so a restart is the same device with the same keys.

Several instances: exactly one syncs and sends (:class:`storage.locks.Leadership`, an advisory lock on
PostgreSQL); the others wait, trying every few seconds, and one takes over when it stops or dies (its
connection closes and PostgreSQL frees the lock at once). They share the data folder (a volume), since
the crypto store belongs to the device, not to a process; only the instance that syncs opens it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinError,
    KeysQueryError,
    KeysUploadError,
    KeysUploadResponse,
    LocalProtocolError,
    LoginError,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessagesError,
    RoomMessageText,
    RoomSendError,
    SendRetryError,
    SyncError,
    SyncResponse,
    UploadError,
    WhoamiError,
)
from nio.api import Api
from nio.crypto.attachments import decrypt_attachment
from nio.store import DefaultStore
from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from bot.app import App
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
from bot.channels.console import render
from bot.config import secret_key
from bot.outbox import Dispatcher
from bot.runner import CHANNEL_FACTORIES
from conversations.address import translator_for
from conversations.i18n import N_, SOURCE_LANGUAGE, translator
from conversations.messages import Attachment, Incoming, Reply
from conversations.outbox import enqueue
from storage.db import transaction
from storage.locks import LEADER_CHECK, LEADER_RETRY, Leadership
from storage.models import ChatIdentity, ConversationState
from storage.models.matrix import MatrixAccount, MatrixChoiceMessage

log = logging.getLogger(__name__)

CHANNEL = "matrix"
SYNC_TIMEOUT_MS = 30_000
# After a sync that brought people's messages, the next one starts this much later. Every sync has a fixed
# cost whatever it brings (the request, nio's parsing and checks, storing its token, the delivery round
# it starts: about 3 ms of CPU), and without a pause a busy bot paid it for each message: it was back
# asking before the next one came. With it the messages of the next quarter second come in one sync, and
# their replies go in one claim. A person does not wait for it: their next message comes later than that
# (it answers the reply); only one arriving in the same moment as another chat's waits up to this long.
BUSY_SYNC_PAUSE = 0.25
FIRST_SYNC_WAIT = 10.0  # seconds a delivery waits for the rooms after a start before it is tried again
CHOICES_KEPT = timedelta(days=60)
CHOICES_PRUNED_EVERY = timedelta(hours=1)  # old choices go in one DELETE now and then, not with every send
MAX_DOWNLOAD = 25 * 1024 * 1024  # bigger files are not fetched (a voice note is far smaller)
KEYCAPS = {f"{n}\ufe0f\u20e3": n for n in range(1, 10)} | {f"{n}\u20e3": n for n in range(1, 10)} | {"🔟": 10}
# Element quotes the message answered to ("> <@a:b> text") above a reply; the engine wants only the answer.
REPLY_FALLBACK = re.compile(r"\A(?:>[^\n]*\n)+\n", re.MULTILINE)
SYNC_FILTER = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {"timeline": {"limit": 100}, "ephemeral": {"types": []}, "account_data": {"types": []}},
}
# Run after every sync and every message with choices: built once (on SQLite, building a statement and the
# ORM's bookkeeping for it cost several times what running it does) and run on the session's connection.
SAVE_TOKEN = update(MatrixAccount).where(MatrixAccount.user_id == bindparam("account")).values(
    next_batch=bindparam("next_batch"), updated_at=bindparam("now"))
# Remembered already, if the homeserver answered a repeated send with the same event: nothing to do, and the
# sent mark written in the same transaction must not fail for it. (Text: PostgreSQL and SQLite spell this
# alike, and the dialects' own on_conflict_do_nothing() statements are compiled anew every time.)
_CHOICES = MatrixChoiceMessage.__table__.c
REMEMBER_CHOICES = text(
    "INSERT INTO matrix_choice_message (event_id, address, outbox_id, payloads, created_at) "
    "VALUES (:event_id, :address, :outbox_id, :payloads, :created_at) ON CONFLICT (event_id) DO NOTHING",
).bindparams(bindparam("payloads", type_=_CHOICES.payloads.type),
             bindparam("created_at", type_=_CHOICES.created_at.type))

GROUP_REFUSAL = N_("Hello! I only talk in direct chats between one person and me, so that nothing about "
                  "your help is seen by others. Please start a direct chat with me. I am leaving this room now.")
UNDECRYPTABLE = N_("I could not read your last message: it arrived encrypted with a key I do not have yet. "
                  "I have asked your app for the key. If I do not answer in a minute, please send it again.")


def keycap_number(key: str) -> int | None:
    """1️⃣ … 9️⃣, 🔟 → the number; anything else → None."""
    return KEYCAPS.get(key.strip())


def strip_reply_fallback(body: str, content: dict[str, Any]) -> str:
    if (content.get("m.relates_to") or {}).get("m.in_reply_to"):
        return REPLY_FALLBACK.sub("", body, count=1)
    return body


class CryptoStore(DefaultStore):
    """nio's crypto store, minus the write nio makes after every sync: it stores the rooms that became
    encrypted with that sync, and did so (an account lookup and a transaction) when there were none."""

    def save_encrypted_rooms(self, rooms: set[str]) -> None:
        if rooms:
            super().save_encrypted_rooms(rooms)


@dataclass
class Received:
    """What one room event means for the engine (text, a chosen payload, files), or nothing."""

    text: str = ""
    payload: str | None = None
    attachments: tuple[Attachment, ...] = ()


# --- delivery -------------------------------------------------------------------------------------
class MatrixTransport:
    """Outbox messages into rooms. Errors become the outbox's outcomes (see :mod:`bot.channels.base`)."""

    channel = CHANNEL
    # Synapse's default is 0.2 messages/s per user with bursts of 10; a bot account is normally exempt
    # (admin override_ratelimit). M_LIMIT_EXCEEDED is honoured either way.
    limits = Limits(per_second=20, per_chat_per_second=2, per_chat_burst=4)
    # A turn's replies ("Gut, ich schreibe ab jetzt auf Deutsch." and the menu) arrive as one message, its
    # numbers at the end: one notification, not two (bot.outbox, ChannelSender._join).
    joins_replies = True

    def __init__(self, client: AsyncClient,
                 remember_choices: Callable[[Session, str, str, int, list[str]], None]) -> None:
        self.client = client
        self.remember_choices = remember_choices
        self.closed = False  # the channel stopped: its HTTP session is closed and must not be opened again
        # Cleared by the channel at start until its first sync told nio the rooms (before it, every room
        # is unknown and would look left); a transport on a client synced by someone else is ready.
        self.ready = asyncio.Event()
        self.ready.set()
        self._querying = asyncio.Lock()
        self.active = True  # False in an instance that stands by: only the one that syncs sends

    async def send(self, message: OutgoingMessage) -> str | None:
        if self.closed:
            raise TemporaryFailure("the Matrix channel is stopping; sent after the restart")
        if not self.ready.is_set():  # a room unknown now is not a room we left: wait for the first sync
            try:
                await asyncio.wait_for(self.ready.wait(), FIRST_SYNC_WAIT)
            except TimeoutError:
                raise RetryLater(FIRST_SYNC_WAIT, "waiting for the first sync") from None
        room = self.client.rooms.get(message.address)
        if room is None:
            raise RecipientGone(f"not in room {message.address}")
        if room.encrypted:
            await self._know_devices(room)
        event_id = None
        if message.text or message.choices:
            event_id = await self._send(room.room_id, {"msgtype": "m.text", "body": render(message)},
                                        f"wb{message.id}")
        for number, attachment in enumerate(message.attachments, start=1):
            content = await self._upload(attachment, encrypted=room.encrypted)
            file_event = await self._send(room.room_id, content, f"wb{message.id}.{number}")
            event_id = event_id or file_event
        return event_id

    def record_sent(self, session: Session, message: OutgoingMessage, event_id: str | None) -> None:
        """The choices behind a sent message (a reaction "2️⃣" on it means the second), written by the
        outbox with the sent mark. The text carries the choices, and its event is the message's id."""
        if message.choices and event_id:
            self.remember_choices(session, event_id, message.address, message.id,
                                  [c.payload for c in message.choices])

    async def _know_devices(self, room: MatrixRoom) -> None:
        """Fetch the device keys of members the bot has not asked about yet (a new room's member, someone
        whose devices changed), before the room key is shared: otherwise the message is encrypted for none
        of their devices and their app shows "unable to decrypt" (a new chat's greeting, above all)."""
        olm = self.client.olm
        if olm is None:
            return
        unknown = {user for user in room.users if user not in olm.tracked_users} | (
            olm.users_for_key_query & set(room.users))
        if not unknown:
            return
        async with self._querying:
            olm.users_for_key_query.update(unknown - olm.tracked_users)
            if not self.client.should_query_keys:
                return  # asked meanwhile by the sync loop
            try:
                answer = await self.client.keys_query()
            except (ClientError, TimeoutError) as exc:
                raise TemporaryFailure(f"keys query: {exc!r}") from exc
            if isinstance(answer, KeysQueryError):
                raise TemporaryFailure(f"keys query: {answer.message}")

    async def _upload(self, attachment: Attachment, *, encrypted: bool) -> dict[str, Any]:
        try:
            answer, keys = await self.client.upload(io.BytesIO(attachment.data), attachment.mime_type,
                                                    attachment.filename, encrypt=encrypted,
                                                    filesize=len(attachment.data))
        except (ClientError, TimeoutError) as exc:
            raise TemporaryFailure(f"upload: {exc!r}") from exc
        if isinstance(answer, UploadError):
            raise self._error(answer)
        msgtype = {"image": "m.image", "audio": "m.audio"}.get(attachment.kind, "m.file")
        content: dict[str, Any] = {
            "msgtype": msgtype, "body": attachment.filename, "filename": attachment.filename,
            "info": {"mimetype": attachment.mime_type, "size": len(attachment.data)},
        }
        if keys is not None:
            content["file"] = {**keys, "url": answer.content_uri, "mimetype": attachment.mime_type}
        else:
            content["url"] = answer.content_uri
        return content

    async def _send(self, room_id: str, content: dict[str, Any], txn_id: str) -> str:
        try:
            answer = await self.client.room_send(room_id, "m.room.message", content, tx_id=txn_id,
                                                 ignore_unverified_devices=True)
        except (ClientError, TimeoutError, SendRetryError) as exc:
            raise TemporaryFailure(repr(exc)) from exc
        except LocalProtocolError as exc:  # nio knows no such room: we left it
            raise RecipientGone(str(exc)) from exc
        if isinstance(answer, RoomSendError):
            raise self._error(answer)
        return str(answer.event_id)

    @staticmethod
    def _error(answer: RoomSendError | UploadError) -> Exception:
        code = str(answer.status_code or "")
        detail = f"{code}: {answer.message}"
        if code == "M_LIMIT_EXCEEDED":
            return RetryLater((answer.retry_after_ms or 5000) / 1000, detail)
        if code in ("M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN"):
            return RecipientGone(detail) if code != "M_UNKNOWN_TOKEN" else TemporaryFailure(detail)
        if code in ("M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_INVALID_PARAM"):
            return PermanentFailure(detail)
        return TemporaryFailure(detail)


# --- the channel ----------------------------------------------------------------------------------
class MatrixChannel:
    name = CHANNEL

    def __init__(self, app: App) -> None:
        settings = app.settings
        self.app = app
        self.user_id = settings.matrix_user_id
        self.store_path = Path(settings.data_dir) / "matrix-store"
        pickle_key = hmac.new(secret_key(settings).encode(), b"matrix-store", hashlib.sha256).hexdigest()
        config = AsyncClientConfig(
            encryption_enabled=True, store_sync_tokens=False, pickle_key=pickle_key, store=CryptoStore,
            max_limit_exceeded=0, max_timeouts=0,  # the outbox and the sync loop decide about retries
            request_timeout=SYNC_TIMEOUT_MS / 1000 + 30,
        )
        self.store_path.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(settings.matrix_homeserver, self.user_id, store_path=str(self.store_path),
                                  config=config)
        self.transport = MatrixTransport(self.client, self._remember_choices)
        self.dispatcher: Dispatcher | None = None  # set by the runner: poked after turns, replies go out at once
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._refused: set[str] = set()
        self._choices_pruned_at: datetime | None = None
        self._written = 0  # events handed to the engine or answered with a notice: each may have written replies
        self._waiting_for_keys: dict[str, list[tuple[str, MegolmEvent]]] = {}  # session id → events
        self.synced = asyncio.Event()  # set after every completed sync (tests wait on it)
        self.sync_ok = False  # the last sync succeeded
        self.busy_sync_pause = BUSY_SYNC_PAUSE
        self.leadership = Leadership(app.db, f"matrix-sync:{self.user_id}")

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Log in and start syncing; :class:`Unreachable` while the homeserver does not answer. Another
        instance that syncs already: stand by, and take over when it stops."""
        self._stopping.clear()
        if await asyncio.to_thread(self.leadership.try_acquire):
            await self._start_syncing()
        else:
            log.info("another instance syncs Matrix; this one takes over when it stops")
            self.transport.active = False
            self._task = asyncio.create_task(self._wait_to_sync(), name="matrix-standby")

    async def _start_syncing(self) -> None:
        try:
            await self._login()
            if self.client.should_upload_keys:
                await self.client.keys_upload()
            await self._publish_fallback_key()
        except (ClientError, OSError, TimeoutError) as exc:
            raise Unreachable(f"Matrix homeserver {self.app.settings.matrix_homeserver}: {exc!r}") from exc
        self.transport.closed = False
        self.transport.ready.clear()
        self.transport.active = True
        self._task = asyncio.create_task(self._sync_loop(), name="matrix-sync")

    async def _wait_to_sync(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(LEADER_RETRY)
            try:
                if await asyncio.to_thread(self.leadership.try_acquire):
                    break
            except Exception as exc:
                log.warning("cannot reach the database to decide which instance syncs Matrix: %s", exc)
        log.info("taking over the Matrix sync")
        while not self._stopping.is_set():
            try:
                await self._start_syncing()
                return
            except Unreachable as exc:
                log.warning("%s; trying again", exc)
                await asyncio.sleep(5)

    @property
    def connected(self) -> bool:
        """The last sync succeeded, or another instance syncs and this one stands by (for /readyz)."""
        running = self._task is not None and not self._task.done()
        return running and (self.sync_ok or not self.transport.active)

    def describe(self) -> dict[str, str]:
        """For the start line: as whom, on which device."""
        return {"user": self.user_id, "device": str(self.client.device_id or "?")}

    async def stop(self) -> None:
        """Stop syncing, deliver what the last turns wrote, then close the HTTP session for good."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.dispatcher is not None and CHANNEL in self.dispatcher.senders:
            with contextlib.suppress(Exception):  # best effort: what is left goes out after the restart
                await asyncio.wait_for(self.dispatcher.senders[CHANNEL].deliver_due(), 10)
        self.transport.closed = True  # a late delivery round must not open a new session nobody closes
        self.transport.active = False
        await self.client.close()
        await asyncio.to_thread(self.leadership.release)

    async def _login(self) -> None:
        settings = self.app.settings
        saved = await asyncio.to_thread(self._load_account)
        token = settings.matrix_access_token or (saved.access_token if saved else None)
        device = settings.matrix_device_id or (saved.device_id if saved else None)
        if token:
            self.client.access_token = token
            who = await self.client.whoami()
            if isinstance(who, WhoamiError):
                if settings.matrix_access_token or not settings.matrix_password:
                    raise self._login_refused("login with MATRIX_ACCESS_TOKEN", who)
                token = None  # the saved token was logged out: log in with the password again
            else:
                device = device or who.device_id
        if token and device:
            self.client.restore_login(self.user_id, device, token)
        else:
            answer = await self.client.login(settings.matrix_password, device_name="Wegbegleiter")
            if isinstance(answer, LoginError):
                raise self._login_refused("login with MATRIX_PASSWORD", answer)
        await asyncio.to_thread(self._save_account, self.client.device_id,
                                None if settings.matrix_access_token else self.client.access_token)

    def _login_refused(self, what: str, answer: LoginError | WhoamiError) -> Exception:
        """A refusal waiting cures (the homeserver or its proxy in trouble: 5xx) or one it does not."""
        status = getattr(getattr(answer, "transport_response", None), "status", None)
        detail = f"{answer.status_code or status}: {answer.message}"
        if status is None or status >= 500 or status == 429:
            return Unreachable(f"Matrix homeserver, {what}: {detail}")
        return ChannelFailed(f"Matrix {what} refused for {self.user_id} ({detail})")

    # --- the database -----------------------------------------------------------------------------
    def _load_account(self) -> MatrixAccount | None:
        with self.app.sessions() as session:
            account = session.get(MatrixAccount, self.user_id)
            if account is not None:
                session.expunge(account)
            return account

    def _save_account(self, device_id: str | None, access_token: str | None) -> None:
        with self.app.sessions.begin() as session:
            account = session.get(MatrixAccount, self.user_id)
            if account is None:
                account = MatrixAccount(user_id=self.user_id, updated_at=self.app.services.clock.now())
                session.add(account)
            if account.device_id != device_id:
                account.next_batch = None  # a new device starts from now: its store knows no room keys
            account.device_id = device_id
            account.access_token = access_token
            account.updated_at = self.app.services.clock.now()

    def _save_token(self, next_batch: str) -> None:
        with self.app.sessions.begin() as session:
            session.connection().execute(SAVE_TOKEN, {"account": self.user_id, "next_batch": next_batch,
                                                      "now": self.app.services.clock.now()})

    def _remember_choices(self, session: Session, event_id: str, address: str, outbox_id: int,
                          payloads: list[str]) -> None:
        now = self.app.services.clock.now()
        connection = session.connection()
        if self._choices_pruned_at is None or now - self._choices_pruned_at >= CHOICES_PRUNED_EVERY:
            # A reaction on a message older than CHOICES_KEPT is not worth keeping its choices for.
            connection.execute(delete(MatrixChoiceMessage).where(MatrixChoiceMessage.created_at < now - CHOICES_KEPT))
            self._choices_pruned_at = now  # (if the transaction fails, the next one after the hour prunes)
        connection.execute(REMEMBER_CHOICES, {
            "event_id": event_id, "address": address, "outbox_id": outbox_id, "payloads": payloads,
            "created_at": now})

    def _choice_payload(self, room_id: str, event_id: str, number: int) -> str | None:
        with self.app.sessions() as session:
            message = session.get(MatrixChoiceMessage, event_id)
            if message is None or message.address != room_id or not 1 <= number <= len(message.payloads):
                return None
            return message.payloads[number - 1]

    # --- syncing ----------------------------------------------------------------------------------
    async def _sync_loop(self) -> None:
        account = await asyncio.to_thread(self._load_account)
        since = account.next_batch if account else None
        first, fresh = True, since is None
        failures = 0
        loop = asyncio.get_running_loop()
        checked = loop.time()
        while not self._stopping.is_set():
            if loop.time() - checked > LEADER_CHECK:
                checked = loop.time()
                if not await asyncio.to_thread(self.leadership.still_held):
                    log.warning("no longer the instance that syncs Matrix (database connection lost)")
                    self.transport.active = False
                    await asyncio.to_thread(self.leadership.release)
                    self._task = asyncio.create_task(self._wait_to_sync(), name="matrix-standby")
                    return
            try:
                answer = await self.client.sync(timeout=0 if first else SYNC_TIMEOUT_MS,
                                                sync_filter=self._sync_filter(full_state=first),
                                                since=since, full_state=first or None)
                if isinstance(answer, SyncError):
                    raise ConnectionError(f"{answer.status_code}: {answer.message}")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the homeserver is away: keep trying, never give up
                failures += 1
                self.sync_ok = False
                log.warning("Matrix sync failed (%r); trying again", exc)
                await asyncio.sleep(min(60.0, 0.5 * 2 ** min(failures, 7)))
                continue
            # nio has taken this sync in (keys, decryption): from here on it is handled, never fetched again.
            self.transport.ready.set()  # nio knows the rooms now: delivery may tell a left room from a new one
            try:
                await self._keep_keys()
            except Exception:
                log.warning("Matrix key upkeep failed; again after the next sync", exc_info=True)
            # The very first sync of a new installation shows old history: nobody waits for an answer to it.
            written = self._written
            try:
                await self._handle(answer, history=first and fresh, since=since, full_state=first)
            except Exception:  # e.g. joining an invite failed: it comes again with the next full sync
                log.exception("handling a Matrix sync failed")
            await self._until_stored(self._save_token, answer.next_batch)
            since, first, failures = answer.next_batch, False, 0
            self.sync_ok = True
            self.synced.set()
            self.synced.clear()
            if self._written != written:
                await asyncio.sleep(self.busy_sync_pause)  # (a stop cancels this task, pause and all)

    async def _publish_fallback_key(self) -> None:
        """Upload a fallback key (nio does not): when many new senders claim all one-time keys before the
        next sync tops them up, they get this key instead of none, and their first message stays readable.

        A new one each start and whenever the one-time keys ran out (the old one may have been used);
        vodozemac keeps the previous fallback key, so sessions started with it still work.
        """
        olm = self.client.olm
        if olm is None:
            return
        account = olm.account._account  # nio wraps vodozemac's Account and has no fallback key API
        account.generate_fallback_key()
        keys = {}
        for key_id, key in account.fallback_key.items():
            body: dict[str, Any] = {"key": key.to_base64(), "fallback": True}
            body["signatures"] = {self.user_id: {f"ed25519:{self.client.device_id}": olm.sign_json(body)}}
            keys[f"signed_curve25519:{key_id}"] = body
        method, path, data = Api.keys_upload(self.client.access_token, {"fallback_keys": keys})
        answer = await self.client._send(KeysUploadResponse, method, path, data)
        if isinstance(answer, KeysUploadError):
            log.warning("could not upload the fallback key: %s", answer.message)
            return
        account.mark_keys_as_published()
        olm.save_account()

    async def _keep_keys(self) -> None:
        """What nio's sync_forever does between syncs: keys up, device lists fresh, key requests out."""
        client = self.client
        if client.olm is not None and client.olm.uploaded_key_count == 0:
            await self._publish_fallback_key()  # all one-time keys were claimed: the fallback may be in use
        if client.should_upload_keys:  # tops the one-time keys up to the maximum after every claim
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    def _sync_filter(self, *, full_state: bool) -> dict[str, Any]:
        """Our own messages come back with every sync after each send, and nio would decrypt and parse
        each of them (in a sync of its own) only for us to skip them: the homeserver leaves them out.
        Not in the first sync after a start, though: its room state is all of it, so a join of ours in
        it could be years old; a join the last run did not handle yet is told only by the timeline."""
        if full_state:
            return SYNC_FILTER
        room = SYNC_FILTER["room"]
        return {**SYNC_FILTER, "room": {**room, "timeline": {**room["timeline"], "not_senders": [self.user_id]}}}

    async def _handle(self, answer: SyncResponse, *, history: bool, since: str | None = None,
                      full_state: bool = True) -> None:
        for room_id in answer.rooms.invite:
            await self._on_invite(room_id)
        for room_id in answer.rooms.leave:
            self.client.rooms.pop(room_id, None)  # nio keeps left rooms; delivery must see them gone
        for room_id, info in answer.rooms.join.items():
            if info.timeline.limited and not history and since:
                await self._warn_if_skipped(room_id, info.timeline.prev_batch, since)
        rooms = [self._handle_room(room_id, self._own_joins(info.state, full_state) + info.timeline.events, history)
                 for room_id, info in answer.rooms.join.items()]
        rooms.append(self._retry_undecryptable())
        written = self._written
        await asyncio.gather(*rooms)
        if self.dispatcher is not None and self._written != written:
            self.dispatcher.poke()  # (a sync of only our own messages wrote nothing: no delivery round for it)

    async def _warn_if_skipped(self, room_id: str, prev_batch: str | None, since: str) -> None:
        """A "limited" timeline left events out: ask the homeserver which (between the last sync and this
        one's first event) and warn only if a person wrote something there. A newly joined room is limited
        too, but what came before the bot joined (the room's creation) was never meant for it."""
        written = ("m.room.message", "m.room.encrypted", "m.reaction", "m.sticker")
        try:
            answer = await self.client.room_messages(
                room_id, start=prev_batch or "", end=since, direction=MessageDirection.back, limit=100,
                message_filter={"types": list(written), "not_senders": [self.user_id]})
        except Exception as exc:  # the warning is about a gap we cannot see: say so, once
            log.warning("events in %s since the last sync may have been left out (%r)", room_id, exc)
            return
        if isinstance(answer, RoomMessagesError):
            log.warning("events in %s since the last sync may have been left out (%s)", room_id, answer.message)
            return
        skipped = [event for event in answer.chunk if getattr(event, "sender", None) != self.user_id]
        if skipped:
            log.warning("%s%s events in %s since the last sync were left out: they are not answered",
                        len(skipped), "+" if len(answer.chunk) >= 100 else "", room_id)

    async def _handle_room(self, room_id: str, events: list[Any], history: bool) -> None:
        """One room's events in order (a turn waits for the one before it)."""
        if await self._refuse_if_group(room_id):
            return
        for event in events:
            if getattr(event, "sender", None) == self.user_id and not self._is_own_join(event):
                continue
            if history and not self._is_own_join(event):
                continue
            try:
                await self._on_event(room_id, event)
            except Exception:  # one odd event (a bug in a flow) must not stop the room or the sync
                log.exception("Matrix event %s in %s failed", getattr(event, "event_id", "?"), room_id)

    def _own_joins(self, state: list[Any], full_state: bool) -> list[Any]:
        """Our join of a room, which the sync filter keeps out of the timeline: it comes with the new
        room's state instead (before the timeline, so the greeting goes first). A full state holds
        every old join too; there the timeline still has ours (see :meth:`_sync_filter`)."""
        return [] if full_state else [event for event in state if self._is_own_join(event)]

    def _is_own_join(self, event: Any) -> bool:
        return (isinstance(event, RoomMemberEvent) and event.state_key == self.user_id
                and event.membership == "join" and (event.prev_membership or "") != "join")

    async def _on_event(self, room_id: str, event: Any) -> None:
        received: Received | None = None
        if self._is_own_join(event):
            received = Received()  # just joined: the engine greets and asks for the code
        elif isinstance(event, RoomMessageText | RoomMessageNotice):
            if (event.source.get("content", {}).get("m.relates_to") or {}).get("rel_type") == "m.replace":
                return  # an edit of an earlier message: the original was answered already
            received = Received(text=strip_reply_fallback(event.body, event.source.get("content", {})))
        elif isinstance(event, RoomMessageMedia | RoomEncryptedMedia):
            attachment = await self._download(event)
            if attachment is not None:
                received = Received(attachments=(attachment,))
        elif isinstance(event, ReactionEvent):
            number = keycap_number(event.key)
            if number is None:
                return
            payload = await asyncio.to_thread(self._choice_payload, room_id, event.reacts_to, number)
            received = Received(payload=payload) if payload else Received(text=str(number))
        elif isinstance(event, MegolmEvent):
            await self._undecryptable(room_id, event)
            return
        elif isinstance(event, RoomMemberEvent):
            await self._membership_changed(room_id, event)
            return
        if received is None:
            return
        incoming = Incoming(channel=CHANNEL, address=room_id, event_id=event.event_id,
                            received_at=self.app.services.clock.now(), text=received.text,
                            payload=received.payload, attachments=received.attachments)
        self._written += 1
        await self._until_stored(self.app.engine.handle, incoming)

    async def _until_stored(self, work: Callable[..., Any], *args: Any) -> Any:
        """Run a database step, waiting out a database outage: the sync token is stored only after every
        event is handled, and this sync's events must not be fetched again (nio cannot decrypt them twice)."""
        for attempt in itertools.count():
            try:
                return await asyncio.to_thread(work, *args)
            except DBAPIError as exc:
                if isinstance(exc, IntegrityError) or self._stopping.is_set():
                    raise
                log.warning("database unavailable (%s); trying again", exc.__class__.__name__)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** attempt))
        raise AssertionError("unreachable")

    async def _download(self, event: RoomMessageMedia | RoomEncryptedMedia) -> Attachment | None:
        info = event.source.get("content", {}).get("info") or {}
        if int(info.get("size") or 0) > MAX_DOWNLOAD:
            log.info("file in %s too big to fetch (%s bytes)", event.event_id, info.get("size"))
            return None
        answer = await self.client.download(event.url)
        body = getattr(answer, "body", None)
        if not isinstance(body, bytes):
            log.warning("could not download %s: %s", event.url, answer)
            return None
        if isinstance(event, RoomEncryptedMedia):
            body = decrypt_attachment(body, event.key["k"], event.hashes["sha256"], event.iv)
        mime = (getattr(event, "mimetype", None) or info.get("mimetype") or "application/octet-stream")
        filename = event.source.get("content", {}).get("filename") or event.body or "file"
        return Attachment(filename=filename[:200], mime_type=mime, data=body)

    # --- rooms and members ------------------------------------------------------------------------
    async def _on_invite(self, room_id: str) -> None:
        """Join a person's invite; whether the room is a direct chat is checked when its state arrives."""
        room = self.client.invited_rooms.get(room_id)
        inviter = room.inviter if room else None
        if not inviter or inviter == self.user_id:
            return  # no person behind it that we can see
        if room is not None and self._others(room) > 1:
            log.info("declining invite to %s: more than one other member", room_id)
            await self.client.room_leave(room_id)
            return
        answer = await self.client.join(room_id)
        if isinstance(answer, JoinError):
            log.warning("could not join %s: %s", room_id, answer.message)

    def _others(self, room: MatrixRoom) -> int:
        return len({*room.users, *room.invited_users} - {self.user_id})

    async def _refuse_if_group(self, room_id: str) -> bool:
        """More people than the member and the bot: say why, leave. True if refused."""
        room = self.client.rooms.get(room_id)
        if room_id in self._refused or room is None:
            return True
        if self._others(room) <= 1:
            return False
        self._refused.add(room_id)
        log.info("leaving group room %s", room_id)
        langs = dict.fromkeys([self.app.settings.default_language, SOURCE_LANGUAGE])
        text = "\n\n".join(translator(lang).gettext(GROUP_REFUSAL) for lang in langs)
        try:
            await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.notice", "body": text},
                                        ignore_unverified_devices=True)
        except Exception:  # leaving matters more than the goodbye
            log.warning("could not say goodbye in %s", room_id, exc_info=True)
        await self.client.room_leave(room_id)
        return True

    async def _membership_changed(self, room_id: str, event: RoomMemberEvent) -> None:
        if event.membership in ("join", "invite"):
            await self._refuse_if_group(room_id)
        elif event.membership in ("leave", "ban") and event.state_key != self.user_id \
                and room_id in self.client.rooms and self._others(self.client.rooms[room_id]) == 0:
            await self.client.room_leave(room_id)  # the person left: the outbox will see RecipientGone

    # --- messages we cannot read ------------------------------------------------------------------
    async def _undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        log.info("undecryptable message %s in %s (session %s)", event.event_id, room_id, event.session_id)
        try:
            await self.client.request_room_key(event)
        except LocalProtocolError:
            pass  # already requested for this session
        except Exception:
            log.warning("key request for %s failed", event.event_id, exc_info=True)
        self._waiting_for_keys.setdefault(event.session_id, []).append((room_id, event))
        self._written += 1
        await asyncio.to_thread(self._tell_undecryptable, room_id, event.event_id)

    def _tell_undecryptable(self, room_id: str, event_id: str) -> None:
        now = self.app.services.clock.now()
        with transaction(self.app.sessions) as session:
            key = f"matrix:undecryptable:{room_id}:{event_id}"
            identity = session.scalar(select(ChatIdentity).where(ChatIdentity.channel == CHANNEL,
                                                                 ChatIdentity.address == room_id))
            person = (identity.member or identity.staff) if identity is not None else None
            state = session.scalar(select(ConversationState).where(ConversationState.channel == CHANNEL,
                                                                   ConversationState.address == room_id))
            lang = (person.language if person else None) or (state.language if state else None) \
                or self.app.settings.default_language
            tr = translator_for(person, now, lang)  # du for a young person
            enqueue(session, channel=CHANNEL, address=room_id, reply=Reply(tr.gettext(UNDECRYPTABLE)), now=now,
                    language=tr.lang, identity_id=identity.id if identity else None, kind="notice",
                    dedupe_key=key)

    async def _retry_undecryptable(self) -> None:
        """Keys asked for may have arrived with this sync: hand the messages to the engine after all."""
        for session_id in list(self._waiting_for_keys):
            waiting = self._waiting_for_keys[session_id]
            try:
                decrypted = [(room_id, self.client.decrypt_event(event)) for room_id, event in waiting]
            except Exception:
                continue
            if any(isinstance(e, MegolmEvent) for _room, e in decrypted):
                continue
            del self._waiting_for_keys[session_id]
            for room_id, event in decrypted:
                await self._on_event(room_id, event)


def matrix_channel(app: App) -> MatrixChannel | None:
    return MatrixChannel(app) if app.settings.matrix_homeserver else None


CHANNEL_FACTORIES.append(matrix_channel)
