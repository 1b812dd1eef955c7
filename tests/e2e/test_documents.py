"""Documents are judged by content, capped at 5 MB, versioned with their SHA-256; Aadhaar and PAN are
checked and the Aadhaar number is only ever shown by its last four digits."""

from __future__ import annotations

import hashlib

import pytest
import pytest_asyncio

from deploy.local.journey import TINY_PDF, application_form

from .helpers import assert_error, employee_session

pytestmark = pytest.mark.stack

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
PDF_WITH_JPEG = (
    b"%PDF-1.7\n1 0 obj << /Type /XObject /Subtype /Image /Filter /DCTDecode >> stream\n"
    + JPEG
    + b"\nendstream endobj\n%%EOF\n"
)
FIVE_MB = 5 * 1024 * 1024


@pytest_asyncio.fixture(scope="module")
async def session(stack, master, http):
    employee = [e for e in master.employees if e.fault is None][7]
    return await employee_session(stack, http, employee)


async def put(stack, http, auth, kind: str, content: bytes, content_type: str = "application/pdf"):
    return await http.put(
        f"{stack.url('applications')}/applications/documents/{kind}",
        content=content,
        headers={**auth, "content-type": content_type, "content-disposition": f'attachment; filename="{kind}.pdf"'},
    )


async def test_content_decides_the_type_not_the_name(stack, http, session):
    r = await put(stack, http, session, "bank_passbook", PNG)  # a PNG named .pdf and sent as PDF
    assert r.status_code == 200 and r.json()["media_type"] == "image/png"
    r = await put(stack, http, session, "experience_certificate", PDF_WITH_JPEG)
    assert r.status_code == 200 and r.json()["media_type"] == "application/pdf"
    r = await put(stack, http, session, "pan", b"this is a text file pretending to be a PDF")
    assert_error(r, 415, "unsupported_document_type")
    r = await put(stack, http, session, "pan", b"MZ\x90\x00" + b"\x00" * 60)  # an .exe
    assert_error(r, 415, "unsupported_document_type")
    assert_error(await put(stack, http, session, "horoscope", TINY_PDF), 404, "unknown_document_kind")


async def test_five_megabytes_is_the_limit_to_the_byte(stack, http, session):
    exactly = TINY_PDF + b"0" * (FIVE_MB - len(TINY_PDF))
    r = await put(stack, http, session, "appointment_letter", exactly)
    assert r.status_code == 200 and r.json()["size_bytes"] == FIVE_MB
    assert r.json()["sha256"] == hashlib.sha256(exactly).hexdigest()
    assert_error(await put(stack, http, session, "appointment_letter", exactly + b"0"), 413, "document_too_large")


async def test_every_version_is_kept(stack, http, session, db):
    first = await put(stack, http, session, "family_id", TINY_PDF)
    second = await put(stack, http, session, "family_id", TINY_PDF + b"% rescanned\n")
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    r = await http.get(f"{stack.url('applications')}/applications/documents", headers=session)
    [latest] = [d for d in r.json() if d["kind"] == "family_id"]
    assert latest["version"] == 2
    # both versions are kept for this employee (other tests upload the same tiny PDF for their employees)
    versions = await db.fetch(
        "SELECT version, sha256 FROM applications.document WHERE kind = 'family_id' AND employee_id = "
        "(SELECT employee_id FROM applications.document WHERE sha256 = $1 AND version = 2 LIMIT 1) ORDER BY version",
        second.json()["sha256"],
    )
    assert [(v["version"], v["sha256"]) for v in versions] == [
        (1, first.json()["sha256"]),
        (2, second.json()["sha256"]),
    ]


async def test_aadhaar_check_digit_pan_format_and_only_four_digits_shown(stack, http, session):
    base = stack.url("applications")
    r = await http.put(
        f"{base}/applications/identity", json={"aadhaar_number": "234123412347", "pan": "ABCPE1234F"}, headers=session
    )
    assert_error(r, 422, "invalid_aadhaar")
    assert "234123412347" not in r.text
    r = await http.put(
        f"{base}/applications/identity", json={"aadhaar_number": "234123412346", "pan": "ABCP1234EF"}, headers=session
    )
    assert_error(r, 422, "invalid_pan")
    r = await http.put(
        f"{base}/applications/identity", json={"aadhaar_number": "2341 2341 2346", "pan": "abcpe1234f"}, headers=session
    )
    assert r.status_code == 200 and r.json() == {"aadhaar": "XXXX XXXX 2346", "pan": "ABCPE1234F"}
    from .conftest import AADHAAR_USED

    AADHAAR_USED.append("234123412346")


async def test_submission_needs_the_documents_first(stack, master, http):
    employee = [e for e in master.employees if e.fault is None][8]
    auth = await employee_session(stack, http, employee)
    m = employee.master
    form = application_form(m)
    r = await http.post(f"{stack.url('applications')}/applications", json=form, headers=auth)
    assert_error(r, 422, "documents_missing")
    assert r.json()["details"]["missing"] == [
        "family_id",
        "aadhaar",
        "pan",
        "appointment_letter",
        "experience_certificate",
        "bank_passbook",
    ]
