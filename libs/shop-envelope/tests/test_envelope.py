import json
from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError
from shop_envelope import (
    DomainEvent,
    Envelope,
    EventFactory,
    FaultEvent,
    deterministic_id,
    now_ms,
    random_id,
)
from shop_testkit.examples import Order, OrderCancelled, OrderPlaced, order


def test_an_event_goes_on_the_wire_in_camel_case_without_empty_fields() -> None:
    # Given a factory for a function of the order-bff service
    events = EventFactory(
        source="order-bff", stage="dev", region="eu-west-1", clock=lambda: 1_700_000_000_000
    )

    # When it creates an order-placed event
    placed = events.create(OrderPlaced, order("o-1"), partition_key="o-1", id="event-1")

    # Then the wire shape is the documented envelope, the entity under its own name
    assert json.loads(placed.to_json()) == {
        "id": "event-1",
        "type": "order-placed",
        "timestamp": 1_700_000_000_000,
        "partitionKey": "o-1",
        "tags": {
            "source": "order-bff",
            "stage": "dev",
            "region": "eu-west-1",
            "correlationId": "o-1",
        },
        "order": {
            "id": "o-1",
            "customerId": "customer-1",
            "lines": [{"sku": "SKU-1", "quantity": 1}],
        },
    }


def test_the_correlation_id_defaults_to_the_partition_key_and_can_be_given() -> None:
    events = EventFactory(source="inventory")

    implicit = events.create(OrderCancelled, order("o-2"), partition_key="o-2")
    explicit = events.create(
        OrderCancelled, order("o-2"), partition_key="o-2", correlation_id="flow-9"
    )

    assert implicit.correlation_id == "o-2"
    assert explicit.correlation_id == "flow-9"
    assert implicit.id != explicit.id, "ids not given are random"


def test_an_event_is_stamped_now_unless_it_says_when_the_fact_happened() -> None:
    # Given a factory whose clock says 2,000
    events = EventFactory(source="inventory", clock=lambda: 2_000)

    # When one event is made now and one for a change that happened at 1,500
    now = events.create(OrderPlaced, order(), partition_key="order-1")
    earlier = events.create(OrderPlaced, order(), partition_key="order-1", timestamp=1_500)

    # Then each carries its own time
    assert (now.timestamp, earlier.timestamp) == (2_000, 1_500)


def test_an_event_class_knows_its_type_and_payload_field() -> None:
    assert OrderPlaced.event_type == "order-placed"
    assert OrderPlaced.payload_field == "order"
    placed = EventFactory(source="s").create(OrderPlaced, order("o-3"), partition_key="o-3")
    assert placed.payload == order("o-3")


def test_events_are_immutable_facts() -> None:
    placed = EventFactory(source="s").create(OrderPlaced, order(), partition_key="order-1")
    with pytest.raises(ValidationError, match="frozen"):
        placed.partition_key = "other"


def test_a_generic_envelope_keeps_the_payload_of_a_type_it_does_not_know() -> None:
    # Given an event of a type this code has no model for
    data = {
        "id": "1",
        "type": "stock-level-changed",
        "timestamp": 5,
        "partitionKey": "SKU-1",
        "tags": {"source": "inventory", "futureTag": "kept"},
        "stockLevel": {"sku": "SKU-1", "onHand": 3},
    }

    # When it is read as a bare envelope
    envelope = Envelope.model_validate(data)

    # Then nothing of it is lost on the way out again
    assert json.loads(envelope.to_json()) == data


def test_a_typed_event_tolerates_fields_a_newer_producer_added() -> None:
    placed = EventFactory(source="s").create(OrderPlaced, order(), partition_key="order-1")
    newer = json.loads(placed.to_json()) | {"addedLater": True}

    assert OrderPlaced.model_validate(newer) == placed


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("type", "OrderPlaced", "String should match pattern"),
        ("timestamp", -1, "greater than or equal to 0"),
        ("partitionKey", "", "at least 1 character"),
        ("id", "", "at least 1 character"),
    ],
)
def test_envelope_fields_are_validated(field: str, value: object, message: str) -> None:
    valid = {
        "id": "1",
        "type": "order-placed",
        "timestamp": 1,
        "partitionKey": "k",
        "tags": {"source": "s"},
    }
    with pytest.raises(ValidationError, match=message):
        Envelope.model_validate(valid | {field: value})


def test_an_event_class_must_fix_its_type_with_a_literal() -> None:
    with pytest.raises(TypeError, match="must declare"):

        class Untyped(DomainEvent):
            order: Order


def test_an_event_class_type_must_default_to_its_literal() -> None:
    with pytest.raises(TypeError, match="must default to 'order-shipped'"):

        class Shipped(DomainEvent):
            type: Literal["order-shipped"]
            order: Order


def test_an_event_carries_one_entity() -> None:
    class Customer(BaseModel):
        id: str

    with pytest.raises(TypeError, match="carries one entity"):

        class TwoPayloads(DomainEvent):
            type: Literal["two-payloads"] = "two-payloads"
            order: Order
            customer: Customer


def test_the_factory_refuses_a_missing_or_unexpected_payload() -> None:
    class Ping(DomainEvent):
        type: Literal["ping"] = "ping"

    events = EventFactory(source="s")
    with pytest.raises(TypeError, match="needs its 'order'"):
        events.create(OrderPlaced, partition_key="k")
    with pytest.raises(TypeError, match="carries no payload"):
        events.create(Ping, order(), partition_key="k")
    assert events.create(Ping, partition_key="k").payload is None


def test_deterministic_ids_depend_on_every_part_and_nothing_else() -> None:
    assert deterministic_id("inventory-reserved", "o-1") == deterministic_id(
        "inventory-reserved", "o-1"
    )
    assert deterministic_id("inventory-reserved", "o-1") != deterministic_id(
        "inventory-reserved", "o-2"
    )
    # parts are separated, so ("a", "bc") and ("ab", "c") differ
    assert deterministic_id("a", "bc") != deterministic_id("ab", "c")
    assert deterministic_id("n", 1) == deterministic_id("n", "1")
    with pytest.raises(ValueError, match="at least one part"):
        deterministic_id()


def test_random_ids_and_clock() -> None:
    assert random_id() != random_id()
    before = now_ms()
    assert 1_600_000_000_000 < before <= now_ms()


def test_a_fault_event_is_a_registered_kind_of_event() -> None:
    assert FaultEvent.event_type == "fault"
    assert FaultEvent.payload_field == "fault"
