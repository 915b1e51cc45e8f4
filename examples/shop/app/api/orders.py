from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from app.api.users import CurrentUserDep
from app.db import SessionDep
from app.models import Order
from app.schemas.order import (
    OrderBulkCancel,
    OrderBulkCancelResult,
    OrderCreate,
    OrderRead,
    SpendSummary,
)
from app.services import order_service

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=list[OrderRead])
async def list_my_orders(
    session: SessionDep,
    current_user: CurrentUserDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
):
    """List the caller's orders, newest first."""
    return await order_service.list_orders_for_user(
        session, current_user.id, offset=offset, limit=limit
    )


@router.post("", response_model=OrderRead)
async def create_order(
    payload: OrderCreate, session: SessionDep, current_user: CurrentUserDep
) -> Order:
    """Place a new order for the caller."""
    return await order_service.create_order(session, current_user.id, payload)


@router.get("/spend", response_model=SpendSummary)
async def get_spend(
    session: SessionDep,
    current_user: CurrentUserDep,
    order_status: Annotated[str, Query(alias="status", max_length=32)] = "paid",
) -> SpendSummary:
    """Total amount the caller has spent on orders in the given status."""
    total = await order_service.total_spent(session, current_user.id, order_status)
    return SpendSummary(status=order_status, total=total)


@router.post("/cancel", response_model=OrderBulkCancelResult, status_code=status.HTTP_200_OK)
async def cancel_orders(
    payload: OrderBulkCancel, session: SessionDep, current_user: CurrentUserDep
) -> OrderBulkCancelResult:
    """Cancel several of the caller's orders; ids that cannot be cancelled are skipped."""
    cancelled = await order_service.cancel_orders(session, current_user.id, payload.order_ids)
    return OrderBulkCancelResult(cancelled_ids=cancelled)


@router.get("/{order_id}", response_model=OrderRead)
async def get_order(order_id: int, session: SessionDep, current_user: CurrentUserDep) -> Order:
    """Fetch one of the caller's orders."""
    order = await order_service.get_order(session, order_id)
    if order is None or order.user_id != current_user.id:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Order not found")
    return order
