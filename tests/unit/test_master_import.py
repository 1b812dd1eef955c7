"""The state's records as CSV: every row checked, each problem with its file, row and column; a good file
gives the records as the master table holds them."""

from __future__ import annotations

from typing import Any

from ops.records_import import read_records
from services.otp.records import COLUMNS

DROP_DOWNS = {
    "department_code": {"PWD"},
    "district": {"Ambala"},
    "post_code": {"CLERK"},
    "ddo_code": {"DDO-PWD-AMBALA"},
}
GOOD = {
    "employee_id": "HK0000001",
    "employee_group": "part1",
    "name": "Ram Kumar",
    "father_name": "Sham Lal",
    "date_of_birth": "1980-05-01",
    "mobile": "9812345678",
    "family_id": "1234ABCD",
    "department_code": "PWD",
    "district": "Ambala",
    "post_code": "CLERK",
    "ddo_code": "DDO-PWD-AMBALA",
    "date_of_joining": "2015-04-01",
    "service_periods": "2015-04-01/2019-03-31; 2019-04-02/",
    "sanctioned_post": "yes",
    "pay_head": "2202-01-101-99-51-Contractual Services",
    "status": "active",
}


def csv_of(*rows: dict[str, Any]) -> str:
    lines = [",".join(COLUMNS)] + [",".join(f'"{r[c]}"' for c in COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


def test_a_good_file_gives_the_records_with_their_data_owner():
    records, errors = read_records({"HKRN": csv_of(GOOD)}, {"HKRN": "hkrn.csv"}, DROP_DOWNS)
    assert errors == []
    [r] = records
    assert r["data_owner"] == "HKRN" and r["sanctioned_post"] is True
    assert r["service_periods"] == [{"from": "2015-04-01", "to": "2019-03-31"}, {"from": "2019-04-02", "to": None}]


def test_every_bad_row_is_reported_with_its_place_and_the_good_rows_are_not_enough_to_load():
    rows = [
        GOOD,
        {**GOOD, "employee_id": "HK0000002", "mobile": "12345", "date_of_birth": "1980-02-30"},
        {**GOOD, "employee_id": "HK0000003", "employee_group": "part2"},
        {**GOOD, "employee_id": "HK0000004", "ddo_code": "DDO-NOWHERE", "sanctioned_post": "maybe"},
        {**GOOD, "service_periods": "2019-04-02/2015-01-01"},
    ]
    records, errors = read_records({"HKRN": csv_of(*rows)}, {"HKRN": "hkrn.csv"}, DROP_DOWNS)
    said = [str(e) for e in errors]
    assert any(s.startswith("hkrn.csv, row 3, mobile:") for s in said)
    assert any(s.startswith("hkrn.csv, row 3, date_of_birth:") for s in said)
    assert any("row 4, employee_group: part2 records belong to TREASURY, not to HKRN" in s for s in said)
    assert any("row 5, ddo_code: 'DDO-NOWHERE' is not in the drop-down list" in s for s in said)
    assert any("row 5, sanctioned_post: write yes or no" in s for s in said)
    assert any("row 6, service_periods: the period 2019-04-02/2015-01-01 ends before it starts" in s for s in said)
    assert any("row 6, employee_id: HK0000001 is also on hkrn.csv row 2" in s for s in said)


def test_a_file_with_other_columns_or_an_unknown_owner_is_refused_whole():
    text = csv_of(GOOD).replace("pay_head", "budget_head", 1)
    _, errors = read_records({"HKRN": text, "ACME": csv_of(GOOD)}, {"HKRN": "a.csv", "ACME": "b.csv"}, DROP_DOWNS)
    said = [str(e) for e in errors]
    assert (
        "a.csv, row 1, header: the columns are not the documented ones (missing pay_head; unknown budget_head)" in said
    )
    assert any("'ACME' is not a data owner" in s for s in said)
