from __future__ import annotations

from pydantic import BaseModel, Field


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
    template_id: str
    body: str
    outcome: str
    handled_at: str
