"""The Bot API's HTTP client: python-telegram-bot's requests carried by aiohttp instead of httpx.

Every button press is two or three Bot API calls and a ``getUpdates``; through httpx/httpcore they were
about 40 % of a press's CPU (bench/telegram_flow.py, py-spy): httpcore looks at every pooled connection
(a socket option read through anyio for each) whenever a request starts or ends, and builds several
objects per request. aiohttp, which the bot already runs for its web endpoint and webhook, parses HTTP
in C and keeps its pool in a dict. PTB makes this a supported seam (:class:`telegram.request.BaseRequest`):
it builds the parameters and reads Telegram's answer and errors; this class only moves the bytes.

What stays as with PTB's default: the parameters go form-encoded (multipart with files), the same
User-Agent, the proxy from ``HTTPS_PROXY`` and the certificates httpx would trust, and a timeout
becomes :class:`telegram.error.TimedOut`, any other failure of the connection
:class:`telegram.error.NetworkError` (the outbox sends again after either).
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request

import aiohttp
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_NONE = BaseRequest.DEFAULT_NONE


def _given(value: object, default: float | None) -> float | None:
    return default if value is DEFAULT_NONE else value  # type: ignore[return-value]


class AiohttpRequest(BaseRequest):
    """One keep-alive connection pool of at most ``connections`` connections to the Bot API."""

    def __init__(self, *, connections: int = 16, read_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0) -> None:
        self.connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._ssl: ssl.SSLContext | None = None
        self._env_proxies: dict[str, str] = {}
        self._proxy_for: dict[str, str | None] = {}  # "scheme://host" → its proxy from the environment

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            if self._ssl is None:  # the trust store PTB's httpx client uses (certifi)
                self._ssl = await asyncio.to_thread(httpx.create_ssl_context)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections, ssl=self._ssl),
                headers={"User-Agent": self.USER_AGENT},
                skip_auto_headers=("Accept-Encoding",))  # Telegram's answers are small JSON
            # HTTPS_PROXY and NO_PROXY, read once as httpx does (aiohttp's trust_env reads the environment
            # and ~/.netrc in a worker thread on every request).
            self._env_proxies = urllib.request.getproxies_environment()
            self._proxy_for.clear()

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: object = DEFAULT_NONE, write_timeout: object = DEFAULT_NONE,
                         connect_timeout: object = DEFAULT_NONE,
                         pool_timeout: object = DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        body: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            body = aiohttp.FormData(fields or {})
            for name, (filename, content, mime_type) in files.items():
                body.add_field(name, content, filename=filename, content_type=mime_type)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        read = _given(read_timeout, self._read_timeout)
        # aiohttp's read timeout runs from the moment the request is on its way (the body is written
        # alongside), so it bounds a stalled upload too; "connect" is waiting for a pooled connection
        # plus opening one.
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect, sock_read=read,
            connect=None if connect is None or pool is None else connect + pool)
        try:
            async with self._session.request(method, url, data=body, timeout=timeout,
                                             proxy=self._proxy(url)) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc

    def _proxy(self, url: str) -> str | None:
        scheme, _, host = url.split("/", 3)[:3]
        origin = f"{scheme}//{host}"
        if origin not in self._proxy_for:
            name = scheme.rstrip(":")
            bypass = urllib.request.proxy_bypass_environment(host.rpartition("@")[2], self._env_proxies)
            self._proxy_for[origin] = None if bypass else self._env_proxies.get(name)
        return self._proxy_for[origin]
