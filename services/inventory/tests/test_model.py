"""The inventory's decisions: idempotent, tolerant of reordering, explicit about conflicts."""

from collections.abc import Callable

import pytest
from inventory.adapters.memory import InMemoryStockLedger
from inventory.domain import (
    MAX_LINES,
    CannotCommit,
    InvalidOrder,
    Line,
    Money,
    Product,
    ReleaseReason,
    ReservationNotFound,
    ReservationStatus,
    Shortage,
    StockLevel,
    combine,
)
from inventory.model import Inventory

StockUp = Callable[..., None]
NOW = 1_800_000_000


@pytest.fixture
def ledger() -> InMemoryStockLedger:
    return InMemoryStockLedger()


@pytest.fixture
def inventory(ledger: InMemoryStockLedger, stock_up: StockUp) -> Inventory:
    stock_up(ledger, SKU_1=5, SKU_2=1)
    return Inventory(ledger, hold_seconds=600, clock=lambda: NOW * 1000)


def test_lines_of_the_same_product_are_held_together(inventory: Inventory) -> None:
    reservation = inventory.reserve("order-1", [Line("SKU-1", 1), Line("SKU-1", 2)])

    assert reservation.lines == (Line("SKU-1", 3),)
    assert reservation.expires_at == NOW + 600
    assert inventory.ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 3)


def test_a_short_order_is_recorded_as_failed_with_its_shortages(inventory: Inventory) -> None:
    reservation = inventory.reserve("order-1", [Line("SKU-1", 1), Line("SKU-2", 2)])

    assert reservation.status is ReservationStatus.FAILED
    assert reservation.shortages == (Shortage("SKU-2", 2, 1),)
    assert inventory.ledger.reservation("order-1") == reservation
    assert inventory.ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 0), "all or nothing"


def test_a_duplicate_order_placed_changes_nothing(inventory: Inventory) -> None:
    first = inventory.reserve("order-1", [Line("SKU-1", 2)])

    again = inventory.reserve("order-1", [Line("SKU-1", 2)])

    assert again == first
    assert inventory.ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 2)


def test_a_failed_order_is_not_retried_when_stock_arrives(inventory: Inventory) -> None:
    # Given an order that failed for want of stock, and the shelf restocked since
    inventory.reserve("order-1", [Line("SKU-2", 3)])
    inventory.restock("SKU-2", 10)

    # When its order-placed event is delivered again
    again = inventory.reserve("order-1", [Line("SKU-2", 3)])

    # Then the failure stands: the rest of the system has already acted on it
    assert again.status is ReservationStatus.FAILED
    assert inventory.ledger.stock("SKU-2") == StockLevel("SKU-2", 11, 0)


def test_a_release_before_the_reservation_voids_it(inventory: Inventory) -> None:
    # Given an order cancelled before its order-placed event was handled (events reordered)
    voided = inventory.release("order-1", ReleaseReason.ORDER_CANCELLED)

    # When the order-placed event arrives after all
    late = inventory.reserve("order-1", [Line("SKU-1", 2)])

    # Then nothing is held for an order that has ended
    assert voided.status is late.status is ReservationStatus.VOID
    assert inventory.ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 0)


@pytest.mark.parametrize("reason", [ReleaseReason.ORDER_CANCELLED, ReleaseReason.ORDER_EXPIRED])
def test_release_is_idempotent(inventory: Inventory, reason: ReleaseReason) -> None:
    inventory.reserve("order-1", [Line("SKU-1", 2)])

    first = inventory.release("order-1", reason)
    second = inventory.release("order-1", ReleaseReason.RESERVATION_EXPIRED)

    assert first == second
    assert (first.status, first.reason) == (ReservationStatus.RELEASED, reason)
    assert inventory.ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 0)


def test_commit_is_idempotent(inventory: Inventory) -> None:
    inventory.reserve("order-1", [Line("SKU-1", 2)])

    inventory.commit("order-1")
    inventory.commit("order-1")

    assert inventory.ledger.stock("SKU-1") == StockLevel("SKU-1", 3, 0)


def test_a_commit_before_the_reservation_is_retryable(inventory: Inventory) -> None:
    with pytest.raises(ReservationNotFound):
        inventory.commit("order-1")

    inventory.reserve("order-1", [Line("SKU-1", 2)])
    assert inventory.commit("order-1").status is ReservationStatus.COMMITTED


@pytest.mark.parametrize("settled", ["released", "failed", "void"])
def test_a_commit_of_stock_not_held_needs_a_person(inventory: Inventory, settled: str) -> None:
    # Given an order whose stock is not held: released, never reserved for want of stock, or void
    if settled == "released":
        inventory.reserve("order-1", [Line("SKU-1", 1)])
        inventory.release("order-1", ReleaseReason.RESERVATION_EXPIRED)
    elif settled == "failed":
        inventory.reserve("order-1", [Line("SKU-2", 9)])
    else:
        inventory.release("order-1", ReleaseReason.ORDER_CANCELLED)

    # When fulfillment is requested, Then it is refused with the reason, stock untouched
    with pytest.raises(CannotCommit, match=f"order-1: its reservation is {settled}"):
        inventory.commit("order-1")
    assert inventory.ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 0)


def test_an_order_needs_lines_and_a_bounded_number_of_products() -> None:
    with pytest.raises(InvalidOrder, match="at least one line"):
        combine([])
    with pytest.raises(InvalidOrder, match=f"at most {MAX_LINES}"):
        combine(Line(f"SKU-{n}", 1) for n in range(MAX_LINES + 1))
    with pytest.raises(InvalidOrder, match="quantity must be at least 1"):
        Line("SKU-1", 0)


def test_catalog_changes_are_checked(inventory: Inventory) -> None:
    with pytest.raises(ValueError, match="not negative"):
        inventory.list_product(Product("SKU-3", "Cup", Money(100, "EUR")), initial_stock=-1)
    with pytest.raises(ValueError, match="at least one unit"):
        inventory.restock("SKU-1", 0)
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(100, "euro")
    with pytest.raises(ValueError, match="not negative"):
        Money(-1, "EUR")
