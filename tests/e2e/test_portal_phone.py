"""A first-time employee on a slow phone, alone, in Hindi: headless Chromium at 360 px with the network held to
400 kbps each way and 400 ms of latency and the CPU slowed four times (Chrome's own throttling, over CDP), against
the real stack. On every step: the language switch there and back, a refresh, Back and Forward, and never an
error page; every page read in Hindi has no Latin word outside ids and a short list. On the way: a wrong OTP, a
file chosen but not sent, a 6 MB camera photo (made smaller in the browser), the review, the receipt and the
dashboard. The time the photo took to upload is written beside the screenshots."""

from __future__ import annotations

import io
import json
import re
import time

import pytest
from PIL import Image
from playwright.async_api import Page

from deploy.local.journey import TINY_PDF

from .browser import ARTEFACTS, PHONE, check_page
from .conftest import aadhaar_for, eventually
from .helpers import otps_delivered, read_otp

pytestmark = pytest.mark.stack

KBPS_400 = 400 * 1000 / 8  # bytes per second
# Latin words a Hindi page may carry: names of things that have no Hindi form people use, and units
ALLOWED_LATIN = {"OTP", "DDO", "PAN", "PDF", "JPEG", "PNG", "KB", "MB", "SMS", "HoD", "ID", "QR"}
# the employers' own names as employees know them (Haryana Kaushal Rozgar Nigam, HARTRON), and the mask of a number
ALLOWED_LATIN |= {"HKRN", "HARTRON", "XXXX"}
# an office's reference (DDO-HEALTH-HISAR): an id, as an application number is
OFFICE_REF = re.compile(r"^DDO-[A-Z-]+$")


def camera_photo(at_least: int = 6 * 1024 * 1024) -> bytes:
    """A JPEG the size a phone camera makes of a certificate (4000 x 3000, over 6 MB): paper-coloured with a
    grain that compresses as badly as a real photo's."""
    import random

    rng = random.Random(25)
    noise = bytes(rng.getrandbits(8) for _ in range(1000 * 750 * 3))
    grain = Image.frombytes("RGB", (1000, 750), noise).resize((4000, 3000), Image.Resampling.NEAREST)
    paper = Image.new("RGB", (4000, 3000), (236, 228, 210))
    photo = Image.blend(paper, grain, 0.35)
    for quality in (90, 95, 98):
        out = io.BytesIO()
        photo.save(out, "JPEG", quality=quality)
        if out.tell() >= at_least:
            return out.getvalue()
    raise AssertionError(f"the photo came to {out.tell()} bytes, under {at_least}")


async def slow_phone(page: Page) -> None:
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": KBPS_400, "uploadThroughput": KBPS_400},
    )
    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})


async def latin_words(page: Page, allowed: set[str]) -> list[str]:
    """Words in Latin letters on the page outside what is marked English (the switch to English is), ids
    (anything with a digit), the allowed list and the employee's own particulars."""
    words: list[str] = await page.evaluate(
        """() => {
          const out = [];
          const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walk.nextNode()) {
            const node = walk.currentNode, el = node.parentElement;
            if (!el || el.closest("script, style, [lang=en], [hidden]")) continue;
            if (el.offsetParent === null && getComputedStyle(el).position !== "fixed") continue;
            out.push(...(node.textContent.match(/[A-Za-z][A-Za-z0-9'._-]*/g) || []));
          }
          return out;
        }"""
    )
    return sorted(
        {w for w in words if w not in allowed and not any(c.isdigit() for c in w) and not OFFICE_REF.match(w)}
    )


class Journey:
    """The steps' common checks, and what each found."""

    def __init__(self, page: Page, allowed: set[str]) -> None:
        self.page, self.allowed = page, allowed
        self.english: dict[str, list[str]] = {}

    async def no_error(self, where: str) -> None:
        """Not the portal's error page (its h1 says something went wrong) nor Chrome's (no portal frame)."""
        h1 = await self.page.inner_text("h1")
        assert h1 not in ("कुछ गलत हुआ", "Something went wrong"), f"{where}: {self.page.url}"
        assert await self.page.locator("a.skip[href='#main']").count() == 1, f"{where}: not a portal page"

    async def step(self, name: str) -> None:
        """On a page in Hindi: no error, no English, axe clean; then the switch, refresh, Back and Forward."""
        page = self.page
        url = page.url
        await self.no_error(name)
        assert await page.get_attribute("html", "lang") == "hi", name
        found = await latin_words(page, self.allowed)
        if found:
            self.english[name] = found
        await check_page(page, f"phone-{name}")
        await page.click("a.lang-switch")
        assert await page.get_attribute("html", "lang") == "en", name
        await self.no_error(f"{name} in English")
        assert page.url.split("#")[0].split("?")[0] == url.split("#")[0].split("?")[0], name
        await page.click("a.lang-switch")
        assert await page.get_attribute("html", "lang") == "hi", name
        await page.reload()
        await self.no_error(f"{name} refreshed")
        await page.go_back()
        await self.no_error(f"{name} Back")
        await page.go_forward()
        await self.no_error(f"{name} Forward")
        assert page.url.split("?")[0] == url.split("?")[0], f"{name}: Forward came to {page.url}"


async def test_a_first_time_employee_on_a_slow_phone_gets_through_alone_in_hindi(
    stack, master, http, browser, tmp_path
):
    employee = [e for e in master.employees if e.fault is None][25]  # one no other test uses
    m = employee.master
    context = await browser.new_context(viewport=PHONE, bypass_csp=True, base_url=stack.portal_url)
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await slow_phone(page)
    journey = Journey(page, ALLOWED_LATIN | set(" ".join([m["name"], m["father_name"]]).split()))

    await page.goto("/")
    await journey.step("home")
    await page.goto("/login")
    await journey.step("login")

    # sign in: the code page is a page of its own (switch, refresh, Back); a wrong code says the tries left
    before = await otps_delivered(stack, http, employee.actual_mobile)
    await page.fill("#f-mobile", employee.actual_mobile)
    await page.click("main form[action='/login'] button")
    await page.wait_for_url("**/login/code**")
    code = await read_otp(stack, http, employee.actual_mobile, after=before)
    await journey.step("otp-code")
    assert await otps_delivered(stack, http, employee.actual_mobile) == before + 1  # no second OTP by a refresh
    await page.fill("#f-code", "000000" if code != "000000" else "111111")
    await page.click("main form[action='/login/verify'] button")
    assert "प्रयास" in await page.inner_text("#e-code")
    await journey.step("otp-wrong")
    await page.fill("#f-code", code)
    await page.click("main form[action='/login/verify'] button")
    await page.wait_for_url("**/me")
    await journey.step("dashboard-before")

    # 1. details
    await page.goto("/apply")
    await journey.step("details")
    await page.fill("#f-aadhaar_number", aadhaar_for(m["employee_id"]))
    await page.fill("#f-pan", "ABCPE1234F")
    await page.click("main form[action='/apply/identity'] button")
    await page.wait_for_url("**/apply/documents**")
    await journey.step("documents")

    # 2. documents: a file chosen but not sent is named when the employee presses Continue
    photo = tmp_path / "certificate.jpg"
    photo.write_bytes(camera_photo())
    await page.set_input_files("#f-family_id", str(photo))
    await page.click("#documents-continue")
    unsent = page.locator("#unsent")
    assert await unsent.is_visible() and "परिवार पहचान पत्र" in await unsent.inner_text()
    assert "/apply/documents" in page.url
    # the 6 MB photo: made smaller in the browser, sent with its progress shown, marked done
    started = time.monotonic()
    await page.click("#doc-family_id button")
    await page.wait_for_selector("#doc-family_id .upload-progress:not([hidden])")
    await page.wait_for_selector("#doc-family_id.done .tick", timeout=300_000)
    photo_seconds = time.monotonic() - started
    assert "JPEG" in await page.inner_text("#doc-family_id .hint")
    assert await page.locator("#doc-family_id [role=status]").is_visible()  # the notice is where the eye is
    pdf = tmp_path / "document.pdf"
    pdf.write_bytes(TINY_PDF)
    for kind in ("aadhaar", "pan", "appointment_letter", "experience_certificate", "bank_passbook"):
        await page.set_input_files(f"#f-{kind}", str(pdf))
        await page.click(f"#doc-{kind} button")
        await page.wait_for_selector(f"#doc-{kind}.done .tick")
    await journey.step("documents-done")

    # 3. post and office; 4. the review, a page of its own
    await page.click("#documents-continue")
    await page.wait_for_url("**/apply/form**")
    await journey.step("form")
    await page.click("main form[action='/apply/review'] button")
    await page.wait_for_url("**/apply/review")
    await journey.step("review")
    await page.check("#f-confirm")
    await page.click("main form[action='/apply/submit'] button[type=submit]")
    await page.wait_for_url("**/apply/receipt**")
    application_no = (await page.inner_text(".application-no")).strip()
    await journey.step("receipt")
    pdf = await page.request.get(f"/apply/receipt.pdf?no={application_no}")
    assert pdf.status == 200 and (await pdf.body()).startswith(b"%PDF")

    async def receipt_sms():
        r = await http.get(f"{stack.url('otp')}/dev/sms", params={"mobile": employee.actual_mobile})
        return [m for m in r.json() if m["template"] == "application_received" and application_no in m["body"]]

    assert len(await eventually(receipt_sms, what="the SMS with the application number")) == 1
    await page.goto("/me")
    await journey.step("dashboard-after")

    report = {
        "photo_bytes": photo.stat().st_size,
        "photo_upload_seconds": round(photo_seconds, 1),
        "network": "400 kbps up and down, 400 ms latency, CPU x4, 360 px",
        "latin_words_by_page": journey.english,
    }
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "phone-journey.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"\nphone journey: {json.dumps(report, ensure_ascii=False)}")
    assert journey.english == {}, f"English on Hindi pages: {journey.english}"
    await context.close()


async def test_the_latin_scan_catches_an_english_sentence_and_lets_ids_through(browser):
    page = await browser.new_page()
    await page.set_content(
        '<html lang="hi"><body><p>आवेदन SS-HIS-0000012 OTP DDO Submitted</p><a lang="en">English</a>'
        "<p hidden>Hidden</p></body></html>"
    )
    assert await latin_words(page, ALLOWED_LATIN) == ["Submitted"]
    await page.close()
