"""The view's one promise, checked over many journeys: any permutation of an order's events, with
any of them repeated, yields the view the events yield in order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from order_bff.domain import (
    CancellationReason,
    Fact,
    Money,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Placement,
    fold,
    placed,
)

ORDER = "order-1"
PLACEMENT = Placement("customer-a", (OrderLine("MUG", "Mug", 1, Money(1200, "EUR")),), 1_000)

# Every fact an order can come to hold, in the order the shop emits them.
STEPS = {
    "placed": placed(ORDER, PLACEMENT),
    "reserved": Fact("e-reserved", "inventory-reserved", 1_100),
    "reservation-failed": Fact("e-short", "inventory-reservation-failed", 1_100),
    "intent": Fact(
        "e-intent",
        "payment-intent-created",
        1_200,
        status=OrderStatus.AWAITING_PAYMENT,
        payment=PaymentStatus.PENDING,
        sealed_client_secret="sealed:v1:x",
    ),
    "payment-failed": Fact("e-failed", "payment-failed", 1_300, payment=PaymentStatus.FAILED),
    "paid": Fact(
        "e-paid",
        "payment-succeeded",
        1_400,
        status=OrderStatus.PAID,
        payment=PaymentStatus.SUCCEEDED,
    ),
    "fulfillment": Fact(
        "e-fulfil", "order-fulfillment-requested", 1_500, status=OrderStatus.FULFILLMENT_REQUESTED
    ),
    "rejected": Fact("e-rejected", "order-cancellation-rejected", 1_600),
    "cancelled": Fact(
        "e-cancelled",
        "order-cancelled",
        1_500,
        status=OrderStatus.CANCELLED,
        cancellation_reason=CancellationReason.PAYMENT_FAILED,
    ),
    "expired": Fact("e-expired", "order-expired", 1_700, status=OrderStatus.EXPIRED),
    "refunded": Fact("e-refunded", "payment-refunded", 1_800, payment=PaymentStatus.REFUNDED),
}
JOURNEYS = [
    ["placed", "reserved", "intent", "paid", "fulfillment", "rejected"],
    ["placed", "reservation-failed", "intent", "cancelled"],
    ["placed", "reserved", "intent", "payment-failed", "cancelled"],
    ["placed", "reserved", "intent", "expired"],
    ["placed", "reserved", "intent", "paid", "cancelled", "refunded"],
]


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Fact], list[Fact]]:
    """A journey's facts in order, and as delivered: shuffled, some of them more than once."""
    journey = [STEPS[step] for step in draw(st.sampled_from(JOURNEYS))]
    repeated = draw(st.lists(st.sampled_from(journey), max_size=len(journey)))
    delivered = draw(st.permutations(journey + repeated))
    return journey, delivered


@settings(max_examples=200)
@given(deliveries())
def test_any_order_of_delivery_with_duplicates_gives_the_view_in_order(
    delivery: tuple[list[Fact], list[Fact]],
) -> None:
    in_order, delivered = delivery

    assert fold(ORDER, delivered) == fold(ORDER, in_order)
