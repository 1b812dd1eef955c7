"""The portal's pages meet the standards the issue names, checked in headless Chromium: the same frame on every
public page (owner, navigation, help, contact, privacy, terms, last-updated date) and 0 serious or critical
axe-core violations in both languages; usable at 320 px wide and at 200 % text without sideways scrolling;
the keyboard reaches the skip link first and the focus is visible; forms work as plain posts without
JavaScript; and what a cheap phone downloads, read from the browser's own network log (bytes over the wire)."""

from __future__ import annotations

import httpx
import pytest

from .browser import check_page, new_context

pytestmark = pytest.mark.stack
PUBLIC = (
    "/",
    "/login",
    "/why-no-otp",
    "/officer",
    "/help",
    "/contact",
    "/privacy",
    "/terms",
    "/accessibility",
    "/feedback",
    "/sitemap",
)


@pytest.mark.parametrize("lang", ["hi", "en"])
async def test_every_public_page_has_the_same_frame_and_passes_axe(stack, browser, lang):
    context = await new_context(browser, stack, lang=lang)
    page = await context.new_page()
    for path in PUBLIC:
        await page.goto(path)
        await check_page(page, f"page{path.replace('/', '-') or '-home'}-{lang}" if lang == "hi" else None)
        assert await page.get_attribute("html", "lang") == lang
        for link in ("/help", "/contact", "/privacy", "/terms"):
            assert await page.locator(f"footer a[href='{link}']").count() == 1, path
        assert await page.locator("header .owner").count() == 1
        assert (
            await page.locator("footer").get_by_text("2026").count()
            + await page.locator("footer").get_by_text("2027").count()
            >= 1
        )  # the last-updated date
    await context.close()


async def test_usable_at_320_px_and_at_200_percent_text(stack, browser):
    context = await new_context(browser, stack, viewport={"width": 320, "height": 640})
    page = await context.new_page()
    for path in ("/", "/login", "/why-no-otp", "/help"):
        await page.goto(path)
        for zoom in ("100%", "200%"):
            await page.evaluate(f"document.documentElement.style.fontSize = '{zoom}'")
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} at {zoom} text scrolls sideways by {overflow}px"
    await context.close()


async def test_the_keyboard_reaches_the_skip_link_first_with_a_visible_focus(stack, browser):
    context = await new_context(browser, stack)
    page = await context.new_page()
    await page.goto("/login")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.className")
    assert focused == "skip"
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    await page.keyboard.press("Enter")
    assert await page.evaluate("location.hash") == "#main"
    await context.close()


async def test_forms_work_as_plain_posts_without_javascript(stack, browser, master):
    context = await browser.new_context(java_script_enabled=False, base_url=stack.portal_url)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#f-mobile", "12")
    await page.click("main form[action='/login'] button")
    assert await page.locator("#e-mobile").count() == 1 and await page.input_value("#f-mobile") == "12"
    employee = next(e for e in master.employees if e.fault == "ppp_mismatch")
    await page.goto("/why-no-otp")
    await page.fill("#f-family_id", employee.master["family_id"])
    await page.fill("#f-date_of_birth", str(employee.ppp["date_of_birth"]))
    await page.fill("#f-mobile", employee.actual_mobile)
    await page.click("main form[action='/why-no-otp'] button")
    assert await page.locator(".cause[data-cause=ppp_mismatch]").count() == 1
    await context.close()


async def test_a_post_from_another_site_is_refused(stack):
    async with httpx.AsyncClient(base_url=stack.portal_url) as http:
        r = await http.post("/login", data={"mobile": "9876543210"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "<html" in r.text


async def test_what_a_phone_downloads_first_and_after(stack, browser):
    """Bytes over the wire as the browser counts them (CDP Network.loadingFinished encodedDataLength): the
    first visit in Hindi with its fonts, then the next page with everything cached."""
    context = await new_context(browser, stack)
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    received: list[float] = []
    cdp.on("Network.loadingFinished", lambda e: received.append(e["encodedDataLength"]))
    await page.goto("/login", wait_until="networkidle")
    first = sum(received)
    received.clear()
    await page.goto("/why-no-otp", wait_until="networkidle")
    after = sum(received)
    print(f"\nportal weight: first load {first / 1024:.1f} KB, next page {after / 1024:.1f} KB")
    assert first < 150 * 1024, f"first load {first / 1024:.1f} KB"
    assert after < 30 * 1024, f"next page {after / 1024:.1f} KB"
    await context.close()
