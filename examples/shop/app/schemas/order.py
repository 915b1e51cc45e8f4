from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.models.order import OrderStatus


class OrderItemCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64, description="Stock keeping unit.")
    quantity: int = Field(gt=0, le=1000, description="Number of units ordered.")
    unit_price: Decimal = Field(gt=0, decimal_places=2, description="Price per unit.")


class OrderCreate(BaseModel):
    items: list[OrderItemCreate] = Field(min_length=1, description="At least one line item.")
    shipping_details: dict[str, str] = Field(
        default_factory=dict, description="Free-form delivery instructions."
    )


class OrderBulkCancel(BaseModel):
    order_ids: list[int] = Field(min_length=1, max_length=100, description="Orders to cancel.")


class OrderBulkCancelResult(BaseModel):
    cancelled_ids: list[int] = Field(description="Orders that were actually cancelled.")


class SpendSummary(BaseModel):
    status: str = Field(description="Order status the total was computed for.")
    total: Decimal = Field(description="Sum of order totals in that status.")


class OrderItemRead(BaseModel):
    id: int = Field(description="Line item identifier.")
    sku: str = Field(description="Stock keeping unit.")
    quantity: int = Field(description="Number of units ordered.")
    unit_price: Decimal = Field(description="Price per unit at the time of ordering.")

    class Config:
        orm_mode = True


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Order identifier.")
    status: OrderStatus = Field(description="Current fulfilment status.")
    total_amount: Decimal = Field(description="Order total across all line items.")
    shipping_details: dict[str, Any] = Field(description="Delivery instructions.")
    items: list[OrderItemRead] = Field(description="Line items of the order.")
    created_at: datetime = Field(description="When the order was placed.")
    shipped_at: datetime | None = Field(None, description="When the order left the warehouse.")
