"""One contract, two adapters: every test here runs against the in-memory view store and against
the DynamoDB one on moto's server (the `views` fixture), so the fake the unit tests use keeps the
promises the real one keeps."""

from __future__ import annotations

import threading

import pytest
from order_bff.domain import (
    CancellationReason,
    HistoryEntry,
    Money,
    OrderLine,
    OrderStatus,
    OrderView,
    Payment,
    PaymentStatus,
    Placement,
    Product,
)
from order_bff.ports import OrderKey, ViewStore


def placed_order(order_id: str, customer: str = "customer-a", at: int = 1_000) -> OrderView:
    placement = Placement(customer, (OrderLine("MUG", "Mug", 2, Money(1200, "EUR")),), at)
    return OrderView(
        order_id, placement, history=(HistoryEntry(f"placed-{order_id}", "order-placed", at),)
    )


def store_order(views: ViewStore, order: OrderView) -> None:
    views.change_order(order.id, lambda current: order)


def store_product(views: ViewStore, product: Product) -> None:
    views.change_product(product.sku, lambda current: product)


def test_an_order_view_is_stored_and_read_back_whole(views: ViewStore) -> None:
    # Given a view with every part filled in
    order = OrderView(
        "order-1",
        placed_order("order-1").placement,
        status=OrderStatus.CANCELLED,
        closed_by=(2_000, "event-2"),
        cancellation_reason=CancellationReason.PAYMENT_FAILED,
        payment=Payment(PaymentStatus.FAILED, "sealed:v1:abc"),
        cancellation_requested_at=1_500,
        history=(
            HistoryEntry("event-1", "order-placed", 1_000),
            HistoryEntry("event-2", "order-cancelled", 2_000),
        ),
    )

    stored = views.change_order("order-1", lambda current: order)

    assert stored == order
    assert views.order("order-1") == order
    assert views.order("order-2") is None


def test_a_change_sees_what_is_stored(views: ViewStore) -> None:
    seen: list[OrderView | None] = []

    def record(current: OrderView | None) -> OrderView:
        seen.append(current)
        return placed_order("order-1")

    views.change_order("order-1", record)
    views.change_order("order-1", record)

    assert seen == [None, placed_order("order-1")]


def test_a_change_that_raises_stores_nothing(views: ViewStore) -> None:
    def refuse(current: OrderView | None) -> OrderView:
        raise LookupError("no")

    with pytest.raises(LookupError):
        views.change_order("order-1", refuse)

    assert views.order("order-1") is None


def test_concurrent_changes_of_one_order_lose_nothing(views: ViewStore) -> None:
    # Given an order and eight writers each adding one entry to its history at once
    views.change_order("order-1", lambda current: placed_order("order-1"))

    def add(n: int) -> None:
        entry = HistoryEntry(f"event-{n}", "inventory-reserved", 2_000 + n)
        views.change_order(
            "order-1",
            lambda current: (
                OrderView(current.id, current.placement, history=(*current.history, entry))
                if current
                else placed_order("x")
            ),
        )

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every entry is there: each writer saw the others' work
    stored = views.order("order-1")
    assert stored is not None
    assert {entry.event_id for entry in stored.history} == {"placed-order-1"} | {
        f"event-{n}" for n in range(8)
    }


def test_a_customers_orders_are_listed_newest_first_in_pages(views: ViewStore) -> None:
    for n, at in enumerate([3_000, 1_000, 2_000, 4_000]):
        order = placed_order(f"order-{n}", at=at)
        store_order(views, order)
    views.change_order("theirs", lambda current: placed_order("theirs", customer="customer-b"))
    views.change_order("unplaced", lambda current: OrderView("unplaced"))

    first = views.orders_of("customer-a", first=3)
    rest = views.orders_of("customer-a", first=3, after=first.keys[-1])

    assert [order.id for order in first.items] == ["order-3", "order-0", "order-2"]
    assert first.keys == (
        OrderKey(4_000, "order-3"),
        OrderKey(3_000, "order-0"),
        OrderKey(2_000, "order-2"),
    )
    assert first.has_next is True
    assert [order.id for order in rest.items] == ["order-1"]
    assert rest.has_next is False
    assert views.orders_of("customer-c", first=5).items == ()


def test_products_are_changed_read_and_listed_by_sku(views: ViewStore) -> None:
    for sku in ["MUG", "KETTLE", "TEA", "FILTERS"]:
        product = Product(sku, f"Product {sku}", Money(100, "EUR"), 5, 1, 1)
        store_product(views, product)
    views.change_product("GHOST", lambda current: Product("GHOST", available=3, stock_version=2))

    assert views.products(["MUG", "GHOST", "NOPE"]) == {
        "MUG": Product("MUG", "Product MUG", Money(100, "EUR"), 5, 1, 1),
        "GHOST": Product("GHOST", available=3, stock_version=2),
    }
    first = views.catalog(first=2)
    rest = views.catalog(first=2, after=first.keys[-1])
    assert [p.sku for p in first.items] == ["FILTERS", "KETTLE"]
    assert first.has_next is True
    assert [p.sku for p in rest.items] == ["MUG", "TEA"], (
        "a product known only by its stock is not listed"
    )
    assert rest.has_next is False


def test_a_change_that_changes_nothing_keeps_the_product(views: ViewStore) -> None:
    product = Product("MUG", "Mug", Money(100, "EUR"), 5, 1, 1)
    views.change_product("MUG", lambda current: product)

    kept = views.change_product("MUG", lambda current: current or product)

    assert kept == product
