from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from contract import SeasonCalendar


class ApplicationForm(BaseModel):
    department_code: str = Field(min_length=1, max_length=32)
    district: str = Field(min_length=1, max_length=64)
    post_code: str = Field(min_length=1, max_length=32)
    ddo_code: str = Field(min_length=1, max_length=64)
    date_of_joining: date


class ApplicationReceipt(BaseModel):
    application_no: str
    employee_id: str
    submitted_at: datetime
    message: str


class RuleOutcome(BaseModel):
    code: str
    passed: bool
    reason: str = Field(description="the reason in English")
    key: str = Field("", description="the reason's key, for a page that says it in another language")
    facts: dict[str, str] = Field(default_factory=dict, description="the reason's particulars (dates as ISO)")


class ApplicationStatus(BaseModel):
    application_no: str
    submitted_at: datetime
    status: str
    stage: str
    next_step: str | None
    next_deadline: datetime | None
    order_no: str | None
    remarks: dict[str, str] = Field(default_factory=dict, description="what the DDO asked to correct, if returned")
    eligibility: list[RuleOutcome] | None = None
    submissions: int = 1


class CaseStep(BaseModel):
    at: datetime
    stage: str
    note: str = ""


class DdoContact(BaseModel):
    ddo_code: str
    district: str
    office_name: str
    office_name_hi: str | None = None
    phone: str | None = None


class MyCase(BaseModel):
    """The employee's dashboard: their case, and their application this season if any."""

    employee_id: str
    stage: str
    next_step: str | None
    next_deadline: datetime | None
    history: list[CaseStep]
    eligibility: list[RuleOutcome] | None
    order_no: str | None
    application_no: str | None
    submitted_at: datetime | None
    status: str | None
    remarks: dict[str, str] = Field(default_factory=dict)
    ddo: DdoContact | None = Field(None, description="the office of the DDO the application went to")
    submissions: int = 0


class DocumentOut(BaseModel):
    kind: str
    version: int
    media_type: str
    size_bytes: int
    sha256: str


class IdentityIn(BaseModel):
    aadhaar_number: str = Field(min_length=12, max_length=14, description="12 digits; shown back only as its last four")
    pan: str = Field(min_length=10, max_length=10)


class IdentityOut(BaseModel):
    aadhaar: str
    pan: str


class Change(BaseModel):
    step: Literal["registration_close", "ddo_verification", "post_creation", "order_issue"]
    new_deadline: datetime = Field(description="with its time zone, e.g. 2026-02-20T23:59:59+05:30")
    reason: str = Field(min_length=5, max_length=500)


@dataclass(kw_only=True)
class CalendarVersion(SeasonCalendar):
    changed_by: str
    reason: str
    changed_at: datetime
