"""What an officer opens before deciding, read within the officer's scope: the application as submitted,
every submission, its documents (and each one's content), and the eligibility result with every rule's reason."""

from __future__ import annotations

from typing import Any

from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.runtime import ApplicationsContext
from services.common.scope import covers

from .documents import latest_documents


async def application_in_scope(ctx: ApplicationsContext, officer: Principal, application_no: str) -> Any:
    app = await ctx.pool.fetchrow("SELECT * FROM applications.application WHERE application_no = $1", application_no)
    if app is None or not covers(officer, ddo_code=app["ddo_code"], department=app["department_code"]):
        raise ApiError(404, "application_not_found", f"Application {application_no} is not one you may review.")
    return app


async def review(ctx: ApplicationsContext, officer: Principal, application_no: str) -> dict[str, Any]:
    app = await application_in_scope(ctx, officer, application_no)
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
    return dict(
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


async def document(
    ctx: ApplicationsContext, officer: Principal, application_no: str, kind: str
) -> tuple[bytes, str, str]:
    """The latest version of one document: its bytes, media type and SHA-256."""
    app = await application_in_scope(ctx, officer, application_no)
    row = await ctx.pool.fetchrow(
        "SELECT media_type, content, sha256 FROM applications.document WHERE employee_id = $1 "
        "AND kind = $2 ORDER BY version DESC LIMIT 1",
        app["employee_id"],
        kind,
    )
    if row is None:
        raise ApiError(404, "document_not_found", f"No {kind} document was uploaded for {application_no}.")
    return bytes(row["content"]), row["media_type"], row["sha256"]
