"""The domain events the inventory consumes and produces, as they are on the wire.

Consumed events are read tolerantly: each model declares only the fields the inventory needs, so
their producers may add fields freely. Produced events are the inventory's contract: their JSON
Schemas are committed under `contracts/` and a test fails when they drift.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from shop_envelope import DomainEvent, WireModel

from inventory.domain import MAX_LINES, ReleaseReason

Sku = str


# ---- consumed ----------------------------------------------------------------------------------


class OrderLine(WireModel):
    sku: Sku = Field(min_length=1)
    quantity: int = Field(gt=0)


class PlacedOrder(WireModel):
    id: str = Field(min_length=1)
    # Lines are combined per sku before reserving; the limit is on the combined lines.
    lines: list[OrderLine] = Field(min_length=1)


class OrderReference(WireModel):
    id: str = Field(min_length=1)


class OrderPlaced(DomainEvent):
    """From order-bff: a customer placed an order. Reserve every line."""

    type: Literal["order-placed"] = "order-placed"
    order: PlacedOrder


class OrderCancelled(DomainEvent):
    """From fulfillment-control: the order will not be fulfilled. Release its stock."""

    type: Literal["order-cancelled"] = "order-cancelled"
    order: OrderReference


class OrderExpired(DomainEvent):
    """From fulfillment-control: payment did not come in time. Release its stock."""

    type: Literal["order-expired"] = "order-expired"
    order: OrderReference


class OrderFulfillmentRequested(DomainEvent):
    """From fulfillment-control: stock reserved and payment taken. Commit its stock."""

    type: Literal["order-fulfillment-requested"] = "order-fulfillment-requested"
    order: OrderReference


CONSUMED: tuple[type[DomainEvent], ...] = (
    OrderPlaced,
    OrderCancelled,
    OrderExpired,
    OrderFulfillmentRequested,
)

# ---- produced ----------------------------------------------------------------------------------


class ReservedLine(WireModel):
    sku: Sku
    quantity: int = Field(gt=0)


class ShortLine(WireModel):
    sku: Sku
    requested: int = Field(gt=0)
    available: int = Field(ge=0, description="0 when the catalog has no such product.")


class ReservationFacts(WireModel):
    """What every reservation event says: which reservation, of which order, for what."""

    id: str = Field(description="The reservation's id; one reservation per order.")
    order_id: str
    lines: list[ReservedLine] = Field(min_length=1, max_length=MAX_LINES)


class HeldReservation(ReservationFacts):
    expires_at: int = Field(
        description="Epoch seconds after which the safety net releases it, if nothing else has."
    )


class FailedReservation(ReservationFacts):
    shortages: list[ShortLine] = Field(min_length=1, description="Every line that was short.")


class ReleasedReservation(ReservationFacts):
    reason: ReleaseReason


class CommittedReservation(ReservationFacts):
    pass


class Price(WireModel):
    amount: int = Field(ge=0, description="In the currency's minor unit (cents).")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")


class CatalogProduct(WireModel):
    sku: Sku
    name: str
    price: Price
    version: int = Field(ge=1, description="Increases with every change of the product's item.")


class Stock(WireModel):
    sku: Sku
    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)
    available: int = Field(ge=0, description="What can still be reserved: on hand less reserved.")
    version: int = Field(
        ge=1, description="Increases with every change: keep the highest, drop older ones."
    )


class InventoryReserved(DomainEvent):
    type: Literal["inventory-reserved"] = "inventory-reserved"
    reservation: HeldReservation


class InventoryReservationFailed(DomainEvent):
    type: Literal["inventory-reservation-failed"] = "inventory-reservation-failed"
    reservation: FailedReservation


class InventoryReleased(DomainEvent):
    type: Literal["inventory-released"] = "inventory-released"
    reservation: ReleasedReservation


class InventoryCommitted(DomainEvent):
    type: Literal["inventory-committed"] = "inventory-committed"
    reservation: CommittedReservation


class ProductUpdated(DomainEvent):
    """A product was added to the catalog, or its name or price changed."""

    type: Literal["product-updated"] = "product-updated"
    product: CatalogProduct


class StockLevelChanged(DomainEvent):
    type: Literal["stock-level-changed"] = "stock-level-changed"
    stock: Stock


PRODUCED: tuple[type[DomainEvent], ...] = (
    InventoryReserved,
    InventoryReservationFailed,
    InventoryReleased,
    InventoryCommitted,
    ProductUpdated,
    StockLevelChanged,
)
