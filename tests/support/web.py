"""The web application on 127.0.0.1 in a thread of its own, a small HTTP client, and Debian's chromium.

The server runs :func:`bot.web.make_app` on its own event loop, so a test stays synchronous: it can chat
through the harness (which runs its own loops), press buttons in the browser, and read the database.
Playwright's own browser download does not work here; Debian's ``chromium`` package does.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
from aiohttp import web

from bot.app import App
from conversations.engine import Engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: App, port: int | None = None) -> Iterator[tuple[App, str]]:
    """Serve the web application for ``app`` (on ``port``, or a free one); yields the app (its PUBLIC_BASE_URL
    pointing here) and the URL."""
    from bot.web import make_app

    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    settings = replace(app.settings, public_base_url=base, http_listen=f"127.0.0.1:{port}")
    services = replace(app.services, settings=settings)
    served = App(settings=settings, db=app.db, services=services, engine=Engine(services))
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner: web.AppRunner | None = None

    async def start() -> None:
        nonlocal runner
        runner = web.AppRunner(make_app(served), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert ready.wait(10), "the web application did not start"
    try:
        yield served, base
    finally:
        assert runner is not None
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


CSRF = re.compile(r'action="([^"]+)"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"')


class Browser:
    """A plain HTTP client that keeps cookies and reads the CSRF token of a page's forms."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=10)
        self.last = ""

    def get(self, path: str) -> httpx.Response:
        response = self.http.get(path)
        self.last = response.text
        return response

    def csrf(self, action: str, html: str | None = None) -> str:
        forms = dict(CSRF.findall(html if html is not None else self.last))
        assert action in forms, f"no form for {action} on the page"
        return forms[action]

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: str | None = "page") -> httpx.Response:
        """POST a form; ``csrf="page"`` takes the token from the last page, None sends none."""
        form = dict(data or {})
        if csrf == "page":
            form["csrf"] = self.csrf(path)
        elif csrf is not None:
            form["csrf"] = csrf
        response = self.http.post(path, data=form)
        self.last = response.text
        return response

    def sign_in(self, link: str) -> httpx.Response:
        path = link.removeprefix(self.base)
        assert self.get(path).status_code == 200
        response = self.post(path)
        assert response.status_code == 303 and response.headers["location"] == "/", response.text[:500]
        return response


def chromium_args() -> list[str]:
    args = ["--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # chromium refuses to sandbox as root
    return args


def chromium_path() -> str | None:
    return shutil.which("chromium")
