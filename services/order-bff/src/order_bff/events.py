"""The domain events the BFF consumes and produces, as they are on the wire.

Consumed events are read tolerantly: each model declares only the fields the BFF needs, so their
producers may add fields freely. Produced events are the BFF's contract: their JSON Schemas are
committed under `contracts/` and a test fails when they drift.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from shop_envelope import DomainEvent, WireModel

from order_bff.domain import MAX_LINES, MAX_QUANTITY, CancellationReason

Sku = str


class Price(WireModel):
    amount: int = Field(ge=0, description="In the currency's minor unit (cents).")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")


# ---- consumed: the catalog, from inventory -------------------------------------------------------


class CatalogProduct(WireModel):
    sku: Sku = Field(min_length=1)
    name: str
    price: Price
    version: int = Field(ge=1)


class Stock(WireModel):
    sku: Sku = Field(min_length=1)
    available: int = Field(ge=0)
    version: int = Field(ge=1)


class ProductUpdated(DomainEvent):
    """From inventory: a product's name or price. The catalog view keeps the highest version."""

    type: Literal["product-updated"] = "product-updated"
    product: CatalogProduct


class StockLevelChanged(DomainEvent):
    """From inventory: what can still be reserved. The catalog view keeps the highest version."""

    type: Literal["stock-level-changed"] = "stock-level-changed"
    stock: Stock


# ---- consumed: what happened to an order, from inventory, stripe-esg, fulfillment-control -------


class ReservationReference(WireModel):
    order_id: str = Field(min_length=1)


class InventoryReserved(DomainEvent):
    """From inventory: the order's stock is held. Its history says so."""

    type: Literal["inventory-reserved"] = "inventory-reserved"
    reservation: ReservationReference


class InventoryReservationFailed(DomainEvent):
    """From inventory: some of the order's stock was short. Its history says so."""

    type: Literal["inventory-reservation-failed"] = "inventory-reservation-failed"
    reservation: ReservationReference


class PaymentReference(WireModel):
    order_id: str = Field(min_length=1)


class CreatedIntent(PaymentReference):
    client_secret: str = Field(
        min_length=1, description="Sealed by stripe-esg (shop_sealing): never in clear."
    )


class PaymentIntentCreated(DomainEvent):
    """From stripe-esg: the order can be paid. AWAITING_PAYMENT; its secret kept sealed."""

    type: Literal["payment-intent-created"] = "payment-intent-created"
    payment: CreatedIntent


class PaymentSucceeded(DomainEvent):
    """From stripe-esg: the customer paid. PAID."""

    type: Literal["payment-succeeded"] = "payment-succeeded"
    payment: PaymentReference


class PaymentFailed(DomainEvent):
    """From stripe-esg: a payment attempt failed. The payment shows FAILED."""

    type: Literal["payment-failed"] = "payment-failed"
    payment: PaymentReference


class PaymentRefunded(DomainEvent):
    """From stripe-esg: the payment was refunded. The payment shows REFUNDED."""

    type: Literal["payment-refunded"] = "payment-refunded"
    payment: PaymentReference


class PaymentCancelled(DomainEvent):
    """From stripe-esg: the payment intent was cancelled. The payment shows CANCELLED."""

    type: Literal["payment-cancelled"] = "payment-cancelled"
    payment: PaymentReference


class OrderReference(WireModel):
    id: str = Field(min_length=1)


class CancelledOrder(OrderReference):
    reason: CancellationReason


class OrderFulfillmentRequested(DomainEvent):
    """From fulfillment-control: stock reserved and paid. FULFILLMENT_REQUESTED."""

    type: Literal["order-fulfillment-requested"] = "order-fulfillment-requested"
    order: OrderReference


class OrderCancelled(DomainEvent):
    """From fulfillment-control: the order will not be fulfilled. CANCELLED, with its reason."""

    type: Literal["order-cancelled"] = "order-cancelled"
    order: CancelledOrder


class OrderExpired(DomainEvent):
    """From fulfillment-control: payment did not come in time. EXPIRED."""

    type: Literal["order-expired"] = "order-expired"
    order: OrderReference


class OrderCancellationRejected(DomainEvent):
    """From fulfillment-control: too late to cancel. Its history says so."""

    type: Literal["order-cancellation-rejected"] = "order-cancellation-rejected"
    order: OrderReference


CONSUMED: tuple[type[DomainEvent], ...] = (
    ProductUpdated,
    StockLevelChanged,
    InventoryReserved,
    InventoryReservationFailed,
    PaymentIntentCreated,
    PaymentSucceeded,
    PaymentFailed,
    PaymentRefunded,
    PaymentCancelled,
    OrderFulfillmentRequested,
    OrderCancelled,
    OrderExpired,
    OrderCancellationRejected,
)

# ---- produced ------------------------------------------------------------------------------------


class PlacedLine(WireModel):
    sku: Sku = Field(min_length=1)
    name: str
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit_price: Price


class PlacedOrder(WireModel):
    id: str = Field(min_length=1)
    customer_id: str = Field(min_length=1, description="The customer: their token's subject.")
    lines: list[PlacedLine] = Field(
        min_length=1, max_length=MAX_LINES, description="One line per sku."
    )
    total: Price = Field(description="The sum of the lines, in their one currency.")
    placed_at: int = Field(ge=0, description="Epoch milliseconds.")


class OrderPlaced(DomainEvent):
    """A customer placed an order, at the catalog's prices."""

    type: Literal["order-placed"] = "order-placed"
    order: PlacedOrder


class CancellationRequest(WireModel):
    id: str = Field(min_length=1)
    customer_id: str = Field(min_length=1)


class OrderCancellationRequested(DomainEvent):
    """The customer asked to cancel the order; fulfillment-control decides."""

    type: Literal["order-cancellation-requested"] = "order-cancellation-requested"
    order: CancellationRequest


PRODUCED: tuple[type[DomainEvent], ...] = (OrderPlaced, OrderCancellationRequested)
