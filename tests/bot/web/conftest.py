"""Fixtures for the web tests: the application served on 127.0.0.1, chats on the served app, and one
Debian chromium per test session (screenshots of every page land in ``test-artifacts/console/``)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import App
from tests.support.harness import Bot
from tests.support.web import Browser, chromium_args, chromium_path, serving

LINK = re.compile(r"https?://\S+/signin/[\w-]+")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "console"


@pytest.fixture
def web(app: App) -> Iterator[tuple[App, str]]:
    """The served app (its PUBLIC_BASE_URL is the server) and the base URL."""
    with serving(app) as served:
        yield served


@pytest.fixture
def staff_bot(web: tuple[App, str]) -> Bot:
    """Chats on the served app, so links in messages point at the test server."""
    return Bot(web[0])


def link_in(texts: list[str]) -> str:
    found = [m.group() for t in texts for m in [LINK.search(t)] if m]
    assert found, f"no sign-in link in {texts}"
    return found[-1]


def signed_in(staff_bot: Bot, base: str, address: str, code: str) -> Browser:
    """A browser signed in as the person whose invite ``code`` is linked to chat ``address``."""
    chat = staff_bot.link(address, code)
    browser = Browser(base)
    browser.sign_in(link_in(chat.say("/web")))
    return browser


# --- the real browser: Debian's chromium through Playwright, one per test session ---------------------------
@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium():  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright

    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (.ci/run installs it with apt-get)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=chromium_args())
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium, request):  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) and page, laptop-sized; German first, as staff see it."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    tab = await context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    await context.close()


async def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """A full-page screenshot as a test artifact (not committed): look at them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def web_link(staff_bot: Bot, address: str, code: str | None = None) -> str:
    """The sign-in link the person gets for ``/web`` in her chat (linking the chat first if a code is given)."""
    chat = await asyncio.to_thread(staff_bot.link, address, code) if code else staff_bot.chat(address)
    return link_in(await asyncio.to_thread(chat.say, "/web"))


async def sign_in(page, link: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(link)
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url(lambda url: url.endswith("/") or "/signin" not in url)
