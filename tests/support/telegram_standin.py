"""A local stand-in for Telegram's Bot API, speaking the real HTTP protocol python-telegram-bot uses.

It runs an aiohttp server in its own thread and event loop (started once per test session), so any
test's event loop, or a benchmark, can talk to it. PTB posts ``application/x-www-form-urlencoded``
with objects (``reply_markup``, ``commands``, ``scope``) as JSON strings, and multipart for uploads.

Tests play the people: :meth:`say`, :meth:`press`, :meth:`send_photo` put updates in the queue that
``getUpdates`` long-polls (or POST them to the bot's webhook when one is set). They can make the next
calls fail (:meth:`fail_next`: 429, 5xx, 403, or a hang for timeouts), block a chat, redeliver an
update, and switch on Telegram's flood limits (:meth:`enforce_limits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Wegbegleiter", "username": "WegbegleiterBot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
PROXY_PAGE = ("<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>{status} Bad "
              "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
JSON_FIELDS = ("reply_markup", "commands", "scope", "allowed_updates", "reply_parameters", "link_preview_options",
               "entities", "caption_entities")


@dataclass
class Failure:
    method: str
    status: int  # 429, 500, 502, 403, 400, or 0 for a hang (the client times out)
    retry_after: int = 1
    hang: float = 0.0
    description: str = ""
    html: bool = False  # answer with a proxy's HTML error page instead of the Bot API's JSON


@dataclass
class Sent:
    """A message the bot sent, as a person's phone would show it."""

    message_id: int
    chat_id: int
    method: str
    text: str = ""
    reply_markup: dict[str, Any] | None = None
    filename: str | None = None
    data: bytes = b""
    edits: list[str] = field(default_factory=list)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of the keyboard still shown."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


class BotApiStandIn:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._started = threading.Event()
        self.reset()

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> BotApiStandIn:
        threading.Thread(target=self._serve, name="telegram-standin", daemon=True).start()
        self._started.wait(10)
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.new_updates = asyncio.Event()
        self.push_order = asyncio.Lock()
        self.push_slots = asyncio.Semaphore(40)  # Telegram's default max_connections of a webhook
        self._started.set()
        self.loop.run_forever()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def reset(self) -> None:
        with self.lock:
            self.pending: list[dict[str, Any]] = []  # updates not yet confirmed by an offset
            self.forced: list[dict[str, Any]] = []  # redelivered regardless of the offset
            self.updates: dict[int, dict[str, Any]] = {}
            self.sent: list[Sent] = []
            self.by_id: dict[int, Sent] = {}
            self.calls: list[tuple[str, dict[str, Any]]] = []
            self.failures: deque[Failure] = deque()
            self.blocked: set[int] = set()
            self.files: dict[str, tuple[str, bytes]] = {}
            self.callback_answers: list[dict[str, Any]] = []
            self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
            self.webhook: tuple[str, str] | None = None
            self.flaky: dict[str, float] = {}  # method → share of its calls answered 502 Bad Gateway
            self.random = random.Random(16)
            self.webhook_connections = 1  # 40: pushed side by side, as Telegram does for a busy bot
            self.limits: tuple[float, float] | None = None
            self.recent: deque[float] = deque()
            self.last_in_chat: dict[int, float] = {}
            self.too_many = 0  # 429s answered because of the flood limits
            self.last_keyboard: dict[int, int] = {}  # chat → newest message showing buttons (sent or edited)
            self.keyboards_shown: Counter[int] = Counter()  # chat → keyboards shown so far (sent or edited in)
            self.handed_out: set[int] = set()  # update ids getUpdates returned at least once

    # --- what people do -----------------------------------------------------------------------
    def say(self, chat_id: int, text: str, *, first_name: str = "Ayşe", language_code: str = "de",
            chat_type: str = "private") -> int:
        message: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            word = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(word)}]
        return self._message(chat_id, message, first_name, language_code, chat_type)

    def send_photo(self, chat_id: int, data: bytes, caption: str = "") -> int:
        file_id = self._store_file("photo.jpg", data)
        photo = [{"file_id": file_id, "file_unique_id": file_id + "u", "width": 640, "height": 480,
                  "file_size": len(data)}]
        return self._message(chat_id, {"photo": photo, **({"caption": caption} if caption else {})})

    def send_document(self, chat_id: int, filename: str, mime_type: str, data: bytes, *,
                      file_size: int | None = None) -> int:
        file_id = self._store_file(filename, data)
        document = {"file_id": file_id, "file_unique_id": file_id + "u", "file_name": filename,
                    "mime_type": mime_type, "file_size": len(data) if file_size is None else file_size}
        return self._message(chat_id, {"document": document})

    def send_voice(self, chat_id: int, data: bytes, duration: int = 3) -> int:
        file_id = self._store_file("voice.ogg", data)
        voice = {"file_id": file_id, "file_unique_id": file_id + "u", "duration": duration,
                 "mime_type": "audio/ogg", "file_size": len(data)}
        return self._message(chat_id, {"voice": voice})

    def press(self, chat_id: int, label: str, *, data: str | None = None, message_id: int | None = None) -> int:
        """Press the button with this label on the newest message showing it (or send ``data`` as is)."""
        with self.lock:
            if data is None:
                for sent in reversed(self.sent):
                    if sent.chat_id == chat_id and (message_id is None or sent.message_id == message_id):
                        found = [d for text, d in sent.buttons if text == label]
                        if found:
                            data, message_id = found[0], sent.message_id
                            break
                else:
                    shown = [s.buttons for s in self.sent if s.chat_id == chat_id][-3:]
                    raise AssertionError(f"no button {label!r} shown in chat {chat_id}; last: {shown}")
            message = self.by_id.get(message_id or 0)
        query = {
            "id": str(next(self._ids) + 10_000_000),
            "from": self._user(chat_id, "Ayşe", "de"),
            "chat_instance": str(chat_id),
            "data": data,
            "message": {"message_id": message_id or 1, "date": int(time.time()), "chat": self._chat(chat_id),
                        "from": BOT_USER, "text": message.text if message else ""},
        }
        return self._add({"callback_query": query})

    def block_bot(self, chat_id: int) -> int:
        """The person blocks the bot: sends fail with 403, and Telegram tells the bot (my_chat_member)."""
        self.block(chat_id)
        bot_member = {"user": BOT_USER, "status": "member"}
        change = {"chat": self._chat(chat_id), "from": self._user(chat_id, "Ayşe", "de"), "date": int(time.time()),
                  "old_chat_member": bot_member, "new_chat_member": {**bot_member, "status": "kicked",
                                                                     "until_date": 0}}
        return self._add({"my_chat_member": change})

    def redeliver(self, update_id: int) -> None:
        """Telegram sends an update again (e.g. it did not see the confirmation)."""
        with self.lock:
            self.forced.append(self.updates[update_id])
        self._wake()

    # --- failures and limits ------------------------------------------------------------------
    def fail_next(self, method: str, status: int, *, retry_after: int = 1, hang: float = 0.0,
                  description: str = "", html: bool = False) -> None:
        """The next call of ``method`` fails; ``html``: as a reverse proxy does, with an HTML page."""
        with self.lock:
            self.failures.append(Failure(method, status, retry_after, hang, description, html))

    def block(self, chat_id: int) -> None:
        with self.lock:
            self.blocked.add(chat_id)

    def enforce_limits(self, overall: float = 30, per_chat: float = 1) -> None:
        """Answer 429 (retry_after 1) above ``overall`` messages/s, or more than ``per_chat`` per s in a chat."""
        with self.lock:
            self.limits = (overall, per_chat)

    # --- what tests read ----------------------------------------------------------------------
    def messages(self, chat_id: int) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.chat_id == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [s.text for s in self.messages(chat_id)]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [params for name, params in self.calls if name == method]

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait (real time: this is network mechanics) until ``condition()`` is truthy."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {condition}")
            await asyncio.sleep(0.01)

    async def wait_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[str]:
        """Wait until the chat has at least ``count`` messages; return all their texts."""
        await self.wait_for(lambda: len(self.messages(chat_id)) >= count, timeout)
        return self.texts(chat_id)

    # --- internals ----------------------------------------------------------------------------
    @staticmethod
    def _chat(chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "Ayşe"}
        return {"id": chat_id, "type": chat_type, "title": "Familie und Freunde"}

    @staticmethod
    def _user(chat_id: int, first_name: str, language_code: str) -> dict[str, Any]:
        return {"id": abs(chat_id), "is_bot": False, "first_name": first_name, "language_code": language_code}

    def _message(self, chat_id: int, content: dict[str, Any], first_name: str = "Ayşe", language_code: str = "de",
                 chat_type: str = "private") -> int:
        message = {"message_id": next(self._ids), "date": int(time.time()), "chat": self._chat(chat_id, chat_type),
                   "from": self._user(chat_id, first_name, language_code), **content}
        return self._add({"message": message})

    def _store_file(self, filename: str, data: bytes) -> str:
        file_id = f"file{next(self._file_ids)}"
        with self.lock:
            self.files[file_id] = (filename, data)
        return file_id

    def _add(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        with self.lock:
            self.updates[update_id] = update
            if self.webhook is None:
                self.pending.append(update)
        if self.webhook is not None:  # not awaited: the bot's webhook server may share the caller's loop
            asyncio.run_coroutine_threadsafe(self._push(update), self.loop)
        self._wake()
        return update_id

    def _wake(self) -> None:
        self.loop.call_soon_threadsafe(self.new_updates.set)

    async def _push(self, update: dict[str, Any]) -> None:
        assert self.webhook is not None
        url, secret = self.webhook
        # One at a time, in order (Telegram with max_connections=1), or side by side over up to 40 connections.
        async with self.push_order if self.webhook_connections == 1 else self.push_slots:
            for _attempt in range(5):
                try:
                    async with aiohttp.ClientSession() as session, session.post(
                            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    params[key] = (value.filename, value.file.read())
                elif key in JSON_FIELDS:
                    params[key] = json.loads(value)
                else:
                    params[key] = value
        return params

    def _flooded(self, chat_id: int | None) -> bool:
        """Telegram's flood control, approximately: overall per second and per chat."""
        if self.limits is None or chat_id is None:
            return False
        overall, per_chat = self.limits
        now = time.monotonic()
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        if len(self.recent) >= overall or now - self.last_in_chat.get(chat_id, -10.0) < 1.0 / per_chat:
            self.too_many += 1
            return True
        self.recent.append(now)
        self.last_in_chat[chat_id] = now
        return False

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        with self.lock:
            self.calls.append((method, params))
            failure = next((f for f in self.failures if f.method == method), None)
            if failure is not None:
                self.failures.remove(failure)
            elif method in self.flaky and self.random.random() < self.flaky[method]:
                failure = Failure(method, 502)  # a share of the calls fails, as on a bad day
        if failure is not None:
            if failure.hang:
                await asyncio.sleep(failure.hang)  # the client gives up first (TimedOut)
            if failure.status and failure.html:
                return web.Response(status=failure.status, content_type="text/html", text=PROXY_PAGE.format(
                    status=failure.status))
            if failure.status:
                return self._error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except ApiError as exc:
            return self._error(exc.status, exc.description, exc.retry_after)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str = "", retry_after: int = 1) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status}
        if status == 429:
            body["description"] = description or f"Too Many Requests: retry after {retry_after}"
            body["parameters"] = {"retry_after": retry_after}
        else:
            body["description"] = description or {
                400: "Bad Request: message text is empty", 403: "Forbidden: bot was blocked by the user",
                500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Error")
        return web.json_response(body, status=status)

    # --- methods ------------------------------------------------------------------------------
    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        with self.lock:
            self.webhook = None
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        with self.lock:
            self.webhook = (params["url"], params.get("secret_token", ""))
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            self.new_updates.clear()  # before looking, so an update added meanwhile wakes us
            with self.lock:
                if offset:
                    self.pending = [u for u in self.pending if u["update_id"] >= offset]
                ready = self.forced + self.pending[:100]
                self.forced = []
                self.handed_out.update(u["update_id"] for u in ready)
            if ready or time.monotonic() >= deadline:
                return ready
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_updates.wait(), max(0.0, deadline - time.monotonic()))

    def _record(self, method: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        with self.lock:
            if chat_id in self.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if self._flooded(chat_id):
                raise ApiError(429, "", 1)
            sent = Sent(next(self._ids), chat_id, method, reply_markup=params.get("reply_markup"), **extra)
            self.sent.append(sent)
            self.by_id[sent.message_id] = sent
            if sent.reply_markup:
                self.last_keyboard[chat_id] = sent.message_id
                self.keyboards_shown[chat_id] += 1
        message: dict[str, Any] = {"message_id": sent.message_id, "date": int(time.time()),
                                   "chat": self._chat(chat_id), "from": BOT_USER}
        if sent.text and method == "sendMessage":
            message["text"] = sent.text
        elif sent.text:
            message["caption"] = sent.text
        if sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        if not params.get("text"):
            raise ApiError(400, "Bad Request: message text is empty")
        return self._record("sendMessage", params, text=params["text"])

    async def _upload(self, method: str, field_name: str, params: dict[str, Any]) -> dict[str, Any]:
        filename, data = params[field_name]
        message = self._record(method, params, text=params.get("caption", ""), filename=filename, data=data)
        file_id = self._store_file(filename, data)
        if field_name == "photo":
            message["photo"] = [{"file_id": file_id, "file_unique_id": file_id + "u", "width": 100, "height": 100}]
        else:
            message["document"] = {"file_id": file_id, "file_unique_id": file_id + "u", "file_name": filename}
        return message

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        return await self._upload("sendDocument", "document", params)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        return await self._upload("sendPhoto", "photo", params)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        with self.lock:
            self.callback_answers.append(params)
        return True

    def _edit(self, params: dict[str, Any], text: str | None) -> Any:
        """A message edited in place. New text is recorded as a new entry of the chat's transcript (with
        the same message id): tests read everything the person was shown, in order; the old entry keeps
        its words but no buttons, as they are no longer on screen."""
        with self.lock:
            sent = self.by_id.get(int(params.get("message_id") or 0))
            if sent is None or sent.chat_id != int(params["chat_id"]):
                raise ApiError(400, "Bad Request: message to edit not found")
            markup = params.get("reply_markup")
            if text is None and markup == sent.reply_markup:
                raise ApiError(400, "Bad Request: message is not modified")
            if text is not None:
                edited = Sent(sent.message_id, sent.chat_id, "editMessageText", text=text,
                              edits=[*sent.edits, sent.text])
                sent.reply_markup = None
                self.sent.append(edited)
                self.by_id[sent.message_id] = sent = edited
            sent.reply_markup = markup
            if markup and markup.get("inline_keyboard"):  # a new question in the old message's place
                self.last_keyboard[sent.chat_id] = sent.message_id
                self.keyboards_shown[sent.chat_id] += 1
            return {"message_id": sent.message_id, "date": int(time.time()), "chat": self._chat(sent.chat_id),
                    "from": BOT_USER, "text": sent.text}

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return self._edit(params, None)

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        return self._edit(params, params["text"])

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        scope = params.get("scope") or {"type": "default"}
        key = (json.dumps(scope, sort_keys=True), params.get("language_code", ""))
        with self.lock:
            self.commands[key] = params["commands"]
        return True

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        scope = params.get("scope") or {"type": "default"}
        with self.lock:
            self.commands.pop((json.dumps(scope, sort_keys=True), params.get("language_code", "")), None)
        return True

    def menu(self, *, chat_id: int | None = None, language: str = "") -> list[str]:
        """The command words a chat sees (its own menu, or the general one for private chats)."""
        scope = {"type": "chat", "chat_id": chat_id} if chat_id is not None else {"type": "all_private_chats"}
        with self.lock:
            commands = self.commands.get((json.dumps(scope, sort_keys=True), language), [])
        return [c["command"] for c in commands]

    async def _m_leaveChat(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = params["file_id"]
        with self.lock:
            filename, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": file_id + "u", "file_size": len(data),
                "file_path": f"documents/{file_id}/{filename}"}

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].split("/")[1]
        with self.lock:
            _filename, data = self.files[file_id]
        return web.Response(body=data)


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int = 1) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after
