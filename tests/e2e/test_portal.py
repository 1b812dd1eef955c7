"""The portal end to end in headless Chromium against the real stack: an employee from OTP to receipt to
order in Hindi; the no-OTP remedy from the employee's page through the DDO's certificate and the data owner's
correction; a DDO returning with remarks and the employee resubmitting; a bulk verify; an extension visible on
the dashboard at once. Every page visited is checked with axe-core; screenshots are kept as artefacts."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any

import pypdf
import pytest

from contract import IST
from deploy.local.journey import TINY_PDF, application_form

from .browser import PHONE, check_page, new_context, officer_page, reload_until
from .conftest import aadhaar_for, eventually, prepare_application
from .helpers import employee_session, officer_headers, otps_delivered, read_otp

pytestmark = pytest.mark.stack


def healthy(master):
    return [e for e in master.employees if e.fault is None]


async def employee_signs_in(page, stack, http, employee, db=None) -> None:
    mobile = employee.actual_mobile
    if db is not None:  # an OTP went to this number less than a minute ago (by the API): past the 60 s gap
        await db.execute("DELETE FROM otp.send_log WHERE mobile = $1", mobile)
    before = await otps_delivered(stack, http, mobile)
    await page.goto("/login")
    await page.fill("#f-mobile", mobile)
    await page.click("main form[action='/login'] button")
    await page.wait_for_selector("#f-code")
    code = await read_otp(stack, http, mobile, after=before)
    await page.fill("#f-code", code)
    await page.click("main form[action='/login/verify'] button")
    await page.wait_for_url("**/me")


async def test_an_employee_goes_from_otp_to_receipt_to_order_in_hindi(stack, master, http, browser, tmp_path):
    employee = healthy(master)[36]
    m = employee.master
    context = await new_context(browser, stack)
    page = await context.new_page()
    await page.goto("/")
    assert await page.get_attribute("html", "lang") == "hi"  # Hindi by default
    await check_page(page, "home")
    await page.goto("/login")
    await check_page(page, "login")

    await employee_signs_in(page, stack, http, employee)
    assert "आपके आवेदन की प्रतीक्षा" in await page.inner_text("main")
    await check_page(page, "dashboard-before")

    # 1. details: Family ID beside the service record, then Aadhaar and PAN
    await page.click("main a[href='/apply']")
    assert await page.locator("table.compare tr[data-field=name]").count() == 1
    await check_page(page, "apply-details")
    await page.fill("#f-aadhaar_number", "1234")  # wrong: refused beside the field, the PAN kept
    await page.fill("#f-pan", "ABCPE1234F")
    await page.click("main form[action='/apply/identity'] button")
    assert await page.locator("#e-aadhaar_number").count() == 1
    assert await page.input_value("#f-pan") == "ABCPE1234F"
    assert await page.get_attribute("#f-aadhaar_number", "aria-invalid") == "true"
    await check_page(page)
    await page.fill("#f-aadhaar_number", aadhaar_for(m["employee_id"]))
    await page.click("main form[action='/apply/identity'] button")
    await page.wait_for_url("**/apply/documents**")

    # 2. documents: a file that is not a PDF, JPEG or PNG is explained beside its field, before it is sent (the
    # page's script; without it the portal refuses it the same way); then the six uploads
    bad = tmp_path / "notes.txt"
    bad.write_text("not a document")
    await page.set_input_files("#f-family_id", str(bad))
    await page.click("#doc-family_id button")
    assert await page.locator("#doc-family_id .upload-status.error").count() == 1
    await check_page(page, "apply-documents-refused")
    pdf = tmp_path / "document.pdf"
    pdf.write_bytes(TINY_PDF)
    for kind in ("family_id", "aadhaar", "pan", "appointment_letter", "experience_certificate", "bank_passbook"):
        await page.set_input_files(f"#f-{kind}", str(pdf))
        await page.click(f"#doc-{kind} button")
        await page.wait_for_selector(f"#doc-{kind} .hint:has-text('PDF')")
    await check_page(page, "apply-documents")

    # 3. post and office, pre-filled from the service record; 4. the review before the binding submit
    await page.goto("/apply/form")
    assert await page.input_value("#f-ddo_code") == m["ddo_code"]
    await check_page(page, "apply-form")
    await page.click("main form[action='/apply/review'] button")
    await page.wait_for_selector("#f-confirm")
    await check_page(page, "apply-review")
    await page.click("main form[action='/apply/submit'] button[type=submit]")  # without the confirmation
    assert await page.locator("#e-confirm").count() == 1
    await page.check("#f-confirm")
    await page.click("main form[action='/apply/submit'] button[type=submit]")
    await page.wait_for_url("**/apply/receipt**")
    application_no = (await page.inner_text(".application-no")).strip()
    assert re.fullmatch(r"SS-[A-Z0-9]+-\d{7}", application_no)
    await check_page(page, "receipt")

    # the DDO verifies, Finance creates the post, the HoD approves, each at their desk in the portal
    ddo = await officer_page(browser, stack, f"OFF-{m['ddo_code']}")
    await reload_until(ddo, "/desk/queue", f"tr[data-application='{application_no}']")
    await check_page(ddo, "ddo-queue")
    await ddo.click(f"a[href='/desk/applications/{application_no}']")
    await check_page(ddo, "ddo-review")
    record = await ddo.inner_text("section[aria-labelledby=h-record]")  # the record beside the documents
    assert m["name"] in record and m["father_name"] in record
    other = next(e.master["ddo_code"] for e in master.employees if e.master["ddo_code"] != m["ddo_code"])
    refused = await http.get(
        f"{stack.url('otp')}/master/employees/{m['employee_id']}/record",
        headers=await officer_headers(stack, http, f"OFF-{other}"),
    )
    assert refused.status_code == 404 and refused.json()["code"] == "record_not_found"
    await ddo.check("#c-verify")  # a verification is confirmed, not one click
    await ddo.click("form:has(input[value=verified]) button")
    await ddo.wait_for_url("**decided=verified")
    finance = await officer_page(browser, stack, "FIN-1")
    await reload_until(finance, "/desk/posts", f"input[value='{application_no}']")
    await check_page(finance, "finance-posts")
    await finance.check(f"input[value='{application_no}']")
    await finance.click("main form[action='/desk/posts'] button")
    assert "अधिसंख्य पद बने" in await finance.inner_text("main") or "posts created" in await finance.inner_text("main")
    hod = await officer_page(browser, stack, f"HOD-{m['department_code']}")
    await reload_until(hod, "/desk/approvals", f"input[value='{application_no}']")
    await check_page(hod, "hod-approvals")
    await hod.check(f"input[value='{application_no}']")
    await hod.click("main form[action='/desk/approvals'] button")
    assert "✓" in await hod.inner_text("table.bulk-result")

    # the order reaches the employee's dashboard, in Hindi, and the PDF opens
    await reload_until(page, "/me", "a[href='/me/order.pdf']", timeout=90)
    assert "सेवा सुरक्षा आदेश जारी" in await page.inner_text("main")
    await check_page(page, "dashboard-order")
    r = await page.request.get("/me/order.pdf")
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(await r.body())).pages)  # ids are Latin
    assert m["employee_id"] in text
    await context.close()


async def test_the_no_otp_remedy_from_the_employees_page_to_registration(stack, master, http, browser, db):
    employee = [e for e in master.employees if e.fault == "wrong_mobile"][-1]
    m = employee.master
    context = await new_context(browser, stack)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#f-mobile", employee.actual_mobile)
    await page.click("main form[action='/login'] button")
    await page.wait_for_selector("#f-code")  # the same answer as for any number: nothing is given away
    await page.click("main a[href^='/why-no-otp']")
    assert await page.input_value("#f-mobile") == employee.actual_mobile
    await check_page(page, "why-no-otp")

    async def ask() -> str:
        await page.goto(f"/why-no-otp?mobile={employee.actual_mobile}")
        await page.fill("#f-family_id", m["family_id"])
        await page.fill("#f-date_of_birth", str(employee.ppp["date_of_birth"]))
        await page.click("main form[action='/why-no-otp'] button")
        await page.wait_for_selector(".answer")
        return await page.inner_text("main")

    answer = await ask()
    assert await page.locator(".cause[data-cause=record_has_different_mobile]").count() == 1
    assert "सत्यापन प्रमाणपत्र" in answer  # what to do, in Hindi: the DDO's certificate
    assert await page.locator(".progress li.waiting[data-step=certificate]").count() == 1
    await check_page(page, "why-no-otp-answer")

    ddo = await officer_page(browser, stack, f"OFF-{m['ddo_code']}")
    await ddo.goto("/desk/certificates")
    await check_page(ddo, "ddo-certificates")
    await ddo.fill("#f-employee_id", m["employee_id"])
    await ddo.fill("#f-remarks", f"new mobile {employee.actual_mobile}")
    await ddo.click("main form button")  # without the three attestations: refused, what was typed kept
    assert await ddo.locator("#e-genuine").count() == 1
    assert await ddo.input_value("#f-employee_id") == m["employee_id"]
    for box in ("genuine", "record", "head"):
        await ddo.check(f"#f-{box}")
    await ddo.click("main form button")
    await ddo.wait_for_url("**issued=**")

    await eventually(
        lambda: _progress_done(page, ask, "certificate"), what="the certificate in the employee's progress"
    )
    owner = await officer_page(browser, stack, f"DATA-{m['data_owner']}")
    await reload_until(owner, "/desk/corrections", f"h2:has-text('{m['employee_id']}')")
    await check_page(owner, "data-owner-corrections")
    card = owner.locator("section.card", has=owner.locator(f"h2:has-text('{m['employee_id']}')"))
    await card.locator("select[name=field]").select_option("mobile")
    await card.locator("input[name=value]").fill(employee.actual_mobile)
    await card.locator("input[name=reason]").fill("DDO certificate: the employee's new number")
    await card.locator("button").click()
    await owner.wait_for_url("**done=**")

    await eventually(lambda: _progress_done(page, ask, "correction"), what="the correction in the progress")
    assert await page.locator("main a.button[href='/login']").count() == 1  # "request an OTP now"
    await employee_signs_in(page, stack, http, employee, db)
    assert "/me" in page.url


async def _progress_done(page, ask, step: str) -> bool:
    await ask()
    return await page.locator(f".progress li.done[data-step={step}]").count() == 1


async def _submitted_by_api(stack, http, employee) -> str:
    auth = await employee_session(stack, http, employee)
    await prepare_application(stack, http, auth, employee.master["employee_id"])
    r = await http.post(
        f"{stack.url('applications')}/applications", json=application_form(employee.master), headers=auth
    )
    assert r.status_code == 201, r.text
    return r.json()["application_no"]


async def test_a_ddo_returns_with_remarks_and_the_employee_resubmits(stack, master, http, browser, db):
    employee = healthy(master)[37]
    m = employee.master
    application_no = await _submitted_by_api(stack, http, employee)
    ddo = await officer_page(browser, stack, f"OFF-{m['ddo_code']}", lang="hi")
    await reload_until(ddo, f"/desk/applications/{application_no}", "form:has(input[value=returned])")
    form = ddo.locator("form:has(input[value=returned])")
    await form.locator("button").click()  # a return without a remark is refused, in words
    assert await ddo.locator("#e-remarks").count() == 1
    await ddo.locator("#r-date_of_joining").fill("नियुक्ति पत्र से तिथि मिलाएँ")
    await ddo.select_option("#rs-pan", "illegible")  # a standard remark: the employee reads it in their language
    await ddo.locator("form:has(input[value=returned]) button").click()
    await ddo.wait_for_url("**decided=returned")

    context = await new_context(browser, stack)
    page = await context.new_page()
    await employee_signs_in(page, stack, http, employee, db)
    await reload_until(page, "/me", "a[href='/apply/form']")
    assert "नियुक्ति पत्र से तिथि मिलाएँ" in await page.inner_text("main")
    assert "दस्तावेज़ पढ़ा नहीं जा सकता" in await page.inner_text("main") and "[[" not in await page.inner_text("main")
    await check_page(page, "dashboard-returned")
    await page.goto("/me?lang=en")
    assert "The document cannot be read" in await page.inner_text("main")
    await page.goto("/me?lang=hi")
    await page.click("main a[href='/apply/form']")
    await page.click("main form[action='/apply/review'] button")
    await page.check("#f-confirm")
    await page.click("main form[action='/apply/submit'] button[type=submit]")
    await page.wait_for_url("**resubmitted=1**")
    assert application_no in await page.inner_text("main")
    await reload_until(ddo, f"/desk/applications/{application_no}", "form:has(input[value=verified])")
    await context.close()


async def test_a_bulk_verify_reports_each_item(stack, master, http, browser):
    by_ddo: dict[str, list[Any]] = {}
    for e in healthy(master)[38:]:
        by_ddo.setdefault(e.master["ddo_code"], []).append(e)
    group = max(by_ddo.values(), key=len)
    employees = group[:2] if len(group) >= 2 else group
    numbers = [await _submitted_by_api(stack, http, e) for e in employees]
    ddo = await officer_page(browser, stack, f"OFF-{employees[0].master['ddo_code']}")
    for no in numbers:
        await reload_until(ddo, "/desk/queue", f"tr[data-application='{no}']")
    for no in numbers:
        await ddo.check(f"input[name=application_no][value='{no}']")
    await ddo.check("#c-bulk")
    await ddo.click("main form[action='/desk/queue/verify'] button[type=submit]")
    rows = ddo.locator("table.bulk-result tbody tr.ok")
    assert await rows.count() == len(numbers)
    await check_page(ddo, "ddo-bulk-verify")


async def test_an_extension_shows_on_the_dashboard_at_once(stack, master, http, browser, db):
    employee = healthy(master)[42]
    await _submitted_by_api(stack, http, employee)
    context = await new_context(browser, stack, PHONE, "en")
    page = await context.new_page()
    await employee_signs_in(page, stack, http, employee, db)
    await reload_until(page, "/me", "[data-stage=awaiting_ddo_verification]")
    before = datetime.fromisoformat(await page.get_attribute(".deadline", "data-deadline") or "")

    admin = await officer_page(browser, stack, "ADMIN-HR")
    await admin.goto("/desk/calendar")
    await check_page(admin, "admin-calendar")
    await admin.select_option("#f-step", "ddo_verification")
    await admin.fill("#f-new_deadline", "2001-01-01T10:00")  # in the past: refused in words beside the field
    await admin.fill("#f-reason", "DDOs asked for more time")
    await admin.click("main form[action='/desk/calendar'] button")
    assert await admin.locator("#e-new_deadline").count() == 1
    assert await admin.input_value("#f-reason") == "DDOs asked for more time"
    later = (before + timedelta(hours=2)).astimezone(IST)
    await admin.fill("#f-new_deadline", later.strftime("%Y-%m-%dT%H:%M"))
    await admin.click("main form[action='/desk/calendar'] button")
    await admin.wait_for_url("**saved=**")

    async def moved():
        await page.goto("/me")
        shown = await page.get_attribute(".deadline", "data-deadline")
        return shown and datetime.fromisoformat(shown) > before

    await eventually(moved, timeout=30, what="the extended deadline on the dashboard")
    await check_page(page, "dashboard-extended")
    await context.close()
