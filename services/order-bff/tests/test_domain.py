"""The order view and the catalog view as pure functions of the facts that reached them."""

from __future__ import annotations

import pytest
from order_bff.domain import (
    CancellationReason,
    Fact,
    Money,
    OrderLine,
    OrderStatus,
    OrderView,
    PaymentStatus,
    Placement,
    Product,
    fold,
    order_id_for,
    placed,
)

PLACEMENT = Placement("customer-a", (OrderLine("MUG", "Mug", 2, Money(1200, "EUR")),), 1_000)


def fact(event_id: str, type_: str, at: int, **what: object) -> Fact:
    return Fact(event_id, type_, at, **what)  # type: ignore[arg-type]


def test_the_status_moves_forward_only() -> None:
    paid = fact(
        "e-2", "payment-succeeded", 3_000, status=OrderStatus.PAID, payment=PaymentStatus.SUCCEEDED
    )
    intent = fact(
        "e-1",
        "payment-intent-created",
        2_000,
        status=OrderStatus.AWAITING_PAYMENT,
        payment=PaymentStatus.PENDING,
    )

    # When the payment's success is taken in before its intent
    view = fold("order-1", [placed("order-1", PLACEMENT), paid, intent])

    # Then the order is PAID, the payment SUCCEEDED, and both facts are in its history, by time
    assert view.status is OrderStatus.PAID
    assert view.payment is not None
    assert view.payment.status is PaymentStatus.SUCCEEDED
    assert [entry.type for entry in view.history] == [
        "order-placed",
        "payment-intent-created",
        "payment-succeeded",
    ]
    assert (view.created_at, view.updated_at) == (1_000, 3_000)


def test_a_duplicate_changes_nothing() -> None:
    intent = fact("e-1", "payment-intent-created", 2_000, status=OrderStatus.AWAITING_PAYMENT)
    once = fold("order-1", [placed("order-1", PLACEMENT), intent])

    assert once.apply(intent) is once


def test_a_terminal_status_is_never_left() -> None:
    cancelled = fact(
        "e-9",
        "order-cancelled",
        2_000,
        status=OrderStatus.CANCELLED,
        cancellation_reason=CancellationReason.OUT_OF_STOCK,
    )
    late = fact(
        "e-3", "order-fulfillment-requested", 3_000, status=OrderStatus.FULFILLMENT_REQUESTED
    )

    view = fold("order-1", [placed("order-1", PLACEMENT), cancelled, late])

    assert view.status is OrderStatus.CANCELLED
    assert view.cancellation_reason is CancellationReason.OUT_OF_STOCK


def test_of_two_terminal_facts_the_earlier_stands_whatever_comes_first() -> None:
    expired = fact("e-1", "order-expired", 2_000, status=OrderStatus.EXPIRED)
    cancelled = fact(
        "e-2",
        "order-cancelled",
        2_500,
        status=OrderStatus.CANCELLED,
        cancellation_reason=CancellationReason.CUSTOMER_REQUEST,
    )

    one_way = fold("order-1", [expired, cancelled])
    other_way = fold("order-1", [cancelled, expired])

    assert one_way == other_way
    assert (one_way.status, one_way.cancellation_reason) == (OrderStatus.EXPIRED, None)


def test_an_event_before_the_placement_makes_a_view_nobody_owns_until_it_is_placed() -> None:
    early = fold("order-1", [fact("e-1", "inventory-reserved", 1_500)])

    assert not early.is_placed
    assert not early.is_owned_by("customer-a")
    assert early.created_at == 1_500
    late = early.apply(placed("order-1", PLACEMENT))
    assert late.is_owned_by("customer-a")
    assert late.status is OrderStatus.PLACED
    assert late.created_at == 1_000


def test_a_payment_that_failed_may_still_succeed_but_never_the_reverse() -> None:
    failed = fact("e-1", "payment-failed", 2_000, payment=PaymentStatus.FAILED)
    succeeded = fact(
        "e-2", "payment-succeeded", 3_000, status=OrderStatus.PAID, payment=PaymentStatus.SUCCEEDED
    )

    for facts in ([failed, succeeded], [succeeded, failed]):
        view = fold("order-1", facts)
        assert view.payment is not None
        assert view.payment.status is PaymentStatus.SUCCEEDED


def test_the_catalog_keeps_the_highest_version_of_product_and_stock_apart() -> None:
    product = Product("MUG").updated("Mug", Money(1200, "EUR"), 3).restocked(7, 5)

    stale = product.updated("Old mug", Money(900, "EUR"), 2).restocked(9, 4)
    newer = product.updated("Mug XL", Money(1500, "EUR"), 4).restocked(6, 6)

    assert stale == product
    assert (newer.name, newer.price, newer.available) == ("Mug XL", Money(1500, "EUR"), 6)
    assert not Product("GHOST").restocked(3, 1).is_listed


def test_an_idempotency_key_names_one_order_per_customer() -> None:
    assert order_id_for("customer-a", "k") == order_id_for("customer-a", "k")
    assert order_id_for("customer-a", "k") != order_id_for("customer-b", "k")
    assert order_id_for("customer-a", "k") != order_id_for("customer-a", "l")


def test_an_order_view_is_the_same_for_the_same_facts() -> None:
    assert OrderView("a") == OrderView("a")
    with pytest.raises(AttributeError):
        OrderView("a").id = "b"  # type: ignore[misc]
