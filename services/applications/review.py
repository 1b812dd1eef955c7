"""What an officer opens before deciding: the application as submitted, every submission, its documents
(and each one's content), and the eligibility result with every rule's reason."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from services.common.auth import ADMIN_SECRETARY, DDO, HOD, Principal, require_roles
from services.common.errors import ApiError
from services.common.runtime import ServiceContext, context

from .documents import latest_documents

router = APIRouter(prefix="/review", tags=["officers' review"])


class Review(BaseModel):
    application_no: str
    employee_id: str
    status: str
    form: dict
    submissions: list[dict]
    documents: list[dict]
    aadhaar: str | None
    pan: str | None
    eligibility: dict | None
    remarks: dict


async def _application_in_scope(ctx: ServiceContext, officer: Principal, application_no: str):
    app = await ctx.pool.fetchrow("SELECT * FROM applications.application WHERE application_no = $1", application_no)
    allowed = app is not None and (
        (officer.role == DDO and app["ddo_code"] == officer.scope.get("ddo_code"))
        or (officer.role in (HOD, ADMIN_SECRETARY) and app["department_code"] == officer.scope.get("department"))
    )
    if not allowed:
        raise ApiError(404, "application_not_found", f"Application {application_no} is not one you may review.")
    return app


@router.get("/applications/{application_no}", response_model=Review)
async def review(
    application_no: str,
    ctx: ServiceContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
):
    app = await _application_in_scope(ctx, officer, application_no)
    async with ctx.pool.acquire() as conn:
        submissions = [
            dict(r)
            for r in await conn.fetch(
                "SELECT number, form, documents, submitted_at FROM applications.submission WHERE application_no = $1 "
                "ORDER BY number",
                application_no,
            )
        ]
        documents = [
            {**d, "uploaded_at": d["uploaded_at"].isoformat()} for d in await latest_documents(conn, app["employee_id"])
        ]
        identity = await conn.fetchrow(
            "SELECT aadhaar_last4, pan FROM applications.identity WHERE employee_id = $1", app["employee_id"]
        )
        decision = await conn.fetchrow(
            "SELECT eligible, results, decided_at FROM applications.eligibility_decision WHERE application_no = $1",
            application_no,
        )
    form = {k: str(app[k]) for k in ("department_code", "district", "post_code", "ddo_code", "date_of_joining")}
    return Review(
        application_no=application_no,
        employee_id=app["employee_id"],
        status=app["status"],
        form=form,
        submissions=[{**s, "submitted_at": s["submitted_at"].isoformat()} for s in submissions],
        documents=documents,
        aadhaar=f"XXXX XXXX {identity['aadhaar_last4']}" if identity else None,
        pan=identity["pan"] if identity else None,
        eligibility={
            "eligible": decision["eligible"],
            "results": decision["results"],
            "decided_at": decision["decided_at"].isoformat(),
        }
        if decision
        else None,
        remarks=app["remarks"],
    )


@router.get(
    "/applications/{application_no}/documents/{kind}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
async def document(
    application_no: str,
    kind: str,
    ctx: ServiceContext = Depends(context),
    officer: Principal = Depends(require_roles(DDO, HOD, ADMIN_SECRETARY)),
):
    """The latest version of one document, as uploaded."""
    app = await _application_in_scope(ctx, officer, application_no)
    row = await ctx.pool.fetchrow(
        "SELECT media_type, content, sha256 FROM applications.document WHERE employee_id = $1 "
        "AND kind = $2 ORDER BY version DESC LIMIT 1",
        app["employee_id"],
        kind,
    )
    if row is None:
        raise ApiError(404, "document_not_found", f"No {kind} document was uploaded for {application_no}.")
    return Response(bytes(row["content"]), media_type=row["media_type"], headers={"x-sha256": row["sha256"]})
