"""The trigger on the store's stream, against moto's server: collected events evaluated, recorded
facts published, and a redelivered batch publishing the very same events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fulfillment_control.adapters.dynamodb import DynamoDBEventStore
from fulfillment_control.adapters.memory import InMemoryTimers
from fulfillment_control.domain import Collected, EventType
from fulfillment_control.events import OrderCancelled, OrderFulfillmentRequested
from fulfillment_control.model import Collector, FulfillmentControl
from fulfillment_control.rules import trigger as trigger_rules
from fulfillment_control.rules.trigger import fact_id
from shop_envelope import EventFactory, FaultEvent
from shop_streams import ChangeDataCapture
from shop_testkit import FakePublisher, TableStream, dynamodb_stream_event, insert

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PLACED_AT = 1_700_000_000_000
NOW = PLACED_AT + 10


def collected(kind: EventType, after_ms: int = 0, order_id: str = "order-1") -> Collected:
    return Collected(PLACED_AT + after_ms, f"{kind}-{order_id}", kind, order_id)


class Trigger:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self.store = DynamoDBEventStore(table, client=dynamodb)
        self.timers = InMemoryTimers()
        self.publisher = FakePublisher()
        control = FulfillmentControl(self.store, self.timers, clock=lambda: NOW)
        self.engine: ChangeDataCapture = trigger_rules.build(
            control,
            events=EventFactory(source="fulfillment-control", stage="test"),
            publisher=self.publisher,
        )

    def collect(self, *events: Collected) -> None:
        for event in events:
            Collector(self.store).collect(event)


@pytest.fixture
def trigger(dynamodb: DynamoDBClient, table_name: str) -> Trigger:
    return Trigger(dynamodb, table_name)


def test_collected_events_are_evaluated_and_the_recorded_fact_is_published(
    trigger: Trigger, table_stream: TableStream
) -> None:
    # Given the happy path's events collected
    trigger.collect(
        collected(EventType.ORDER_PLACED),
        collected(EventType.INVENTORY_RESERVED, 100),
        collected(EventType.PAYMENT_SUCCEEDED, 5_000),
    )

    # When the trigger handles their INSERTs, then the INSERT of what that recorded
    evaluated = trigger.engine.process(table_stream.read())
    assert trigger.publisher.published == [], "evaluating records; publishing waits for the record"
    published = trigger.engine.process(table_stream.read())

    # Then order-fulfillment-requested is published once, its id the order's and the rule's
    assert evaluated == published == {"batchItemFailures": []}
    [fulfillment] = trigger.publisher.of_type(OrderFulfillmentRequested)
    assert fulfillment.order.id == "order-1"
    assert fulfillment.partition_key == "order-1"
    assert fulfillment.timestamp == NOW
    assert trigger.publisher.types == ["order-fulfillment-requested"]
    assert trigger.timers.pending("order-1") is None


def test_a_redelivered_batch_publishes_the_very_same_events(
    trigger: Trigger, table_stream: TableStream
) -> None:
    # Given two orders decided, and the INSERTs of their facts
    trigger.collect(
        collected(EventType.ORDER_PLACED, order_id="order-1"),
        collected(EventType.RESERVATION_FAILED, 100, order_id="order-1"),
        collected(EventType.ORDER_PLACED, order_id="order-2"),
        collected(EventType.INVENTORY_RESERVED, 100, order_id="order-2"),
        collected(EventType.PAYMENT_FAILED, 900, order_id="order-2"),
    )
    trigger.engine.process(table_stream.read())
    facts = table_stream.read()

    # When that batch is delivered twice (a retry after a publish that half failed), and the
    # collected events are evaluated again
    trigger.engine.process(facts)
    trigger.engine.process(facts)
    trigger.engine.process(
        dynamodb_stream_event(
            insert(
                {
                    "pk": "ORDER#order-2",
                    "sk": "EVENT#x",
                    "order_id": "order-2",
                    "event_id": "x",
                    "type": "payment-failed",
                    "occurred_at": PLACED_AT + 900,
                }
            )
        )
    )

    # Then the same two events are published each time, and nothing new is recorded
    first, second = trigger.publisher.published[:2], trigger.publisher.published[2:]
    assert [e.model_dump() for e in first] == [e.model_dump() for e in second]
    assert sorted(
        (e.order.id, e.order.reason) for e in trigger.publisher.of_type(OrderCancelled)
    ) == [
        ("order-1", "OUT_OF_STOCK"),
        ("order-1", "OUT_OF_STOCK"),
        ("order-2", "PAYMENT_FAILED"),
        ("order-2", "PAYMENT_FAILED"),
    ]
    outcomes = [trigger.store.record_of(order).outcome for order in ("order-1", "order-2")]
    assert {e.id for e in trigger.publisher.published} == {fact_id(f) for f in outcomes if f}
    assert table_stream.read()["Records"] == [], "a re-evaluation records nothing twice"


def test_a_fact_not_published_is_retried_and_published_as_it_was(
    trigger: Trigger, table_stream: TableStream
) -> None:
    trigger.collect(collected(EventType.ORDER_PLACED), collected(EventType.RESERVATION_FAILED, 100))
    trigger.engine.process(table_stream.read())
    facts = table_stream.read()
    trigger.publisher.fail(times=1)

    failed = trigger.engine.process(facts)
    retried = trigger.engine.process(facts)

    assert failed == {
        "batchItemFailures": [{"itemIdentifier": facts["Records"][0]["dynamodb"]["SequenceNumber"]}]
    }
    assert retried == {"batchItemFailures": []}
    assert trigger.publisher.types == ["order-cancelled"]


def test_an_item_that_does_not_read_as_the_domain_is_parked(trigger: Trigger) -> None:
    broken = insert(
        {"pk": "ORDER#order-1", "sk": "OUTCOME", "order_id": "order-1", "type": "order-shipped"}
    )
    good = insert(
        {
            "pk": "ORDER#order-2",
            "sk": "OUTCOME",
            "order_id": "order-2",
            "rule": "expiry",
            "type": "order-expired",
            "decided_at": NOW,
        }
    )

    response = trigger.engine.process(dynamodb_stream_event(broken, good))

    assert response == {"batchItemFailures": []}
    assert trigger.publisher.types == ["fault", "order-expired"]
    [fault] = trigger.publisher.of_type(FaultEvent)
    assert fault.fault.error_type == "UnreadableItem"
