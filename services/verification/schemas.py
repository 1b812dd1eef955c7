from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from contract import REJECTION_REASONS


class QueueItem(BaseModel):
    application_no: str
    employee_id: str
    department: str
    district: str
    due_at: datetime
    status: str
    escalation_level: int = 0
    round: int = 1
    # the employee's last day of service, and whether it comes before the season's last deadline (listed first)
    superannuation_on: date | None = None
    take_first: bool = False


class Notification(BaseModel):
    officer_ref: str
    kind: str
    employee_id: str
    application_no: str | None
    message: str
    created_at: datetime


class ReportRow(BaseModel):
    key: str
    pending: int
    overdue: int
    escalated: int
    max_days_overdue: int


RejectionReason = Literal[REJECTION_REASONS]  # type: ignore[valid-type]  # the contract's codes, one list


class Decision(BaseModel):
    decision: Literal["verified", "rejected", "returned"]
    reasons: list[RejectionReason] = Field(
        default_factory=list, max_length=10, description="reason codes for a rejection"
    )
    remarks: dict[str, str] = Field(
        default_factory=dict, max_length=30, description="for a return: field or document -> what to correct"
    )


class DecisionOut(BaseModel):
    application_no: str
    status: str
    decided_at: datetime


class BulkDecision(BaseModel):
    application_nos: list[str] = Field(min_length=1, max_length=500)
    decision: Literal["verified"] = "verified"


class ItemResult(BaseModel):
    """One item of a bulk action: done, or the error it met (the others go on)."""

    application_no: str
    ok: bool
    status: str | None = None
    code: str | None = None
    message: str | None = None


class CertificateIn(BaseModel):
    """The three attestations the government's letter asks for; each must be given as true."""

    employee_id: str = Field(min_length=3, max_length=32)
    genuine_contractual_employee: Literal[True]
    full_service_record_available: Literal[True]
    pay_from_contractual_head: Literal[True]
    remarks: str = Field(
        min_length=3, max_length=1000, description="what is wrong with the record, e.g. the new mobile"
    )


class NewRecordCertificateIn(BaseModel):
    """For a person in no government database: the same three attestations, the office they serve in, and the
    data owner who must add their record. The Family ID is how the data owner finds them (PPP)."""

    family_id: str = Field(min_length=4, max_length=20, pattern=r"^[A-Za-z0-9]+$")
    data_owner: Literal["HKRN", "TREASURY", "HARTRON"]
    department_code: str = Field(min_length=1, max_length=32)
    district: str = Field(min_length=1, max_length=64)
    ddo_code: str = Field(min_length=1, max_length=64)
    genuine_contractual_employee: Literal[True]
    full_service_record_available: Literal[True]
    pay_from_contractual_head: Literal[True]
    remarks: str = Field(min_length=3, max_length=1000, description="where the service record is held, and why")


class NewRecordCertificateOut(BaseModel):
    certificate_id: str
    data_owner: str
    issued_by: str
    issued_at: datetime


class CertificateOut(BaseModel):
    certificate_id: str
    employee_id: str
    issued_by: str
    issued_at: datetime
