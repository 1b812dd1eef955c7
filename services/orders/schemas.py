from __future__ import annotations

from datetime import datetime

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


class ApprovalOut(BaseModel):
    application_no: str
    approved_by: str
    approved_at: datetime


class OrderCheck(BaseModel):
    order_no: str
    genuine: bool
    department: str
    issued_at: datetime
