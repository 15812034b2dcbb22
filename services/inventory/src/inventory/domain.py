"""The inventory's domain: products, their stock, and the reservations orders hold on it.

Pure Python with the business's names: no AWS, no Lambda, no environment. The rules that need
atomicity across items (never oversell, settle a reservation once) are kept by the ledger's
conditional writes; this module says what those rules are and what their outcomes mean.

A reservation's life:

    (none) --reserve--> RESERVED --release--> RELEASED
       |                    \\-----commit---> COMMITTED
       |--short-----------> FAILED            (held nothing; nothing to give back)
       \\--release first---> VOID              (the order ended before it was reserved: a later
                                               order-placed for it must reserve nothing)

Every state but RESERVED is final, which is what makes each order reserved, released or committed
at most once however often, and in whatever order, its events arrive.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from shop_envelope import deterministic_id

# One DynamoDB transaction holds at most 100 items: the reservation, its expiry timer, the lines.
MAX_LINES = 98
CURRENCY = re.compile(r"^[A-Z]{3}$")


class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    FAILED = "failed"
    RELEASED = "released"
    COMMITTED = "committed"
    VOID = "void"


class ReleaseReason(StrEnum):
    """Why reserved stock went back on the shelf."""

    ORDER_CANCELLED = "order-cancelled"
    ORDER_EXPIRED = "order-expired"
    RESERVATION_EXPIRED = "reservation-expired"  # the safety net: never committed nor released


# ---- errors: each one a fact about the request, typed so callers can decide what it means ------


class InventoryError(Exception):
    """Base of the inventory's domain errors."""


class InvalidOrder(InventoryError):
    """An order that cannot be reserved as it is (no lines, too many, a bad quantity)."""


class UnknownProduct(InventoryError):
    def __init__(self, sku: str) -> None:
        self.sku = sku
        super().__init__(f"no product with sku {sku!r} is in the catalog")


class InsufficientStock(InventoryError):
    """At least one line cannot be held: `shortages` names each one."""

    def __init__(self, shortages: Iterable[Shortage]) -> None:
        self.shortages = tuple(shortages)
        short = ", ".join(f"{s.sku} ({s.available} of {s.requested})" for s in self.shortages)
        super().__init__(f"not enough stock: {short}")


class ReservationExists(InventoryError):
    """The order already has a reservation (a duplicate or a late event): nothing was changed."""

    def __init__(self, order_id: str, status: ReservationStatus) -> None:
        self.order_id = order_id
        self.status = status
        super().__init__(f"order {order_id} already has a reservation ({status})")


class ReservationNotFound(InventoryError):
    """The order has no reservation yet. For a commit this is retryable: the order-placed event
    that makes the reservation may still be on its way."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} has no reservation")


class ReservationSettled(InventoryError):
    """The reservation is no longer RESERVED, so it can be neither released nor committed."""

    def __init__(self, order_id: str, status: ReservationStatus) -> None:
        self.order_id = order_id
        self.status = status
        super().__init__(f"the reservation of order {order_id} is {status}, not reserved")


class CannotCommit(InventoryError):
    """Fulfillment was requested for an order whose stock is not held (released, short or void).

    Not retryable: it needs a person, so the event is parked as a fault, where it can be
    resubmitted once the stock question is settled."""

    def __init__(self, order_id: str, status: ReservationStatus) -> None:
        self.order_id = order_id
        self.status = status
        super().__init__(f"cannot commit order {order_id}: its reservation is {status}")


class StockContention(InventoryError):
    """Concurrent writes kept conflicting on the same items: transient, worth a retry later."""


# ---- values ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int

    def __post_init__(self) -> None:
        if not self.sku:
            raise InvalidOrder("a line needs a sku")
        if self.quantity < 1:
            raise InvalidOrder(f"line {self.sku}: quantity must be at least 1, not {self.quantity}")


def combine(lines: Iterable[Line]) -> tuple[Line, ...]:
    """One line per sku, quantities added, in sku order: a transaction touches an item once, and
    the same order of items for every reservation makes contention fair."""
    quantities: Counter[str] = Counter()
    for line in lines:
        quantities[line.sku] += line.quantity
    if not quantities:
        raise InvalidOrder("an order needs at least one line")
    if len(quantities) > MAX_LINES:
        raise InvalidOrder(f"an order holds at most {MAX_LINES} products, not {len(quantities)}")
    return tuple(Line(sku, quantity) for sku, quantity in sorted(quantities.items()))


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    requested: int
    available: int  # 0 for a product the catalog does not have


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor unit (cents), never a float."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"a price is not negative: {self.amount}")
        if not CURRENCY.match(self.currency):
            raise ValueError(f"a currency is an ISO 4217 code such as EUR, not {self.currency!r}")


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price: Money

    def __post_init__(self) -> None:
        if not self.sku or not self.name:
            raise ValueError("a product needs a sku and a name")


@dataclass(frozen=True, slots=True)
class StockLevel:
    """`available` is what can still be reserved: on hand, less what reservations hold."""

    sku: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class Reservation:
    order_id: str
    status: ReservationStatus
    lines: tuple[Line, ...] = ()
    expires_at: int | None = None  # epoch seconds: when the safety net releases it
    shortages: tuple[Shortage, ...] = field(default=())
    reason: ReleaseReason | None = None

    @property
    def id(self) -> str:
        # One reservation per order, so its id follows from the order's.
        return reservation_id(self.order_id)

    @property
    def is_settled(self) -> bool:
        return self.status is not ReservationStatus.RESERVED

    def holding(self) -> dict[str, int]:
        """The units this reservation holds, by sku (none unless RESERVED)."""
        if self.status is not ReservationStatus.RESERVED:
            return {}
        return {line.sku: line.quantity for line in self.lines}

    def failed(self, shortages: Iterable[Shortage]) -> Reservation:
        return replace(self, status=ReservationStatus.FAILED, shortages=tuple(shortages))


def reservation_id(order_id: str) -> str:
    return deterministic_id("reservation", order_id)


def new_reservation(order_id: str, lines: Iterable[Line], *, expires_at: int) -> Reservation:
    if not order_id:
        raise InvalidOrder("an order needs an id")
    return Reservation(order_id, ReservationStatus.RESERVED, combine(lines), expires_at)


def void_reservation(order_id: str, reason: ReleaseReason) -> Reservation:
    """The mark left when an order ends before its reservation was made."""
    return Reservation(order_id, ReservationStatus.VOID, reason=reason)
