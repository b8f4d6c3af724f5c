"""The staff console in a real browser (Debian's chromium through Playwright): the role walks.

Screenshots of every page go to ``test-artifacts/console/`` (not committed).
"""

from __future__ import annotations

import pytest

from tests.bot.web.conftest import shot, sign_in, web_link

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_jana_signs_in_with_the_link_from_her_chat_using_only_the_keyboard(web, staff_bot, codes, page):
    served, base = web
    link = await web_link(staff_bot, "jana", codes["Jana"])
    await page.goto(base + "/")
    assert "/signin" in page.url
    await shot(page, "signin")
    await page.goto(link)
    await shot(page, "signin-link")
    await page.keyboard.press("Tab")  # skip link
    await page.keyboard.press("Tab")  # the brand
    await page.keyboard.press("Tab")  # the button
    await page.keyboard.press("Enter")
    await page.wait_for_url(base + "/")
    assert await page.get_by_role("heading", level=1).inner_text() == "Schön, dass Sie da sind, Jana Weber"
    await shot(page, "home-jana")

    await page.goto(link)  # the same link again: used up
    assert "funktioniert nicht mehr" in await page.get_by_role("heading", level=1).inner_text()

    await page.goto(base + "/")
    await page.get_by_role("button", name="Abmelden", exact=True).click()
    await page.wait_for_url("**/signin?**")
    assert "Sie sind abgemeldet" in await page.get_by_role("status").inner_text()
    await shot(page, "signed-out")


async def test_the_sign_in_page_in_arabic_reads_right_to_left(web, page):
    served, base = web
    await page.goto(base + "/signin?lang=ar")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    await shot(page, "signin-ar")
    assert sign_in  # imported for the role walks
