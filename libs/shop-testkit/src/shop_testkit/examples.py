"""Example domain events, for tests of code that works with any event (libraries, runners).

Services define their own events; these exist so generic code is tested against real-shaped ones.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from shop_envelope import WIRE_CONFIG, DomainEvent, EventFactory, deterministic_id


class Line(BaseModel):
    model_config = WIRE_CONFIG

    sku: str
    quantity: int = Field(gt=0)


class Order(BaseModel):
    model_config = WIRE_CONFIG

    id: str
    customer_id: str
    lines: list[Line] = Field(min_length=1)


class OrderPlaced(DomainEvent):
    type: Literal["order-placed"] = "order-placed"
    order: Order


class OrderCancelled(DomainEvent):
    type: Literal["order-cancelled"] = "order-cancelled"
    order: Order


def order(order_id: str = "order-1", *, quantity: int = 1) -> Order:
    return Order(
        id=order_id, customer_id="customer-1", lines=[Line(sku="SKU-1", quantity=quantity)]
    )


def order_placed(
    order_id: str = "order-1", *, source: str = "order-bff", quantity: int = 1
) -> OrderPlaced:
    return EventFactory(source=source, stage="test").create(
        OrderPlaced,
        order(order_id, quantity=quantity),
        partition_key=order_id,
        id=deterministic_id("order-placed", order_id),
    )
