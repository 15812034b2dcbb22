"""The control service's domain, in plain Python: what it collects about an order, the facts it
decides, and the reasons an order is cancelled. No AWS, no wire format, no environment."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shop_envelope import deterministic_id


class EventType(StrEnum):
    """The events the rules read, by their wire names."""

    ORDER_PLACED = "order-placed"
    CANCELLATION_REQUESTED = "order-cancellation-requested"
    INVENTORY_RESERVED = "inventory-reserved"
    RESERVATION_FAILED = "inventory-reservation-failed"
    PAYMENT_SUCCEEDED = "payment-succeeded"
    PAYMENT_FAILED = "payment-failed"
    PAYMENT_WINDOW_CLOSED = "payment-window-closed"
    CANCELLATION_WINDOW_CLOSED = "cancellation-window-closed"


class FactType(StrEnum):
    """The facts the rules emit, by their wire names."""

    FULFILLMENT_REQUESTED = "order-fulfillment-requested"
    CANCELLED = "order-cancelled"
    EXPIRED = "order-expired"
    CANCELLATION_REJECTED = "order-cancellation-rejected"


class CancellationReason(StrEnum):
    """Why an order was cancelled. The BFF's `cancellationReason` has the same names: they are
    shared through the `order-cancelled` event's schema, never through code."""

    PAYMENT_FAILED = "PAYMENT_FAILED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    CUSTOMER_REQUEST = "CUSTOMER_REQUEST"


@dataclass(frozen=True, order=True)
class Collected:
    """One event collected for an order: which event it was (its id), of what type, and when it
    happened (its envelope's timestamp, epoch ms). Ordered by time, then id: the one order every
    reader of the same set agrees on."""

    occurred_at: int
    event_id: str
    type: EventType
    order_id: str


@dataclass(frozen=True)
class Fact:
    """A fact the rules decided for an order: the rule that fired, what it emits and, for a
    cancellation, why. `decided_at` (epoch ms) becomes the published event's timestamp."""

    order_id: str
    rule: str
    type: FactType
    decided_at: int
    reason: CancellationReason | None = None

    @property
    def terminal(self) -> bool:
        return self.type is not FactType.CANCELLATION_REJECTED


@dataclass(frozen=True)
class OrderRecord:
    """Everything the store holds about one order: the events collected (each once), the outcome
    decided (its one terminal fact, if any) and the other facts already recorded, by rule."""

    order_id: str
    events: frozenset[Collected]
    outcome: Fact | None = None
    facts: frozenset[str] = frozenset()


class ControlError(Exception):
    """Base of the control service's domain errors."""


@dataclass(frozen=True)
class Window:
    """One of an order's timers: when it closes (epoch ms), the control service collects an event
    of type `kind` with this id, stamped with this time. The payment window closes `window` after
    the order was placed; a request to cancel an unpaid order replaces it with the cancellation
    window, which closes once a payment made before the request has had time to arrive."""

    order_id: str
    closes_at: int
    kind: EventType = EventType.PAYMENT_WINDOW_CLOSED

    @property
    def event_id(self) -> str:
        return deterministic_id(self.kind, self.order_id)

    def closed(self) -> Collected:
        """The event the timer delivers, as the store collects it."""
        return Collected(self.closes_at, self.event_id, self.kind, self.order_id)
