"""Taking updates from Telegram so that none is lost: confirmed only after its turn committed.

Telegram forgets an update once the bot confirms it: with the next ``getUpdates`` offset (long polling),
or with a 200 answer to the webhook's POST. python-telegram-bot's own ``Updater`` confirms a batch as
soon as it is queued, so a process killed before the turn commits loses it. Here:

- :class:`Poller` runs ``getUpdates`` itself. The offset moves past an update only when its turn has
  committed (every earlier update too); after a crash Telegram hands the unconfirmed ones out again, and
  the engine answers an update it already committed once (``ProcessedEvent``). Exactly one instance polls
  (:class:`storage.locks.Leadership`); the others wait and take over within seconds when it dies.
- :class:`WebhookServer` answers Telegram's POST with 200 only after the turn committed; any failure
  answers 500 and Telegram sends the update again. Any number of instances can serve one webhook URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.warnings import PTBUserWarning

from bot.channels.telegram_logging import brief
from storage.locks import LEADER_CHECK, LEADER_RETRY, Leadership

log = logging.getLogger(__name__)

# The poller asks getUpdates for plain JSON on purpose (Poller._fetch), and so does the transport for what
# it sends (bot.channels.telegram); PTB suggests its typed methods.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.\w+' instead of 'Bot\.do_api_request",
                        category=PTBUserWarning)

HANDLE_RETRIES = (1.0, 2.0, 4.0, 8.0, 15.0)  # an update whose handling failed (database away) is tried again

Accept = Callable[[Update], "asyncio.Future[bool]"]


class Poller:
    """``getUpdates`` with our own offsets. ``accept`` queues an update and resolves True once it is handled."""

    def __init__(self, bot: Bot, accept: Accept, leadership: Leadership, *, timeout: int = 10,
                 allowed_updates: list[str] | None = None, backlog: int = 16) -> None:
        self.bot = bot
        self.accept = accept
        self.leadership = leadership
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        # While this many fetched updates are still being handled, fetching more waits: new ones would
        # only queue behind them, and Telegram hands every unconfirmed one out again with each poll.
        self.backlog = backlog
        self.pending: dict[int, Update] = {}  # fetched, not yet committed
        self.tries: dict[int, int] = {}
        self.newest = -1  # highest update id fetched
        self.progress = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.stopping = False
        self.leading = False
        self.failed_at: float | None = None  # monotonic time of the last failed poll (for /readyz)

    @property
    def offset(self) -> int | None:
        """Everything below it is committed: Telegram may forget it."""
        if self.pending:
            return min(self.pending)
        return self.newest + 1 if self.newest >= 0 else None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="telegram-poller")

    async def stop(self) -> None:
        """Stop fetching; wait for fetched updates to be handled; confirm them; give up the role."""
        self.stopping = True
        self.progress.set()
        if self.task is not None:
            # The poll under way returns within its long-poll timeout (what it brings is not taken: it
            # stays unconfirmed). Cancelling an HTTP request under way can leave the HTTP client hanging.
            done, _pending = await asyncio.wait({self.task}, timeout=self.timeout + 5)
            if not done:
                self.task.cancel()
                await asyncio.wait({self.task}, timeout=2)
            elif not self.task.cancelled() and self.task.exception() is not None:
                log.warning("the Telegram poller had stopped: %r", self.task.exception())
        for _ in range(600):  # the channel drains its turns meanwhile
            if not self.pending:
                break
            await asyncio.sleep(0.05)
        if self.leading and self.offset is not None:
            with contextlib.suppress(TelegramError):
                await self.bot.get_updates(offset=self.offset, limit=1, timeout=0)  # confirm what is done
        await asyncio.to_thread(self.leadership.release)
        self.leading = False

    async def _run(self) -> None:
        failures = 0
        last_check = 0.0
        loop = asyncio.get_running_loop()
        while not self.stopping:
            if not self.leading:
                await self._become_poller()
                last_check = loop.time()
                if self.stopping:
                    break
            elif loop.time() - last_check > LEADER_CHECK:
                last_check = loop.time()
                if not await asyncio.to_thread(self.leadership.still_held):
                    log.warning("no longer the Telegram poller (database connection lost); waiting to take over")
                    self.leading = False
                    await asyncio.to_thread(self.leadership.release)
                    continue
            try:
                waiting = bool(self.pending)
                updates = await self._fetch(timeout=0 if waiting else self.timeout)
                failures = 0
            except InvalidToken:
                raise
            except Conflict as exc:  # another process polls with this token, outside our lock
                failures += 1
                self.failed_at = time.monotonic()
                log.warning("another process polls this Telegram bot (%s); trying again", brief(exc))
                await self._pause(min(30.0, 2.0 ** failures))
                continue
            except TelegramError as exc:
                failures += 1
                self.failed_at = time.monotonic()
                log.warning("polling Telegram failed, trying again: %s", brief(exc))
                await self._pause(min(30.0, 0.5 * 2 ** failures))
                continue
            if self.stopping:
                break  # not handed in, not confirmed: the next poller gets them
            fresh = [u for u in updates if u["update_id"] not in self.pending and u["update_id"] > self.newest]
            for raw in fresh:
                self.newest = max(self.newest, raw["update_id"])
                update = Update.de_json(raw, self.bot)
                if update is not None:
                    self._hand_in(update)
            if self.pending and (not fresh or len(self.pending) >= self.backlog):
                # Telegram hands out what is still being handled, again: wait for turns to finish first
                # (until the backlog is short enough that new updates could start soon).
                await self._wait_for_progress()

    async def _wait_for_progress(self) -> None:
        """Until a turn finished and fewer than ``backlog`` updates are left (at most ``timeout`` s)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self.timeout
        with contextlib.suppress(TimeoutError):
            while True:
                self.progress.clear()
                await asyncio.wait_for(self.progress.wait(), max(0.0, until - loop.time()))
                if self.stopping or len(self.pending) < self.backlog:
                    return

    async def _fetch(self, timeout: int) -> list[dict[str, Any]]:
        """``getUpdates`` as plain JSON. While turns are under way, Telegram hands their updates out again
        with every poll (they are not confirmed yet): only the fresh ones are made into PTB objects, which
        costs far more than reading the JSON (up to 100 updates per poll under load)."""
        result = await self.bot.do_api_request(
            "getUpdates", {"offset": self.offset, "timeout": timeout, "allowed_updates": self.allowed_updates},
            read_timeout=timeout + 10)
        return [raw for raw in result if isinstance(raw, dict) and isinstance(raw.get("update_id"), int)]

    async def _pause(self, seconds: float) -> None:
        """Sleep, but not past a stop."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while not self.stopping and loop.time() < until:
            await asyncio.sleep(min(0.1, until - loop.time()))

    async def _become_poller(self) -> None:
        waited = False
        while not self.stopping:
            try:
                if await asyncio.to_thread(self.leadership.try_acquire):
                    break
            except Exception as exc:  # the database is away: the bot cannot answer anyway
                log.warning("cannot reach the database to decide which instance polls Telegram: %s", exc)
            if not waited:
                log.info("another instance polls Telegram; this one takes over when it stops")
                waited = True
            await self._pause(LEADER_RETRY)
        else:
            return
        self.leading = True
        # The unconfirmed updates of a previous poller come again; the engine answers each once.
        self.pending.clear()
        self.newest = -1
        while not self.stopping:
            try:
                await self.bot.delete_webhook()  # polling and a webhook exclude each other
                break
            except InvalidToken:
                raise
            except TelegramError as exc:
                log.warning("cannot reach Telegram, trying again: %s", brief(exc))
                await self._pause(5)
        log.info("polling Telegram")

    def _hand_in(self, update: Update) -> None:
        self.pending[update.update_id] = update
        future = self.accept(update)
        future.add_done_callback(lambda done, u=update: self._handled(u, done))

    def _handled(self, update: Update, done: asyncio.Future[bool]) -> None:
        ok = not done.cancelled() and done.result()
        if not ok and not self.stopping:
            tries = self.tries.get(update.update_id, 0)
            if tries < len(HANDLE_RETRIES):
                self.tries[update.update_id] = tries + 1
                asyncio.get_running_loop().call_later(HANDLE_RETRIES[tries], self._retry, update)
                return
            log.error("telegram update %s could not be handled after %s tries; dropped", update.update_id,
                      tries + 1)
        if not ok and self.stopping:
            self._give_back(update)
            return
        self.pending.pop(update.update_id, None)
        self.tries.pop(update.update_id, None)
        self.progress.set()

    def _give_back(self, update: Update) -> None:
        """Not handled, and this process stops: left unconfirmed, so the next poller gets it again."""
        self.newest = min(self.newest, update.update_id - 1)
        self.pending.pop(update.update_id, None)
        self.progress.set()

    def _retry(self, update: Update) -> None:
        if self.stopping:
            self._give_back(update)
            return
        future = self.accept(update)
        future.add_done_callback(lambda done, u=update: self._handled(u, done))


class WebhookServer:
    """Telegram POSTs each update; the answer is 200 only after the update's turn committed."""

    def __init__(self, bot: Bot, accept: Accept, *, url: str, listen: str, secret: str,
                 allowed_updates: list[str] | None = None) -> None:
        self.bot = bot
        self.accept = accept
        self.url = url
        self.listen = listen
        self.secret = secret
        self.allowed_updates = allowed_updates
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        application = web.Application()
        application.router.add_post(urlsplit(self.url).path or "/", self._post)
        self.runner = web.AppRunner(application, access_log=None)
        await self.runner.setup()
        host, _sep, port = self.listen.rpartition(":")
        await web.TCPSite(self.runner, host or "0.0.0.0", int(port)).start()
        # Every instance behind the URL registers the same URL and secret: harmless, and any may start first.
        await self.bot.set_webhook(self.url, allowed_updates=self.allowed_updates, secret_token=self.secret)
        log.info("Telegram webhook at %s, listening on %s", self.url, self.listen)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()  # waits for requests under way: their turns finish and answer

    async def _post(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != self.secret:
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.bot)
        except Exception:
            log.warning("a webhook request that is not a Telegram update was refused")
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        ok = await asyncio.shield(self.accept(update))
        # 500: Telegram sends it again later (the database was away, say); the engine answers it once.
        return web.Response(status=200 if ok else 500)
