"""The listener: every event the rules read, as the event hub's stream delivers it, collected
once into the store; anything else parked as a fault, without holding back what comes after."""

from __future__ import annotations

import json
from typing import Any

from fulfillment_control.adapters.memory import InMemoryEventStore
from fulfillment_control.domain import EventType
from fulfillment_control.model import Collector
from fulfillment_control.rules import listener as listener_rules
from shop_envelope import EventFactory, FaultEvent, deterministic_id
from shop_streams import EventProcessor
from shop_testkit import FakePublisher, kinesis_event

# Each collected type as its producer puts it on the bus (the catalog's shapes, in full: the
# listener reads only the order it belongs to).
PAYLOADS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "order-placed": (
        "order-bff",
        "order",
        {
            "id": "order-1",
            "customerId": "customer-1",
            "lines": [
                {
                    "sku": "MUG",
                    "name": "Mug",
                    "quantity": 1,
                    "unitPrice": {"amount": 1200, "currency": "EUR"},
                }
            ],
            "total": {"amount": 1200, "currency": "EUR"},
            "placedAt": 1_700_000_000_000,
        },
    ),
    "order-cancellation-requested": (
        "order-bff",
        "order",
        {"id": "order-1", "customerId": "customer-1"},
    ),
    "inventory-reserved": (
        "inventory",
        "reservation",
        {
            "id": "r-1",
            "orderId": "order-1",
            "lines": [{"sku": "MUG", "quantity": 1}],
            "expiresAt": 1_700_007_200,
        },
    ),
    "inventory-reservation-failed": (
        "inventory",
        "reservation",
        {
            "id": "r-1",
            "orderId": "order-1",
            "lines": [{"sku": "MUG", "quantity": 1}],
            "shortages": [{"sku": "MUG", "requested": 1, "available": 0}],
        },
    ),
    "payment-succeeded": (
        "stripe-esg",
        "payment",
        {"orderId": "order-1", "intentId": "pi_1", "amount": 1200, "currency": "EUR"},
    ),
    "payment-failed": (
        "stripe-esg",
        "payment",
        {
            "orderId": "order-1",
            "intentId": "pi_1",
            "amount": 1200,
            "currency": "EUR",
            "declineCode": "card_declined",
            "message": None,
        },
    ),
    "payment-window-closed": ("fulfillment-control.timers", "order", {"id": "order-1"}),
    "cancellation-window-closed": ("fulfillment-control.timers", "order", {"id": "order-1"}),
}


def envelope(event_type: str, *, timestamp: int = 1_700_000_000_000, **payload: Any) -> str:
    """The event as the stream carries it: JSON."""
    return json.dumps(raw(event_type, timestamp=timestamp, **payload))


def raw(event_type: str, *, timestamp: int = 1_700_000_000_000, **payload: Any) -> dict[str, Any]:
    source, entity, body = PAYLOADS[event_type]
    return {
        "id": deterministic_id(event_type, "order-1"),
        "type": event_type,
        "timestamp": timestamp,
        "partitionKey": "order-1",
        "tags": {"source": source, "stage": "test", "correlationId": "order-1"},
        entity: {**body, **payload},
    }


def listener(store: InMemoryEventStore, publisher: FakePublisher) -> EventProcessor:
    return listener_rules.build(
        Collector(store), events=EventFactory(source="fulfillment-control"), publisher=publisher
    )


def test_every_event_the_rules_read_is_collected_under_its_order() -> None:
    store, publisher = InMemoryEventStore(), FakePublisher()

    response = listener(store, publisher).process(
        kinesis_event(
            *(envelope(t, timestamp=1_700_000_000_000 + n) for n, t in enumerate(PAYLOADS))
        )
    )

    assert response == {"batchItemFailures": []}
    events = sorted(store.record_of("order-1").events)
    assert [event.type for event in events] == [EventType(t) for t in PAYLOADS]
    assert events[0].event_id == deterministic_id("order-placed", "order-1")
    assert events[0].occurred_at == 1_700_000_000_000
    assert publisher.published == []


def test_a_redelivered_event_is_collected_once() -> None:
    store, publisher = InMemoryEventStore(), FakePublisher()
    placed = envelope("order-placed")

    listener(store, publisher).process(kinesis_event(placed, placed))
    listener(store, publisher).process(kinesis_event(placed))

    assert len(store.record_of("order-1").events) == 1


def test_a_malformed_or_unknown_event_is_parked_and_the_records_behind_it_are_collected() -> None:
    # Given a batch with an event without its order, one of a type the rules do not read, and
    # good events around them
    store, publisher = InMemoryEventStore(), FakePublisher()
    no_order = raw("payment-succeeded")
    del no_order["payment"]["orderId"]
    unknown = {**raw("order-placed"), "type": "order-shipped", "id": "shipped-1"}
    batch = kinesis_event(
        envelope("order-placed"),
        json.dumps(no_order),
        json.dumps(unknown),
        envelope("inventory-reserved"),
    )

    # When the listener handles it
    response = listener(store, publisher).process(batch)

    # Then each bad record is one fault, counted handled, and the good ones are collected
    assert response == {"batchItemFailures": []}
    assert publisher.types == ["fault", "fault"]
    errors = sorted(fault.fault.error_type for fault in publisher.of_type(FaultEvent))
    assert errors == ["InvalidEvent", "UnknownEventType"]
    assert {e.type for e in store.record_of("order-1").events} == {
        EventType.ORDER_PLACED,
        EventType.INVENTORY_RESERVED,
    }


def test_a_store_that_fails_has_the_stream_retry_that_record_alone() -> None:
    class Throttled(InMemoryEventStore):
        def collect(self, event: Any) -> bool:
            if event.type is EventType.PAYMENT_SUCCEEDED:
                raise TimeoutError("throttled")
            return super().collect(event)

    store, publisher = Throttled(), FakePublisher()
    batch = kinesis_event(
        envelope("order-placed"), envelope("payment-succeeded"), envelope("inventory-reserved")
    )

    response = listener(store, publisher).process(batch)

    [failed] = response["batchItemFailures"]
    assert failed["itemIdentifier"] == batch["Records"][1]["kinesis"]["sequenceNumber"]
    assert publisher.published == [], "a transient failure parks nothing"
    assert len(store.record_of("order-1").events) == 2
