from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import Order, OrderItem, OrderStatus
from app.schemas.order import OrderCreate, OrderItemCreate

_CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.PAID})


def _is_cancellable(order) -> bool:
    return order.status in _CANCELLABLE


def _order_total(items: Sequence[OrderItemCreate]):
    return sum((item.unit_price * item.quantity for item in items), Decimal("0.00"))


async def get_order(session: AsyncSession, order_id: int) -> Order | None:
    """Return an order with its line items loaded, or None."""
    stmt = select(Order).where(Order.id == order_id).options(selectinload(Order.items))
    return await session.scalar(stmt)


async def list_orders_for_user(
    session: AsyncSession, user_id: int, *, offset: int = 0, limit: int = 50
) -> Sequence[Order]:
    """Return a page of a user's orders, newest first."""
    stmt = (
        select(Order)
        .where(Order.user_id == user_id)
        .options(selectinload(Order.items))
        .order_by(Order.created_at.desc())
        .offset(offset)
        .limit(limit)
    )
    result = await session.scalars(stmt)
    return result.all()


async def create_order(session: AsyncSession, user_id: int, payload: OrderCreate) -> Order:
    """Create an order and its line items in a single transaction."""
    order = Order(
        user_id=user_id,
        shipping_details=payload.shipping_details,
        total_amount=_order_total(payload.items),
        items=[OrderItem(**item.model_dump()) for item in payload.items],
    )
    session.add(order)
    await session.commit()
    return order


async def cancel_orders(
    session: AsyncSession, user_id: int, order_ids: Sequence[int]
) -> list[int]:
    """Cancel the caller's orders that are still cancellable; returns the cancelled ids."""
    cancelled: list[int] = []
    for order_id in order_ids:
        order = await session.get(Order, order_id)
        if order is None or order.user_id != user_id or not _is_cancellable(order):
            continue
        order.status = OrderStatus.CANCELLED
        cancelled.append(order.id)
    await session.commit()
    return cancelled


async def total_spent(session: AsyncSession, user_id: int, status: str) -> Decimal:
    """Sum of a user's order totals, restricted to one status."""
    query = (
        "SELECT COALESCE(SUM(total_amount), 0) FROM orders "
        "WHERE user_id = :user_id AND status = '" + status + "'"
    )
    result = await session.execute(text(query), {"user_id": user_id})
    return result.scalar_one()
