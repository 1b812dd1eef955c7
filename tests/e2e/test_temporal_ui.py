"""The standalone Temporal UI, signed in (deploy/local/stack.py `_start_temporal_ui`, `make temporal-ui`), in
headless Chromium: an operations officer signs in at the identity provider and reads a case's input in clear
through the codec server; a DDO signed in the same way reads ciphertext, and the codec server logs the refusal.
Nobody reads the UI without signing in."""

from __future__ import annotations

import json
import time

import pytest
from playwright.async_api import Page

from contract import case_workflow_id
from deploy.local import oidc

from .browser import ARTEFACTS, DESKTOP
from .conftest import SEASON

pytestmark = pytest.mark.stack

SHOTS = ARTEFACTS.parent / "temporal-ui"  # docs/images/temporal-ui-ops.png is a copy of one


async def _signed_in(browser, stack, officer_id: str, role: str, scope: dict[str, str], url: str) -> Page:
    """Open a case in the UI: redirected to the provider's login page, sign in with the officer's claims."""
    # the codec's local certificate is the stack's own (deploy/local/tls_proxy.py): not one the browser knows
    context = await browser.new_context(viewport=DESKTOP, ignore_https_errors=True)
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_selector("input[name=username]", timeout=30_000)  # not the UI: the provider's sign-in
    assert page.url.startswith(stack.oidc_issuer)
    claims = {"sub": officer_id, "aud": [oidc.AUDIENCE, oidc.TEMPORAL_UI_CLIENT], "role": role, "seva_scope": scope}
    await page.fill("input[name=username]", officer_id)
    await page.fill("textarea[name=claims]", json.dumps(claims))
    await page.click("input[type=submit]")
    await page.wait_for_url(f"{stack.temporal_ui_url}/**", timeout=30_000)
    return page


async def _input_text(page: Page, url: str, wait_for: str | None, timeout: float = 45) -> str:
    """The case page's text once its input has loaded (the UI decodes through the codec as the page renders)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        await page.goto(url)
        await page.wait_for_timeout(2500)
        text = await page.inner_text("body")
        if wait_for is None or wait_for in text:
            return text
    return text


async def test_ops_read_a_case_in_clear_and_a_ddo_reads_ciphertext(stack, master, browser):
    employee = master.employees[3]
    employee_id, ddo_code = employee.master["employee_id"], employee.master["ddo_code"]
    url = f"{stack.temporal_ui_url}/namespaces/default/workflows/{case_workflow_id(employee_id, SEASON)}"

    ops = await _signed_in(browser, stack, "OPS-1", "ops", {}, url)
    # the input's fields read only once decoded (the id is in the workflow's id anyway)
    text = await _input_text(ops, url, "employee_group")
    assert "employee_group" in text and employee.master["district"] in text, text[:2000]
    SHOTS.mkdir(parents=True, exist_ok=True)
    await ops.screenshot(path=str(SHOTS / "temporal-ui-ops.png"), full_page=False)

    codec_log = stack.logs / "verification.log"
    refusals_before = codec_log.read_text().count("denied")
    ddo = await _signed_in(browser, stack, f"OFF-{ddo_code}", "ddo", {"ddo_code": ddo_code}, url)
    text = await _input_text(ddo, url, None)
    assert case_workflow_id(employee_id, SEASON) in text  # the case's page, its id (no personal data) shown
    assert "employee_group" not in text, "a DDO read the sealed input"
    assert codec_log.read_text().count("denied") > refusals_before, "the codec server's refusal was not logged"
