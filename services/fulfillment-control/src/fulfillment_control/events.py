"""The domain events the control service consumes and produces, as they are on the wire.

Consumed events are read tolerantly: each model declares only what the rules need (the order it
belongs to; the envelope gives its id and timestamp), so producers may add fields freely.
Produced events are the service's contract: their JSON Schemas are committed under `contracts/`
and a test fails when they drift. `payment-window-closed` and `cancellation-window-closed` are
both: the service's own timers put them on the bus, and the service collects them like any other
event of the order.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from shop_envelope import DomainEvent, WireModel

from fulfillment_control.domain import CancellationReason

# ---- consumed ----------------------------------------------------------------------------------


class OrderReference(WireModel):
    id: str = Field(min_length=1, description="The order's id.")


class OrderOfReservation(WireModel):
    order_id: str = Field(min_length=1)


class OrderOfPayment(WireModel):
    order_id: str = Field(min_length=1)


class OrderPlaced(DomainEvent):
    """From order-bff: the payment window opens at its timestamp."""

    type: Literal["order-placed"] = "order-placed"
    order: OrderReference

    @property
    def order_id(self) -> str:
        return self.order.id


class OrderCancellationRequested(DomainEvent):
    """From order-bff: the customer asks to cancel the order."""

    type: Literal["order-cancellation-requested"] = "order-cancellation-requested"
    order: OrderReference

    @property
    def order_id(self) -> str:
        return self.order.id


class InventoryReserved(DomainEvent):
    """From inventory: every line of the order is held."""

    type: Literal["inventory-reserved"] = "inventory-reserved"
    reservation: OrderOfReservation

    @property
    def order_id(self) -> str:
        return self.reservation.order_id


class InventoryReservationFailed(DomainEvent):
    """From inventory: some line of the order could not be held."""

    type: Literal["inventory-reservation-failed"] = "inventory-reservation-failed"
    reservation: OrderOfReservation

    @property
    def order_id(self) -> str:
        return self.reservation.order_id


class PaymentSucceeded(DomainEvent):
    """From stripe-esg: the order's payment went through."""

    type: Literal["payment-succeeded"] = "payment-succeeded"
    payment: OrderOfPayment

    @property
    def order_id(self) -> str:
        return self.payment.order_id


class PaymentFailed(DomainEvent):
    """From stripe-esg: the order's payment was declined."""

    type: Literal["payment-failed"] = "payment-failed"
    payment: OrderOfPayment

    @property
    def order_id(self) -> str:
        return self.payment.order_id


# ---- produced ----------------------------------------------------------------------------------


class CancelledOrder(OrderReference):
    reason: CancellationReason = Field(
        description="Why: the BFF's cancellationReason has the same names."
    )


class PaymentWindowClosed(DomainEvent):
    """From the control service's own timer: the order's payment window closed (its timestamp
    is the moment it closed). Collected like any other event of the order."""

    type: Literal["payment-window-closed"] = "payment-window-closed"
    order: OrderReference

    @property
    def order_id(self) -> str:
        return self.order.id


class CancellationWindowClosed(DomainEvent):
    """From the control service's own timer: the customer asked to cancel an unpaid order, and the
    time a payment made before the request had to arrive has passed (its timestamp). Collected like
    any other event of the order: with no payment before it, the cancellation stands."""

    type: Literal["cancellation-window-closed"] = "cancellation-window-closed"
    order: OrderReference

    @property
    def order_id(self) -> str:
        return self.order.id


class OrderFulfillmentRequested(DomainEvent):
    """Stock reserved and payment taken: ship it (the inventory commits the stock)."""

    type: Literal["order-fulfillment-requested"] = "order-fulfillment-requested"
    order: OrderReference


class OrderCancelled(DomainEvent):
    """The order will not be fulfilled (the inventory releases its stock; stripe-esg refunds a
    payment that succeeded)."""

    type: Literal["order-cancelled"] = "order-cancelled"
    order: CancelledOrder


class OrderExpired(DomainEvent):
    """No payment came within the window (the inventory releases its stock; stripe-esg cancels
    the intent, or refunds a payment that came late)."""

    type: Literal["order-expired"] = "order-expired"
    order: OrderReference


class OrderCancellationRejected(DomainEvent):
    """The customer asked to cancel after the order went to fulfillment: it goes on. Not an
    outcome: the order's outcome is still its fulfillment."""

    type: Literal["order-cancellation-rejected"] = "order-cancellation-rejected"
    order: OrderReference


Collectable = (
    OrderPlaced
    | OrderCancellationRequested
    | InventoryReserved
    | InventoryReservationFailed
    | PaymentSucceeded
    | PaymentFailed
    | PaymentWindowClosed
    | CancellationWindowClosed
)

CONSUMED: tuple[type[Collectable], ...] = (
    OrderPlaced,
    OrderCancellationRequested,
    InventoryReserved,
    InventoryReservationFailed,
    PaymentSucceeded,
    PaymentFailed,
    PaymentWindowClosed,
    CancellationWindowClosed,
)

PRODUCED: tuple[type[DomainEvent], ...] = (
    OrderFulfillmentRequested,
    OrderCancelled,
    OrderExpired,
    OrderCancellationRejected,
    PaymentWindowClosed,
    CancellationWindowClosed,
)
