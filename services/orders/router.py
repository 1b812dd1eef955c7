from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from services.common.auth import ADMIN_SECRETARY, ADMINISTRATOR, EMPLOYEE, FINANCE, HOD, Principal, require_roles
from services.common.errors import ApiError, log_denied_item
from services.common.runtime import OrdersContext, client_addr, context

from . import order_acts, service
from .order_document import public_key_b64, public_key_pem, signing_key
from .order_seal import order_signer
from .schemas import (
    ApprovalOut,
    AwaitingApproval,
    AwaitingPost,
    BulkApproval,
    CreatedPost,
    ItemResult,
    OrderCheck,
    PhysicalOrderIn,
    PhysicalOrderOut,
    PostBatch,
    PostBatchOut,
    PublicKey,
    QrCheck,
    StageReport,
    Withdrawal,
)

router = APIRouter(tags=["supernumerary posts and service-security orders"])


@router.post("/posts", response_model=PostBatchOut)
async def create_posts(
    body: PostBatch,
    request: Request,
    ctx: OrdersContext = Depends(context),
    finance: Principal = Depends(require_roles(FINANCE, ADMIN_SECRETARY)),
) -> PostBatchOut:
    """Finance (or the Secretary a case's post was escalated to): create supernumerary posts for a batch of
    verified cases."""
    batch_id, posts = await service.create_posts(ctx, finance, body.application_nos, client_addr(request))
    return PostBatchOut(batch_id=batch_id, posts=[CreatedPost(**p) for p in posts])


@router.get("/posts/awaiting", response_model=list[AwaitingPost])
async def cases_awaiting_posts(
    department: str | None = None,
    post_code: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    ctx: OrdersContext = Depends(context),
    _: Principal = Depends(require_roles(FINANCE)),
) -> list[dict[str, Any]]:
    """Finance: verified, eligible cases without a supernumerary post, by department and post."""
    return await service.awaiting_posts(ctx, department, post_code, limit, offset)


@router.get("/orders/awaiting-approval", response_model=list[AwaitingApproval])
async def cases_awaiting_approval(
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    ctx: OrdersContext = Depends(context),
    hod: Principal = Depends(require_roles(HOD, ADMIN_SECRETARY)),
) -> list[dict[str, Any]]:
    """HoD: the department's cases with a post, waiting for final approval (a Secretary: those escalated)."""
    return await service.awaiting_approval(ctx, hod, limit, offset)


@router.post("/orders/approvals", response_model=list[ItemResult])
async def bulk_approve(
    body: BulkApproval,
    request: Request,
    ctx: OrdersContext = Depends(context),
    hod: Principal = Depends(require_roles(HOD, ADMIN_SECRETARY)),
) -> list[ItemResult]:
    """HoD: approve many at once; each is checked on its own and its outcome reported (each refusal logged)."""
    results = []
    for application_no in dict.fromkeys(body.application_nos):
        try:
            await service.approve(ctx, hod, application_no, client_addr(request))
            results.append(ItemResult(application_no=application_no, ok=True))
        except ApiError as err:
            log_denied_item(request, err, application_no)
            results.append(ItemResult(application_no=application_no, ok=False, code=err.code, message=err.message))
    return results


@router.get("/reports/stages", response_model=list[StageReport], tags=["reports"])
async def stage_report(
    ctx: OrdersContext = Depends(context),
    officer: Principal = Depends(require_roles(ADMINISTRATOR, ADMIN_SECRETARY, FINANCE)),
) -> list[dict[str, Any]]:
    """Pending and overdue supernumerary posts and approvals by department (a Secretary: their own)."""
    return await service.report(ctx, officer)


@router.post("/orders/{application_no}/approve", response_model=ApprovalOut)
async def approve(
    application_no: str,
    request: Request,
    ctx: OrdersContext = Depends(context),
    hod: Principal = Depends(require_roles(HOD, ADMIN_SECRETARY)),
) -> dict[str, Any]:
    """HoD (or the Secretary it was escalated to): final approval; the order is then issued for the case."""
    return await service.approve(ctx, hod, application_no, client_addr(request))


@router.get("/orders/public-key", response_model=PublicKey, tags=["public"])
async def public_key(ctx: OrdersContext = Depends(context)) -> PublicKey:
    """The Ed25519 key that signs every order's QR code."""
    key = signing_key(ctx.settings.order_signing_seed)
    signer = order_signer(ctx.settings.order_signing_pem)
    return PublicKey(
        algorithm="EdDSA (Ed25519), compact JWS",
        public_key_pem=public_key_pem(key),
        public_key_b64=public_key_b64(key),
        pdf_signing_chain_pem=signer.chain_pem.decode(),
    )


@router.post("/orders/verify-qr", response_model=OrderCheck, tags=["public"])
async def verify_qr(body: QrCheck, ctx: OrdersContext = Depends(context)) -> dict[str, Any]:
    """Public: is the order behind this QR code genuine, and still current?"""
    return await order_acts.check_qr(ctx, body.payload)


@router.post("/orders/physical", status_code=201, response_model=PhysicalOrderOut)
async def register_physical_order(
    body: PhysicalOrderIn,
    request: Request,
    ctx: OrdersContext = Depends(context),
    officer: Principal = Depends(require_roles(HOD, ADMINISTRATOR)),
) -> dict[str, Any]:
    """Declare a paper order void; the employee's case is flagged for processing on the portal."""
    return await order_acts.register_physical(ctx, officer, body, client_addr(request))


@router.get("/orders/{order_no:path}/verify", response_model=OrderCheck, tags=["public"])
async def verify_order(order_no: str, ctx: OrdersContext = Depends(context)) -> dict[str, Any]:
    """Public: is this order number genuine, and still current?"""
    return await order_acts.check_number(ctx, order_no)


@router.get(
    "/orders/{order_no:path}/pdf",
    response_class=Response,
    tags=["orders"],
    responses={200: {"content": {"application/pdf": {}}}},
)
async def order_pdf(
    order_no: str,
    ctx: OrdersContext = Depends(context),
    who: Principal = Depends(require_roles(EMPLOYEE, HOD, ADMIN_SECRETARY, ADMINISTRATOR)),
) -> Response:
    """The order as issued, for the employee and the department's officers."""
    content = await order_acts.pdf(ctx, who, order_no)
    return Response(
        content,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{order_no.replace("/", "-")}.pdf"'},
    )


@router.post("/orders/{order_no:path}/withdraw", response_model=OrderCheck, tags=["orders"])
async def withdraw_order(
    order_no: str,
    body: Withdrawal,
    request: Request,
    ctx: OrdersContext = Depends(context),
    officer: Principal = Depends(require_roles(HOD, ADMIN_SECRETARY, ADMINISTRATOR)),
) -> dict[str, Any]:
    """Withdraw an order: a new recorded act; the order itself is never changed."""
    return await order_acts.withdraw(ctx, officer, order_no, body.reason, client_addr(request))
