from app.models.base import Base, TimestampMixin
from app.models.order import Order, OrderItem, OrderStatus
from app.models.user import Address, User

__all__ = ["Address", "Base", "Order", "OrderItem", "OrderStatus", "TimestampMixin", "User"]
