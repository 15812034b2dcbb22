"""An in-memory stock ledger with the DynamoDB adapter's exact contract, failures included.

For tests and benchmarks of the model: the same contract tests run against this and against the
DynamoDB adapter on moto, so what passes here holds there. A lock stands in for DynamoDB's
serializable transactions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from inventory.domain import (
    InsufficientStock,
    Product,
    ReleaseReason,
    Reservation,
    ReservationExists,
    ReservationNotFound,
    ReservationSettled,
    ReservationStatus,
    Shortage,
    StockLevel,
    UnknownProduct,
)
from inventory.ports import Settlement


@dataclass
class _Shelf:
    product: Product
    on_hand: int
    reserved: int = 0

    def level(self) -> StockLevel:
        return StockLevel(self.product.sku, self.on_hand, self.reserved)


class InMemoryStockLedger:
    def __init__(self) -> None:
        self._shelves: dict[str, _Shelf] = {}
        self._reservations: dict[str, Reservation] = {}
        self._lock = threading.Lock()

    def reserve(self, reservation: Reservation) -> None:
        with self._lock:
            existing = self._reservations.get(reservation.order_id)
            if existing is not None:
                raise ReservationExists(reservation.order_id, existing.status)
            shortages = [
                Shortage(line.sku, line.quantity, available)
                for line in reservation.lines
                if (available := self._available(line.sku)) < line.quantity
            ]
            if shortages:
                raise InsufficientStock(shortages)
            for line in reservation.lines:
                self._shelves[line.sku].reserved += line.quantity
            self._reservations[reservation.order_id] = reservation

    def _available(self, sku: str) -> int:
        shelf = self._shelves.get(sku)
        return shelf.level().available if shelf else 0

    def record(self, reservation: Reservation) -> None:
        if reservation.holding():
            raise ValueError("a reservation that holds stock is made with reserve()")
        with self._lock:
            existing = self._reservations.get(reservation.order_id)
            if existing is not None:
                raise ReservationExists(reservation.order_id, existing.status)
            self._reservations[reservation.order_id] = reservation

    def settle(
        self, order_id: str, outcome: Settlement, reason: ReleaseReason | None = None
    ) -> Reservation:
        with self._lock:
            reservation = self._reservations.get(order_id)
            if reservation is None:
                raise ReservationNotFound(order_id)
            if reservation.is_settled:
                raise ReservationSettled(order_id, reservation.status)
            for line in reservation.lines:
                shelf = self._shelves[line.sku]
                shelf.reserved -= line.quantity
                if outcome is ReservationStatus.COMMITTED:
                    shelf.on_hand -= line.quantity
            settled = replace(reservation, status=outcome, reason=reason)
            self._reservations[order_id] = settled
            return settled

    def reservation(self, order_id: str) -> Reservation | None:
        with self._lock:
            return self._reservations.get(order_id)

    def stock(self, sku: str) -> StockLevel | None:
        with self._lock:
            shelf = self._shelves.get(sku)
            return shelf.level() if shelf else None

    def list_product(self, product: Product, *, initial_stock: int) -> bool:
        with self._lock:
            shelf = self._shelves.get(product.sku)
            if shelf is None:
                self._shelves[product.sku] = _Shelf(product, on_hand=initial_stock)
                return True
            if shelf.product == product:
                return False
            shelf.product = product
            return True

    def restock(self, sku: str, quantity: int) -> StockLevel:
        with self._lock:
            shelf = self._shelves.get(sku)
            if shelf is None:
                raise UnknownProduct(sku)
            shelf.on_hand += quantity
            return shelf.level()
