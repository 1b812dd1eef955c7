from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class OfficerLogin(BaseModel):
    officer_id: str


class OfficerToken(BaseModel):
    token: str
    role: str
    scope: dict


class QueueItem(BaseModel):
    application_no: str
    employee_id: str
    department: str
    district: str
    due_at: datetime
    status: str


class Decision(BaseModel):
    decision: Literal["verified", "rejected"]
    reasons: list[str] = Field(default_factory=list, max_length=20)


class DecisionOut(BaseModel):
    application_no: str
    status: str
    decided_at: datetime
