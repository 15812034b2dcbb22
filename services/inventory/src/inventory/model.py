"""What the inventory does when an order is placed, ends or is fulfilled.

Each operation is idempotent and tolerates reordering: events arrive at least once and not always
in order, so a duplicate is a no-op, a release that comes before its reservation leaves a VOID
mark the reservation then respects, and a commit that comes too early is retried by its source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shop_envelope import now_ms

from inventory.domain import (
    CannotCommit,
    InsufficientStock,
    Line,
    Product,
    ReleaseReason,
    Reservation,
    ReservationExists,
    ReservationNotFound,
    ReservationSettled,
    ReservationStatus,
    StockLevel,
    new_reservation,
    void_reservation,
)
from inventory.ports import StockLedger

logger = logging.getLogger(__name__)

# The one default of the hold time: settings and templates that name none get this one.
DEFAULT_HOLD_SECONDS = 2 * 3600


@dataclass(frozen=True)
class Inventory:
    """`hold_seconds` is how long a reservation may stay neither committed nor released before the
    safety net releases it: longer than any payment should take, since fulfillment-control expires
    unpaid orders itself and this only catches what would otherwise leak."""

    ledger: StockLedger
    hold_seconds: int = DEFAULT_HOLD_SECONDS
    clock: Callable[[], int] = now_ms  # epoch ms, the one clock of the service

    def reserve(self, order_id: str, lines: Iterable[Line]) -> Reservation:
        """Hold every line of the order, or none and record which were short."""
        reservation = new_reservation(
            order_id, lines, expires_at=self.clock() // 1000 + self.hold_seconds
        )
        try:
            self.ledger.reserve(reservation)
        except ReservationExists as exists:
            logger.info("order already has a reservation", extra=_fields(exists))
            return self._current(order_id)
        except InsufficientStock as short:
            failed = reservation.failed(short.shortages)
            try:
                self.ledger.record(failed)
            except ReservationExists as exists:  # decided meanwhile by a concurrent delivery
                logger.info("order already has a reservation", extra=_fields(exists))
                return self._current(order_id)
            logger.info(
                "reservation failed",
                extra={"order_id": order_id, "short_skus": [s.sku for s in short.shortages]},
            )
            return failed
        logger.info("stock reserved", extra={"order_id": order_id, "lines": len(reservation.lines)})
        return reservation

    def release(self, order_id: str, reason: ReleaseReason) -> Reservation:
        """Give back what the order holds. An order not reserved yet is marked VOID, so its
        reservation, should its order-placed event still come, holds nothing."""
        while True:
            try:
                released = self.ledger.settle(order_id, ReservationStatus.RELEASED, reason)
            except ReservationSettled as settled:
                logger.info("reservation already settled", extra=_fields(settled))
                return self._current(order_id)
            except ReservationNotFound:
                void = void_reservation(order_id, reason)
                try:
                    self.ledger.record(void)
                except ReservationExists:
                    continue  # reserved in the meantime: release that reservation instead
                logger.info(
                    "order ended before it was reserved",
                    extra={"order_id": order_id, "reason": reason},
                )
                return void
            logger.info("stock released", extra={"order_id": order_id, "reason": reason})
            return released

    def commit(self, order_id: str) -> Reservation:
        """Take the order's units off the shelf for good: they are being shipped."""
        try:
            committed = self.ledger.settle(order_id, ReservationStatus.COMMITTED)
        except ReservationSettled as settled:
            if settled.status is ReservationStatus.COMMITTED:
                logger.info("reservation already committed", extra=_fields(settled))
                return self._current(order_id)
            raise CannotCommit(order_id, settled.status) from settled
        # ReservationNotFound propagates: the reservation may still come, so the source retries.
        logger.info("stock committed", extra={"order_id": order_id})
        return committed

    def list_product(self, product: Product, *, initial_stock: int) -> bool:
        if initial_stock < 0:
            raise ValueError(f"initial stock is not negative: {initial_stock}")
        return self.ledger.list_product(product, initial_stock=initial_stock)

    def restock(self, sku: str, quantity: int) -> StockLevel:
        if quantity < 1:
            raise ValueError(f"restock at least one unit, not {quantity}")
        return self.ledger.restock(sku, quantity)

    def _current(self, order_id: str) -> Reservation:
        reservation = self.ledger.reservation(order_id)
        if reservation is None:  # pragma: no cover - reservations are never deleted
            raise ReservationNotFound(order_id)
        return reservation


def _fields(error: ReservationExists | ReservationSettled) -> dict[str, str]:
    return {"order_id": error.order_id, "status": str(error.status)}
