from decimal import Decimal
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from shop_envelope import DomainEvent, Envelope, EventFactory, FaultEvent, deterministic_id
from shop_streams import Change, ChangeDataCapture, change_of, from_dynamodb
from shop_testkit import FakePublisher, dynamodb_stream_event, insert, kinesis_event, modify, remove
from shop_testkit.examples import order_placed

events = EventFactory(source="inventory", function_name="inventory-test-trigger")


class StockLevel(BaseModel):
    sku: str
    on_hand: int


class StockLevelChanged(DomainEvent):
    type: Literal["stock-level-changed"] = "stock-level-changed"
    stock_level: StockLevel


def stock_events(change: Change) -> list[Envelope]:
    """A mapper like a service's: one event per product change; refuses items it cannot read."""
    item = change.image
    if "sku" not in item:
        raise KeyError("sku")
    level = StockLevel(sku=item["sku"], on_hand=int(item.get("on_hand", 0)))
    return [
        events.create(
            StockLevelChanged,
            level,
            partition_key=level.sku,
            id=deterministic_id("stock-level-changed", level.sku, change.sequence_number),
        )
    ]


def product(sku: str, on_hand: int) -> dict[str, Any]:
    return {"pk": f"product#{sku}", "sk": "product", "sku": sku, "on_hand": on_hand}


def test_changes_become_published_events() -> None:
    # Given two product changes on the table stream
    published = FakePublisher()
    trigger = ChangeDataCapture(stock_events, publisher=published, events=events)
    batch = dynamodb_stream_event(
        insert(product("SKU-1", 5)), modify(product("SKU-2", 5), product("SKU-2", 3))
    )

    # When the trigger processes them
    response = trigger.process(batch)

    # Then each change is published as its domain event, in one publish call
    assert response == {"batchItemFailures": []}
    assert [
        (e.stock_level.sku, e.stock_level.on_hand) for e in published.of_type(StockLevelChanged)
    ] == [
        ("SKU-1", 5),
        ("SKU-2", 3),
    ]
    assert published.calls == 1


def test_a_change_is_decoded_with_keys_images_and_ttl_expiry() -> None:
    expired, deleted = dynamodb_stream_event(
        remove(product("SKU-1", 1), expired_by_ttl=True), remove(product("SKU-2", 1))
    )["Records"]

    change = change_of(expired)

    assert change.name == "REMOVE"
    assert change.keys == {"pk": "product#SKU-1", "sk": "product"}
    assert change.new is None
    assert change.old == product("SKU-1", 1)
    assert change.image == change.old
    assert change.expired_by_ttl is True
    assert change.timestamp_ms > 0
    assert change_of(deleted).expired_by_ttl is False


def test_a_change_the_mapper_fails_on_is_retried_by_the_stream_and_the_rest_publish() -> None:
    # Given a batch whose middle change the mapper raises on (an error nobody declared permanent)
    published = FakePublisher()
    trigger = ChangeDataCapture(stock_events, publisher=published, events=events)
    batch = dynamodb_stream_event(
        insert(product("SKU-1", 5)), insert({"pk": "x", "sk": "y"}), insert(product("SKU-3", 1))
    )

    # When the trigger processes it
    response = trigger.process(batch)

    # Then the stream retries that change alone, and no fault is published for the attempt
    assert response == {
        "batchItemFailures": [{"itemIdentifier": batch["Records"][1]["dynamodb"]["SequenceNumber"]}]
    }
    assert [e.stock_level.sku for e in published.of_type(StockLevelChanged)] == ["SKU-1", "SKU-3"]
    assert published.of_type(FaultEvent) == []


def test_a_change_that_can_never_be_mapped_is_parked_and_the_stream_moves_on() -> None:
    # Given a trigger whose mapper's KeyError is declared permanent
    published = FakePublisher()
    trigger = ChangeDataCapture(
        stock_events, publisher=published, events=events, permanent_errors=(KeyError,)
    )
    batch = dynamodb_stream_event(insert(product("SKU-1", 5)), insert({"pk": "x", "sk": "y"}))

    # When it processes a change the mapper cannot read
    response = trigger.process(batch)

    # Then the change is parked with its record, and nothing is left to retry
    assert response == {"batchItemFailures": []}
    [fault] = published.of_type(FaultEvent)
    assert (fault.fault.error_type, fault.fault.event_source) == ("KeyError", "aws:dynamodb")
    assert fault.fault.record == batch["Records"][1]


def test_a_record_that_is_not_a_change_is_parked() -> None:
    published = FakePublisher()
    trigger = ChangeDataCapture(stock_events, publisher=published, events=events)
    batch = dynamodb_stream_event(insert(product("SKU-1", 5)))
    del batch["Records"][0]["dynamodb"]["Keys"]

    response = trigger.process(batch)

    assert response == {"batchItemFailures": []}
    assert [f.fault.error_type for f in published.of_type(FaultEvent)] == ["KeyError"]


def test_a_parked_change_whose_fault_is_not_published_is_redelivered() -> None:
    published = FakePublisher()
    published.fail(lambda e: e.type == "fault")
    trigger = ChangeDataCapture(
        stock_events, publisher=published, events=events, permanent_errors=(KeyError,)
    )
    batch = dynamodb_stream_event(insert({"pk": "x", "sk": "y"}))

    response = trigger.process(batch)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": batch["Records"][0]["dynamodb"]["SequenceNumber"]}]
    }


def test_a_change_whose_events_are_not_published_is_redelivered() -> None:
    # Given a bus that refuses the event of SKU-2
    published = FakePublisher()
    published.fail(lambda e: e.partition_key == "SKU-2", times=1)
    trigger = ChangeDataCapture(stock_events, publisher=published, events=events)
    batch = dynamodb_stream_event(*(insert(product(f"SKU-{i}", i)) for i in (1, 2, 3)))

    # When the batch is processed
    response = trigger.process(batch)

    # Then only that change is named for redelivery
    assert response == {
        "batchItemFailures": [{"itemIdentifier": batch["Records"][1]["dynamodb"]["SequenceNumber"]}]
    }
    # and redelivering it publishes the very same event (same id) once the bus accepts it
    first_try = [e.id for e in published.published]
    trigger.process({"Records": batch["Records"][1:2]})
    assert published.published[-1].id == stock_events(change_of(batch["Records"][1]))[0].id
    assert published.published[-1].id not in first_try


def test_an_empty_batch_publishes_nothing() -> None:
    published = FakePublisher()
    assert ChangeDataCapture(stock_events, publisher=published, events=events).process(
        {"Records": []}
    ) == {"batchItemFailures": []}
    assert published.calls == 0


def test_only_dynamodb_stream_events_are_accepted() -> None:
    trigger = ChangeDataCapture(stock_events, publisher=FakePublisher(), events=events)
    with pytest.raises(TypeError, match="DynamoDB stream events only"):
        trigger.process(kinesis_event(order_placed()))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"S": "text"}, "text"),
        ({"N": "12.5"}, Decimal("12.5")),
        ({"BOOL": False}, False),
        ({"NULL": True}, None),
        ({"B": "aGk="}, b"hi"),
        ({"SS": ["a", "b"]}, {"a", "b"}),
        ({"NS": ["1", "2"]}, {Decimal(1), Decimal(2)}),
        ({"BS": ["aGk="]}, {b"hi"}),
        ({"M": {"l": {"L": [{"N": "1"}, {"S": "x"}]}}}, {"l": [Decimal(1), "x"]}),
    ],
)
def test_dynamodb_json_is_decoded_to_python(value: dict[str, Any], expected: Any) -> None:
    assert from_dynamodb(value) == expected


def test_an_unknown_dynamodb_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown DynamoDB attribute type 'X'"):
        from_dynamodb({"X": "?"})
