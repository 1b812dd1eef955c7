"""A service record as its data owner gives it (HKRN for Part-1, Treasury for Part-2, HARTRON): the columns
of otp.employee_master, and the checks each row passes whether it comes in a data owner's file (`seva import
--records`) or is added one at a time on a verification certificate (POST /master/employees)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

OWNER_OF_GROUP = {"part1": "HKRN", "part2": "TREASURY", "hartron": "HARTRON"}
# The master record's columns, as otp.employee_master holds them (the seed loads the same); a data owner's file
# has all of them but data_owner, which is the file's own.
MASTER_COLUMNS = (
    "employee_id",
    "employee_group",
    "data_owner",
    "name",
    "father_name",
    "date_of_birth",
    "mobile",
    "family_id",
    "department_code",
    "district",
    "post_code",
    "ddo_code",
    "date_of_joining",
    "service_periods",
    "sanctioned_post",
    "pay_head",
    "status",
)
COLUMNS = tuple(c for c in MASTER_COLUMNS if c != "data_owner")


class RecordRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    employee_id: str
    employee_group: Literal["part1", "part2", "hartron"]
    name: str = Field(min_length=2, max_length=200)
    father_name: str = Field(min_length=2, max_length=200)
    date_of_birth: date
    mobile: str
    family_id: str = Field(min_length=4, max_length=20)
    department_code: str = Field(min_length=1, max_length=32)
    district: str = Field(min_length=1, max_length=64)
    post_code: str = Field(min_length=1, max_length=32)
    ddo_code: str = Field(min_length=1, max_length=64)
    date_of_joining: date
    service_periods: list[dict[str, Any]]
    sanctioned_post: bool
    pay_head: str = Field(min_length=3, max_length=200)
    status: Literal["active", "inactive"]

    @field_validator("employee_id")
    @classmethod
    def _id(cls, text: str) -> str:
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{2,31}", text):
            raise ValueError("3 to 32 capital letters, digits or '-'")
        return text

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, text: str) -> str:
        if not re.fullmatch(r"[6-9][0-9]{9}", text):
            raise ValueError("10 digits starting with 6, 7, 8 or 9 (no +91, no spaces)")
        return text

    @field_validator("service_periods", mode="before")
    @classmethod
    def _periods(cls, text: object) -> list[dict[str, Any]]:
        """'2015-04-01/2018-03-31;2018-05-01/' in a file; in JSON, the same text or [{"from": ..., "to": ...}]."""
        if isinstance(text, list):
            text = ";".join(f"{p.get('from', '')}/{p.get('to') or ''}" for p in text if isinstance(p, dict))
        periods = []
        for part in str(text).split(";"):
            if not part.strip():
                continue
            start, _, end = part.strip().partition("/")
            frm = date.fromisoformat(start.strip())
            to = date.fromisoformat(end.strip()) if end.strip() else None
            if to is not None and to < frm:
                raise ValueError(f"the period {part.strip()} ends before it starts")
            periods.append({"from": frm.isoformat(), "to": to.isoformat() if to else None})
        if not periods:
            raise ValueError("at least one period of service is needed, e.g. 2015-04-01/")
        return periods

    @field_validator("sanctioned_post", mode="before")
    @classmethod
    def _yes_no(cls, text: object) -> bool:
        if isinstance(text, bool):
            return text
        answer = str(text).strip().lower()
        if answer not in ("yes", "no"):
            raise ValueError("write yes or no")
        return answer == "yes"
