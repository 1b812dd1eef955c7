from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class OtpRequest(BaseModel):
    mobile: str = Field(description="The mobile number on your HKRN / Treasury record, with or without +91")


class OtpRequested(BaseModel):
    challenge_id: str
    expires_in_seconds: int
    message: str


class OtpVerify(BaseModel):
    mobile: str
    code: str = Field(pattern=r"^\d{6}$", description="The 6-digit code from the SMS")


class Session(BaseModel):
    token: str
    employee_id: str
    expires_in_seconds: int


class SmsMessage(BaseModel):
    mobile: str | None
    template: str
    language: str
    template_id: str
    body: str
    outcome: str
    handled_at: str


class WhyNoOtpRequest(BaseModel):
    family_id: str = Field(min_length=4, max_length=20, description="Family ID (Parivar Pehchan Patra)")
    date_of_birth: date
    mobile: str = Field(description="The mobile number you tried")


class CauseOut(BaseModel):
    code: str
    message: str
    remedy: str
    details: dict[str, str] = Field(
        default_factory=dict, description="the particulars the message names (masked numbers, the data owner)"
    )


class RemedyProgress(BaseModel):
    data_owner: str
    certificate_issued_at: datetime | None = Field(None, description="when the DDO's verification certificate came")
    corrected_at: datetime | None = Field(None, description="when the data owner corrected the record")
    reported_at: datetime | None = Field(
        None,
        description="when you first reported a fault on your record here: before registration closed, it keeps "
        "registration open for you until the correction and the season's grace after it",
    )


class WhyNoOtpAnswer(BaseModel):
    causes: list[CauseOut]
    progress: RemedyProgress | None = Field(None, description="the remedy so far, once your record is found")


class DiagnosisOut(BaseModel):
    employee_id: str | None
    causes: list[CauseOut]
    diagnosed_at: datetime


class Correction(BaseModel):
    changes: dict[str, str | bool] = Field(description="field -> corrected value")
    reason: str = Field(min_length=3, max_length=500)
    certificate_id: str | None = Field(None, description="the verification certificate this correction answers")


class CorrectionOut(BaseModel):
    employee_id: str
    changed: dict[str, str]


class MasterChange(BaseModel):
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    source: str
    reason: str
    certificate_id: str | None
    changed_at: datetime


class CorrectionRequestOut(BaseModel):
    certificate_id: str
    employee_id: str
    issued_by: str
    remarks: str
    requested_at: datetime


class RecordRequestOut(BaseModel):
    """A certificate for a person in no government database: the office and Family ID are the certificate's."""

    certificate_id: str
    family_id: str
    department_code: str
    district: str
    ddo_code: str
    issued_by: str
    remarks: str
    requested_at: datetime


class NewRecord(BaseModel):
    """The record a certificate asked for, less what the certificate fixes (Family ID, department, district,
    DDO); checked as a row of a data owner's file is (services/otp/records.py)."""

    model_config = ConfigDict(extra="forbid")

    certificate_id: str = Field(description="the verification certificate for a new record")
    employee_id: str = Field(description="the id your organisation gives the employee")
    employee_group: str = Field(description="part1 (HKRN), part2 (Treasury) or hartron")
    name: str
    father_name: str
    date_of_birth: str
    mobile: str
    post_code: str
    date_of_joining: str
    service_periods: str | list[dict[str, Any]] = Field(description="e.g. 2015-04-01/2018-03-31;2018-05-01/")
    sanctioned_post: bool
    pay_head: str


class RecordAdded(BaseModel):
    employee_id: str
    added_at: datetime


class FieldMismatch(BaseModel):
    field: str
    label: str
    family_id_value: str
    service_record_value: str


class Prefill(BaseModel):
    family_id: str
    family_id_details: dict[str, str] | None
    service_record: dict[str, str]
    mismatches: list[FieldMismatch]


class MobileAnswer(BaseModel):
    answer: Literal["mine", "not_mine"]


class MobileQuestion(BaseModel):
    """Before the season opens: is this number on the employee's record theirs? (masked; the answer, once given)"""

    masked_mobile: str
    answer: Literal["mine", "not_mine"] | None


class LanguageChoice(BaseModel):
    language: Literal["en", "hi"]


class AuditFinding(BaseModel):
    """One record that would fail, found before the season opens."""

    employee_id: str
    data_owner: str
    district: str
    ddo_code: str
    code: str = Field(description="stable cause code")
    who_acts: str = Field(description="data owner, DDO, employee or administrator")
    detail: str = Field(description="what is wrong, personal data masked")
    remedy: str
