from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class PostBatch(BaseModel):
    application_nos: list[str] = Field(min_length=1, max_length=1000)


class CreatedPost(BaseModel):
    application_no: str
    post_id: str
    created_at: datetime


class PostBatchOut(BaseModel):
    batch_id: str
    posts: list[CreatedPost]


class AwaitingPost(BaseModel):
    application_no: str
    employee_id: str
    department: str
    district: str
    post_code: str
    post_due_at: datetime


class AwaitingApproval(BaseModel):
    application_no: str
    employee_id: str
    department: str
    district: str
    post_code: str
    post_id: str


class BulkApproval(BaseModel):
    application_nos: list[str] = Field(min_length=1, max_length=500)


class ItemResult(BaseModel):
    application_no: str
    ok: bool
    code: str | None = None
    message: str | None = None


class StageReport(BaseModel):
    key: str
    awaiting_post: int
    post_overdue: int
    awaiting_approval: int
    orders_issued: int


class ApprovalOut(BaseModel):
    application_no: str
    approved_by: str
    approved_at: datetime


class OrderCheck(BaseModel):
    order_no: str
    genuine: bool
    current: bool
    department: str
    issued_at: datetime
    secure_until: date | None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None


class QrCheck(BaseModel):
    payload: str = Field(min_length=20, max_length=2000, description="the text inside the order's QR code")


class PublicKey(BaseModel):
    algorithm: str
    public_key_pem: str
    public_key_b64: str
    pdf_signing_chain_pem: str = Field(
        description="the certificates that sign every order PDF (PAdES), signer first: trust the last to check an "
        "order in any PDF reader"
    )


class Withdrawal(BaseModel):
    reason: str = Field(min_length=5, max_length=1000)


class PhysicalOrderIn(BaseModel):
    employee_id: str = Field(min_length=3, max_length=32)
    department: str = Field(min_length=2, max_length=32)
    reference: str = Field(min_length=2, max_length=100, description="the number on the paper order")
    issued_on: date


class PhysicalOrderOut(PhysicalOrderIn):
    status: str
    registered_by: str
    registered_at: datetime
