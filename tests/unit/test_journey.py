"""The one description of an employee's preparation that every harness sends: every required document, then
the identity, each harness with Aadhaar numbers of its own."""

from __future__ import annotations

from datetime import date

from stdnum import verhoeff

from deploy.local.journey import TINY_PDF, aadhaar_for, application_form, preparation
from services.applications.documents import REQUIRED


def test_the_preparation_uploads_every_required_document_then_the_identity():
    steps = preparation("EMP0000042", "5")
    assert [s.path for s in steps[:-1]] == [f"/applications/documents/{k}" for k in REQUIRED]
    assert steps[-1].path == "/applications/identity" and steps[-1].act == "identity"
    first = steps[0].request({"Authorization": "Bearer t"})
    assert first["content"] == TINY_PDF and first["headers"]["content-type"] == "application/pdf"
    assert first["headers"]["Authorization"] == "Bearer t"
    identity = steps[-1].request({})["json"]
    assert verhoeff.is_valid(identity["aadhaar_number"]) and identity["aadhaar_number"].startswith("5")


def test_each_harness_has_its_own_numbers():
    numbers = {aadhaar_for("EMP0000042", d) for d in "2345"}
    assert len(numbers) == 4 and all(verhoeff.is_valid(n) for n in numbers)


def test_the_form_is_filled_from_the_record():
    master = {
        "department_code": "PWD",
        "district": "Ambala",
        "post_code": "CLERK",
        "ddo_code": "DDO1",
        "date_of_joining": date(2015, 4, 1),
    }
    assert application_form(master)["date_of_joining"] == "2015-04-01"
