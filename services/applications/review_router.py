"""What an officer opens before deciding: the application as submitted, every submission, its documents
(and each one's content), and the eligibility result with every rule's reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from services.common.auth import ADMIN_SECRETARY, DDO, HOD, Principal, require_roles
from services.common.runtime import ApplicationsContext, context

from . import review

router = APIRouter(prefix="/review", tags=["officers' review"])


class Review(BaseModel):
    application_no: str
    employee_id: str
    status: str
    form: dict[str, Any]
    submissions: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    aadhaar: str | None
    pan: str | None
    eligibility: dict[str, Any] | None
    remarks: dict[str, Any]


@router.get("/applications/{application_no}", response_model=Review)
async def application_for_review(
    application_no: str,
    ctx: ApplicationsContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
) -> Review:
    """The application as the officer decides on it."""
    return Review(**await review.review(ctx, officer, application_no))


@router.get(
    "/applications/{application_no}/documents/{kind}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
async def document(
    application_no: str,
    kind: str,
    ctx: ApplicationsContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
) -> Response:
    """The latest version of one document, as uploaded."""
    content, media_type, sha256 = await review.document(ctx, officer, application_no, kind)
    return Response(content, media_type=media_type, headers={"x-sha256": sha256})
