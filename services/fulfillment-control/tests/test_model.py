"""The model over in-memory ports: what an evaluation records, and what it does to the timers."""

from __future__ import annotations

from fulfillment_control.adapters.memory import InMemoryEventStore, InMemoryTimers
from fulfillment_control.domain import (
    CancellationReason,
    Collected,
    EventType,
    Fact,
    FactType,
    Window,
)
from fulfillment_control.model import (
    DEFAULT_CANCELLATION_WINDOW_SECONDS,
    DEFAULT_PAYMENT_WINDOW_SECONDS,
    Collector,
    FulfillmentControl,
)

PLACED_AT = 1_700_000_000_000
WINDOW_MS = DEFAULT_PAYMENT_WINDOW_SECONDS * 1000


def collected(kind: EventType, after_ms: int = 0) -> Collected:
    return Collected(PLACED_AT + after_ms, f"{kind}-1", kind, "order-1")


class Given:
    def __init__(self, *, now: int = PLACED_AT + 5) -> None:
        self.store, self.timers, self.now = InMemoryEventStore(), InMemoryTimers(), now
        self.control = FulfillmentControl(self.store, self.timers, clock=lambda: self.now)

    def arrives(self, *events: Collected) -> list[Fact]:
        recorded: list[Fact] = []
        for event in events:
            if Collector(self.store).collect(event):
                recorded += self.control.evaluate("order-1", arrived=event.type)
        return recorded


def test_placing_an_order_starts_its_payment_window() -> None:
    shop = Given()

    assert shop.arrives(collected(EventType.ORDER_PLACED)) == []

    assert shop.timers.pending("order-1") == Window("order-1", PLACED_AT + WINDOW_MS)


def test_the_happy_path_requests_fulfillment_once_and_stops_the_timer() -> None:
    shop = Given()
    placed, reserved, paid = (
        collected(EventType.ORDER_PLACED),
        collected(EventType.INVENTORY_RESERVED, 100),
        collected(EventType.PAYMENT_SUCCEEDED, 60_000),
    )

    recorded = shop.arrives(placed, reserved, paid)

    assert recorded == [
        Fact("order-1", "fulfillment", FactType.FULFILLMENT_REQUESTED, decided_at=shop.now)
    ]
    assert shop.timers.pending("order-1") is None
    # and evaluating the same set again records nothing more
    assert shop.control.evaluate("order-1", arrived=EventType.PAYMENT_SUCCEEDED) == []


def test_an_order_collected_after_its_window_closed_expires_without_a_timer() -> None:
    # Given the service catching up, long after the order's window closed
    shop = Given(now=PLACED_AT + WINDOW_MS + 1)

    recorded = shop.arrives(
        collected(EventType.INVENTORY_RESERVED, 100), collected(EventType.ORDER_PLACED)
    )

    # Then the window's event is collected at once, as the timer would have delivered it
    assert [fact.rule for fact in recorded] == ["expiry"]
    assert shop.timers.pending("order-1") is None
    window = Window("order-1", PLACED_AT + WINDOW_MS).closed()
    assert window in shop.store.record_of("order-1").events


def test_an_outcome_decided_first_elsewhere_stands_and_the_rest_is_read_against_it() -> None:
    # Given an order whose outcome another evaluation recorded (fulfillment) between this
    # evaluation's read and its write
    shop = Given()
    shop.arrives(collected(EventType.ORDER_PLACED), collected(EventType.INVENTORY_RESERVED, 100))
    first = Fact("order-1", "fulfillment", FactType.FULFILLMENT_REQUESTED, PLACED_AT)
    original_decide = shop.store.decide

    def decided_elsewhere(outcome: Fact) -> Fact:
        original_decide(first)
        return original_decide(outcome)

    shop.store.decide = decided_elsewhere  # type: ignore[method-assign]

    # When a cancellation request made before the payment is evaluated with the window closed
    recorded = shop.arrives(
        collected(EventType.CANCELLATION_REQUESTED, 1_000),
        collected(EventType.PAYMENT_WINDOW_CLOSED, WINDOW_MS),
    )

    # Then the fulfillment stands: the request is rejected, not a second outcome
    assert [fact.rule for fact in recorded] == ["cancellation-rejected"]
    assert shop.store.record_of("order-1").outcome == first


def test_a_cancellation_records_its_reason() -> None:
    shop = Given()

    recorded = shop.arrives(
        collected(EventType.ORDER_PLACED), collected(EventType.RESERVATION_FAILED, 100)
    )

    assert [(fact.type, fact.reason) for fact in recorded] == [
        (FactType.CANCELLED, CancellationReason.OUT_OF_STOCK)
    ]


def test_the_window_closing_ends_an_unpaid_order_and_leaves_no_timer_behind() -> None:
    shop = Given()
    shop.arrives(collected(EventType.ORDER_PLACED), collected(EventType.INVENTORY_RESERVED, 100))

    [closed] = shop.timers.due(PLACED_AT + WINDOW_MS)
    recorded = shop.arrives(closed)

    assert [fact.rule for fact in recorded] == ["expiry"]
    assert shop.timers.pending("order-1") is None


def test_a_request_to_cancel_an_unpaid_order_replaces_its_window_and_then_cancels_it() -> None:
    # Given an order placed and reserved, not paid
    shop = Given()
    shop.arrives(collected(EventType.ORDER_PLACED), collected(EventType.INVENTORY_RESERVED, 100))

    # When the customer asks to cancel it
    assert shop.arrives(collected(EventType.CANCELLATION_REQUESTED, 5_000)) == []

    # Then its payment window gives way to the shorter cancellation window
    window = shop.timers.pending("order-1")
    assert window == Window(
        "order-1",
        PLACED_AT + 5_000 + DEFAULT_CANCELLATION_WINDOW_SECONDS * 1000,
        EventType.CANCELLATION_WINDOW_CLOSED,
    )
    # and when that closes with no payment, the order is cancelled for the customer
    [closed] = shop.timers.due(window.closes_at)
    [cancelled] = shop.arrives(closed)
    assert (cancelled.rule, cancelled.reason) == (
        "customer-request",
        CancellationReason.CUSTOMER_REQUEST,
    )
    assert shop.timers.pending("order-1") is None


def test_a_request_after_the_payment_window_closed_leaves_the_window_as_it_is() -> None:
    shop = Given(now=PLACED_AT + WINDOW_MS - 1)
    shop.arrives(collected(EventType.ORDER_PLACED), collected(EventType.INVENTORY_RESERVED, 100))

    shop.arrives(collected(EventType.CANCELLATION_REQUESTED, WINDOW_MS + 1))

    assert shop.timers.pending("order-1") == Window("order-1", PLACED_AT + WINDOW_MS)
