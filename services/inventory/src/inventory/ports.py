"""The port the model depends on: where stock and reservations are kept, atomically.

The DynamoDB adapter implements it with conditional writes and transactions; the in-memory one
implements the very same contract for tests, and one suite of tests runs against both.
"""

from __future__ import annotations

from typing import Literal, Protocol

from inventory.domain import (
    Product,
    ReleaseReason,
    Reservation,
    ReservationStatus,
    StockLevel,
)

Settlement = Literal[ReservationStatus.RELEASED, ReservationStatus.COMMITTED]


class StockLedger(Protocol):
    def reserve(self, reservation: Reservation) -> None:
        """Record a RESERVED reservation and hold each of its lines, all or nothing.

        Raises `ReservationExists` if the order has one already (whatever else is true), else
        `InsufficientStock` naming every line that cannot be held; nothing is changed then."""

    def record(self, reservation: Reservation) -> None:
        """Record a reservation that holds nothing (FAILED or VOID). `ReservationExists` if the
        order has one already."""

    def settle(
        self, order_id: str, outcome: Settlement, reason: ReleaseReason | None = None
    ) -> Reservation:
        """Move a RESERVED reservation to RELEASED (its units go back to available) or COMMITTED
        (its units leave the shelf), all or nothing; the settled reservation.

        `ReservationNotFound` if there is none, `ReservationSettled` if it is not RESERVED."""

    def reservation(self, order_id: str) -> Reservation | None: ...

    def stock(self, sku: str) -> StockLevel | None: ...

    def list_product(self, product: Product, *, initial_stock: int) -> bool:
        """Add the product with `initial_stock` units, or update its name and price (its stock is
        left as it is). False when nothing changed."""

    def restock(self, sku: str, quantity: int) -> StockLevel:
        """Add `quantity` units on hand. `UnknownProduct` for a sku not in the catalog."""
