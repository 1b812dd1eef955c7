"""The portal in a real browser: Debian's Chromium driven by Playwright through executable_path (never
`playwright install`), axe-core from npm injected into each page checked, screenshots kept as artefacts."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from deploy.local.oidc import officer_claims
from deploy.local.synthetic import seeded_officers

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "deploy/portal/node_modules/axe-core/axe.min.js"
ARTEFACTS = ROOT / "var/test-artefacts/portal"
PHONE: ViewportSize = {"width": 360, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


async def new_context(browser: Browser, stack, viewport=PHONE, lang: str | None = None) -> BrowserContext:
    # bypass_csp: only so that the test can inject axe-core; the page's own policy is checked on its own
    context = await browser.new_context(viewport=viewport, bypass_csp=True, base_url=stack.portal_url)
    if lang:
        await context.add_cookies([{"name": "seva_lang", "value": lang, "url": stack.portal_url}])
    return context


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every violation axe-core finds on the page as it stands (WCAG 2.1 A and AA, and its best practices:
    `region`, content outside every landmark, is one of them), whatever its impact."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=AXE.read_text())
    found = await page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    return found


async def check_page(page: Page, name: str | None = None) -> None:
    """Each page the tests visit: no accessibility violation of any impact, `lang` set, a skip link, one
    h1, nothing wider than the screen; a screenshot at phone and desktop width when named."""
    violations = await axe_violations(page)
    assert violations == [], f"{page.url}: {json.dumps(violations, ensure_ascii=False)}"
    assert await page.get_attribute("html", "lang") in ("hi", "en")
    assert await page.locator("a.skip[href='#main']").count() == 1
    assert await page.locator("h1").count() == 1, page.url
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{page.url} scrolls sideways by {overflow}px"
    if name:
        await screenshots(page, name)


async def screenshots(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("360", PHONE), ("1280", DESKTOP)):
        await page.set_viewport_size(viewport)
        await page.screenshot(path=str(ARTEFACTS / f"{name}-{label}.png"), full_page=True)
    if size:
        await page.set_viewport_size(size)


async def officer_page(browser: Browser, stack, officer_id: str, lang: str = "en") -> Page:
    """An officer signs in at the identity provider's login page (the local one asks for the officer's id and
    the claims the state's provider would hold for them) and lands on their desk."""
    officer = next(o for o in seeded_officers() if o["officer_id"] == officer_id)
    context = await new_context(browser, stack, DESKTOP, lang)
    page = await context.new_page()
    await page.goto("/officer")
    await page.click("a[href='/officer/login']")
    await page.fill("input[name=username]", officer_id)
    await page.fill("textarea[name=claims]", json.dumps(officer_claims(officer)))
    await page.click("input[type=submit]")
    await page.wait_for_url("**/desk/**")
    return page


async def reload_until(page: Page, url: str, selector: str, timeout: float = 60) -> None:
    """The pipeline crosses Kafka and Temporal asynchronously: reload the page until the row appears."""
    deadline = time.monotonic() + timeout
    while True:
        await page.goto(url)
        if await page.locator(selector).count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} not on {url} in {timeout}s")
        await asyncio.sleep(0.5)
