"""The stock ledger's contract, held by both adapters: DynamoDB on moto and the in-memory fake.

Every test runs once per adapter (the `ledger` fixture), so the fake the model's tests rely on
behaves as the real adapter does, failures included.
"""

from collections.abc import Callable

import pytest
from inventory.domain import (
    InsufficientStock,
    Line,
    Money,
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
    new_reservation,
    void_reservation,
)
from inventory.ports import Settlement, StockLedger

StockUp = Callable[..., None]

RESERVED = ReservationStatus.RESERVED
RELEASED: Settlement = ReservationStatus.RELEASED
COMMITTED: Settlement = ReservationStatus.COMMITTED


def reservation(order_id: str = "order-1", **lines: int) -> Reservation:
    return new_reservation(
        order_id,
        [Line(sku.replace("_", "-"), quantity) for sku, quantity in lines.items()],
        expires_at=2_000_000_000,
    )


def test_a_reservation_holds_every_line(ledger: StockLedger, stock_up: StockUp) -> None:
    # Given two products in stock
    stock_up(ledger, SKU_1=5, SKU_2=3)

    # When an order reserves some of each
    ledger.reserve(reservation(SKU_1=2, SKU_2=3))

    # Then the units are held, not gone, and the reservation is recorded
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", on_hand=5, reserved=2)
    assert ledger.stock("SKU-2") == StockLevel("SKU-2", on_hand=3, reserved=3)
    assert ledger.reservation("order-1") == reservation(SKU_1=2, SKU_2=3)


def test_a_short_line_holds_nothing_and_names_every_short_line(
    ledger: StockLedger, stock_up: StockUp
) -> None:
    # Given one product with 1 unit, one with plenty, and an order for a product not listed
    stock_up(ledger, SKU_1=1, SKU_2=10)

    # When an order wants 2 of the first, 1 of the second and 1 of the unknown one
    with pytest.raises(InsufficientStock) as short:
        ledger.reserve(reservation(SKU_1=2, SKU_2=1, SKU_9=1))

    # Then it names both short lines with what was available, and nothing was held
    assert set(short.value.shortages) == {Shortage("SKU-1", 2, 1), Shortage("SKU-9", 1, 0)}
    assert ledger.stock("SKU-2") == StockLevel("SKU-2", on_hand=10, reserved=0)
    assert ledger.reservation("order-1") is None


def test_an_order_is_reserved_once(ledger: StockLedger, stock_up: StockUp) -> None:
    stock_up(ledger, SKU_1=5)
    ledger.reserve(reservation(SKU_1=2))

    with pytest.raises(ReservationExists) as exists:
        ledger.reserve(reservation(SKU_1=2))

    assert exists.value.status is RESERVED
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", on_hand=5, reserved=2)


def test_an_existing_reservation_wins_over_a_shortage(
    ledger: StockLedger, stock_up: StockUp
) -> None:
    # Given an order that was reserved and took the last units
    stock_up(ledger, SKU_1=2)
    ledger.reserve(reservation(SKU_1=2))

    # When it is delivered again, now that nothing is left
    with pytest.raises(ReservationExists):
        ledger.reserve(reservation(SKU_1=2))

    # Then it is a duplicate, not a shortage
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", on_hand=2, reserved=2)


def test_releasing_gives_the_units_back(ledger: StockLedger, stock_up: StockUp) -> None:
    stock_up(ledger, SKU_1=5)
    ledger.reserve(reservation(SKU_1=2))

    released = ledger.settle("order-1", RELEASED, ReleaseReason.ORDER_CANCELLED)

    assert (released.status, released.reason) == (RELEASED, ReleaseReason.ORDER_CANCELLED)
    assert ledger.reservation("order-1") == released
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", on_hand=5, reserved=0)


def test_committing_takes_the_units_off_the_shelf(ledger: StockLedger, stock_up: StockUp) -> None:
    stock_up(ledger, SKU_1=5)
    ledger.reserve(reservation(SKU_1=2))

    committed = ledger.settle("order-1", COMMITTED)

    assert committed.status is COMMITTED
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", on_hand=3, reserved=0)


@pytest.mark.parametrize("first", [RELEASED, COMMITTED])
@pytest.mark.parametrize("second", [RELEASED, COMMITTED])
def test_a_reservation_is_settled_once(
    ledger: StockLedger, stock_up: StockUp, first: Settlement, second: Settlement
) -> None:
    # Given a reservation already released or committed
    stock_up(ledger, SKU_1=5)
    ledger.reserve(reservation(SKU_1=2))
    ledger.settle("order-1", first, ReleaseReason.ORDER_EXPIRED)
    after_first = ledger.stock("SKU-1")

    # When it is settled again, either way
    with pytest.raises(ReservationSettled) as settled:
        ledger.settle("order-1", second, ReleaseReason.ORDER_EXPIRED)

    # Then nothing moves and the error says how it was settled
    assert settled.value.status is first
    assert ledger.stock("SKU-1") == after_first


def test_settling_an_order_never_reserved_is_not_found(ledger: StockLedger) -> None:
    with pytest.raises(ReservationNotFound):
        ledger.settle("order-404", COMMITTED)


def test_a_reservation_that_holds_nothing_is_recorded_once(ledger: StockLedger) -> None:
    void = void_reservation("order-1", ReleaseReason.ORDER_CANCELLED)
    ledger.record(void)

    with pytest.raises(ReservationExists) as exists:
        ledger.record(void)

    assert ledger.reservation("order-1") == void
    assert exists.value.status is ReservationStatus.VOID
    with pytest.raises(ReservationSettled):
        ledger.settle("order-1", RELEASED, ReleaseReason.ORDER_CANCELLED)


def test_a_recorded_reservation_blocks_a_later_reserve(
    ledger: StockLedger, stock_up: StockUp
) -> None:
    stock_up(ledger, SKU_1=5)
    ledger.record(void_reservation("order-1", ReleaseReason.ORDER_CANCELLED))

    with pytest.raises(ReservationExists) as exists:
        ledger.reserve(reservation(SKU_1=1))

    assert exists.value.status is ReservationStatus.VOID
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", on_hand=5, reserved=0)


def test_record_refuses_a_reservation_that_holds_stock(ledger: StockLedger) -> None:
    with pytest.raises(ValueError, match="reserve"):
        ledger.record(reservation(SKU_1=1))


def test_a_failed_reservation_keeps_its_shortages(ledger: StockLedger) -> None:
    failed = reservation(SKU_1=3).failed([Shortage("SKU-1", 3, 1)])

    ledger.record(failed)

    assert ledger.reservation("order-1") == failed


def test_listing_adds_a_product_once_and_updates_only_what_changed(ledger: StockLedger) -> None:
    mug = Product("SKU-1", "Mug", Money(1200, "EUR"))

    assert ledger.list_product(mug, initial_stock=7) is True
    assert ledger.list_product(mug, initial_stock=99) is False, "unchanged: nothing written"
    assert ledger.list_product(Product("SKU-1", "Mug", Money(1500, "EUR")), initial_stock=99), (
        "a new price is a change"
    )
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", on_hand=7, reserved=0), "stock kept"


def test_restocking_adds_units_on_hand(ledger: StockLedger, stock_up: StockUp) -> None:
    stock_up(ledger, SKU_1=1)
    ledger.reserve(reservation(SKU_1=1))

    assert ledger.restock("SKU-1", 4) == StockLevel("SKU-1", on_hand=5, reserved=1)


def test_restocking_an_unknown_product_is_refused(ledger: StockLedger) -> None:
    with pytest.raises(UnknownProduct, match="SKU-404"):
        ledger.restock("SKU-404", 1)
    assert ledger.stock("SKU-404") is None
