from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.common.auth import FINANCE, HOD, Principal, require_roles
from services.common.errors import ApiError
from services.common.runtime import ServiceContext, client_addr, context

from . import service
from .schemas import ApprovalOut, CreatedPost, OrderCheck, PostBatch, PostBatchOut

router = APIRouter(tags=["supernumerary posts and service-security orders"])


@router.post("/posts", response_model=PostBatchOut)
async def create_posts(body: PostBatch, request: Request, ctx: ServiceContext = Depends(context),
                       finance: Principal = Depends(require_roles(FINANCE))):
    """Finance: create supernumerary posts for a batch of verified cases."""
    batch_id, posts = await service.create_posts(ctx, finance, body.application_nos, client_addr(request))
    return PostBatchOut(batch_id=batch_id, posts=[CreatedPost(**p) for p in posts])


@router.post("/orders/{application_no}/approve", response_model=ApprovalOut)
async def approve(application_no: str, request: Request, ctx: ServiceContext = Depends(context),
                  hod: Principal = Depends(require_roles(HOD))):
    """HoD: final approval; the service-security order is then issued for the case."""
    return await service.approve(ctx, hod, application_no, client_addr(request))


@router.get("/orders/{order_no:path}/verify", response_model=OrderCheck, tags=["public"])
async def verify_order(order_no: str, ctx: ServiceContext = Depends(context)):
    """Public: is this order number genuine?"""
    row = await ctx.pool.fetchrow("SELECT order_no, department, issued_at FROM orders.service_security_order "
                                  "WHERE order_no = $1", order_no)
    if row is None:
        raise ApiError(404, "order_not_found", f"No service-security order {order_no} was issued on this portal.")
    return OrderCheck(genuine=True, **dict(row))
