"""The dead end of a person in no government database, mended: "Why no OTP?" says so; their DDO certifies them
for the office (no case or record needed); the data owner named adds the record on that certificate; the cases
worker starts their case from the record's event; they get the SMS, register with the OTP and reach the form."""

from __future__ import annotations

import pytest

from contract import Stage, case_workflow_id

from .conftest import SEASON, eventually
from .helpers import assert_error, case_stage, employee_session, officer_headers

pytestmark = pytest.mark.stack

FAMILY_ID, MOBILE, EMPLOYEE_ID = "NEWFAM0001", "6390000101", "HKRN-NEW-0001"


async def test_a_person_in_no_database_is_certified_added_by_the_data_owner_and_their_case_starts(
    stack, master, temporal, http, db
):
    otp, verification = stack.url("otp"), stack.url("verification")
    office = master.ddos[0]
    # the Family ID registry (PPP) knows the person; no data owner holds their service record
    await db.execute(
        "INSERT INTO otp.ppp_registry (family_id, name, father_name, date_of_birth, mobile) VALUES "
        "($1, 'Kamla Devi', 'Ram Kishan', '1984-03-02', $2) ON CONFLICT DO NOTHING",
        FAMILY_ID,
        MOBILE,
    )
    r = await http.post(
        f"{otp}/otp/why-no-otp", json={"family_id": FAMILY_ID, "date_of_birth": "1984-03-02", "mobile": MOBILE}
    )
    assert [c["code"] for c in r.json()["causes"]] == ["not_in_government_database"], r.text

    certificate = {
        "family_id": FAMILY_ID,
        "data_owner": "HKRN",
        "department_code": office["department_code"],
        "district": office["district"],
        "ddo_code": office["ddo_code"],
        "genuine_contractual_employee": True,
        "full_service_record_available": True,
        "pay_from_contractual_head": True,
        "remarks": "engaged through HKRN since 2015; record never passed on",
    }
    stranger = next(d for d in master.ddos if d["department_code"] != office["department_code"])
    r = await http.post(
        f"{verification}/verification/certificates/new-record",
        json=certificate,
        headers=await officer_headers(stack, http, f"OFF-{stranger['ddo_code']}"),
    )
    assert_error(r, 403, "not_in_your_charge")
    ddo = await officer_headers(stack, http, f"OFF-{office['ddo_code']}")
    r = await http.post(f"{verification}/verification/certificates/new-record", json=certificate, headers=ddo)
    assert r.status_code == 201, r.text
    certificate_id = r.json()["certificate_id"]
    again = await http.post(f"{verification}/verification/certificates/new-record", json=certificate, headers=ddo)
    assert again.json()["certificate_id"] == certificate_id  # a retry certifies nothing new

    owner = await officer_headers(stack, http, "DATA-HKRN")

    async def requested():
        r = await http.get(f"{otp}/master/record-requests", headers=owner)
        return [x for x in r.json() if x["certificate_id"] == certificate_id]

    [request] = await eventually(requested, what="the request to add the record at HKRN")
    assert (request["family_id"], request["ddo_code"]) == (FAMILY_ID, office["ddo_code"])
    treasury = await http.get(
        f"{otp}/master/record-requests", headers=await officer_headers(stack, http, "DATA-TREASURY")
    )
    assert all(x["certificate_id"] != certificate_id for x in treasury.json())

    record = {
        "certificate_id": certificate_id,
        "employee_id": EMPLOYEE_ID,
        "employee_group": "part1",
        "name": "Kamla Devi",
        "father_name": "Ram Kishan",
        "date_of_birth": "1984-03-02",
        "mobile": MOBILE,
        "post_code": master.employees[0].master["post_code"],
        "date_of_joining": "2015-04-01",
        "service_periods": "2015-04-01/",
        "sanctioned_post": True,
        "pay_head": "2202-01-101-99-51-Contractual Services",
    }
    r = await http.post(f"{otp}/master/employees", json={**record, "employee_group": "part2"}, headers=owner)
    assert_error(r, 422, "wrong_data_owner")
    r = await http.post(f"{otp}/master/employees", json={**record, "date_of_birth": "2 March"}, headers=owner)
    assert_error(r, 422, "invalid_record")
    r = await http.post(f"{otp}/master/employees", json={**record, "certificate_id": "not-a-uuid"}, headers=owner)
    assert_error(r, 404, "certificate_not_found")
    r = await http.post(f"{otp}/master/employees", json=record, headers=owner)
    assert r.status_code == 201, r.text
    assert (await http.post(f"{otp}/master/employees", json=record, headers=owner)).status_code == 201  # a retry
    assert await db.fetchval("SELECT count(*) FROM otp.employee_master WHERE employee_id = $1", EMPLOYEE_ID) == 1
    assert (
        await db.fetchval("SELECT family_id FROM otp.employee_master WHERE employee_id = $1", EMPLOYEE_ID) == FAMILY_ID
    )  # the certificate's, not the owner's to change

    async def started():
        try:
            return await case_stage(temporal, EMPLOYEE_ID)
        except Exception:  # noqa: BLE001  (not started yet)
            return None

    status = await eventually(started, what="the case started from the record's event")
    assert status.stage == Stage.AWAITING_REGISTRATION
    described = await temporal.get_workflow_handle(case_workflow_id(EMPLOYEE_ID, SEASON)).describe()
    assert FAMILY_ID not in str(described.static_summary) and "Kamla" not in str(described.static_summary)

    async def told():
        r = await http.get(f"{otp}/dev/sms", params={"mobile": MOBILE})
        return [x for x in r.json() if x["template"] == "registration_open"]

    await eventually(told, what="'you can register' SMS")
    await employee_session(stack, http, type("Employee", (), {"actual_mobile": MOBILE}))
    await eventually(
        lambda: _stage_is(temporal, Stage.AWAITING_APPLICATION), what="the employee registered with the OTP"
    )


async def _stage_is(temporal, stage: str) -> bool:
    return (await case_stage(temporal, EMPLOYEE_ID)).stage == stage
