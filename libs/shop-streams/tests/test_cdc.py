from decimal import Decimal
from typing import Any, Literal

import pytest
from boto3.dynamodb.types import Binary
from pydantic import BaseModel
from shop_envelope import DomainEvent, Envelope, EventFactory, FaultEvent, deterministic_id
from shop_streams import Change, ChangeDataCapture, change_of
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


def trigger_of(published: FakePublisher, **options: Any) -> ChangeDataCapture:
    """A trigger whose one route maps every change with `stock_events`."""
    trigger = ChangeDataCapture(events=events, publisher=published, **options)
    trigger.on(lambda change: True)(stock_events)
    return trigger


def product(sku: str, on_hand: int) -> dict[str, Any]:
    return {"pk": f"product#{sku}", "sk": "product", "sku": sku, "on_hand": on_hand}


def test_changes_become_published_events() -> None:
    # Given two product changes on the table stream
    published = FakePublisher()
    trigger = trigger_of(published)
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
    trigger = trigger_of(published)
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
    trigger = trigger_of(published, permanent_errors=(KeyError,))
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
    trigger = trigger_of(published)
    batch = dynamodb_stream_event(insert(product("SKU-1", 5)))
    del batch["Records"][0]["dynamodb"]["Keys"]

    response = trigger.process(batch)

    assert response == {"batchItemFailures": []}
    assert [f.fault.error_type for f in published.of_type(FaultEvent)] == ["KeyError"]


def test_a_parked_change_whose_fault_is_not_published_is_redelivered() -> None:
    published = FakePublisher()
    published.fail(lambda e: e.type == "fault")
    trigger = trigger_of(published, permanent_errors=(KeyError,))
    batch = dynamodb_stream_event(insert({"pk": "x", "sk": "y"}))

    response = trigger.process(batch)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": batch["Records"][0]["dynamodb"]["SequenceNumber"]}]
    }


def test_a_change_whose_events_are_not_published_is_redelivered() -> None:
    # Given a bus that refuses the event of SKU-2
    published = FakePublisher()
    published.fail(lambda e: e.partition_key == "SKU-2", times=1)
    trigger = trigger_of(published)
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
    assert trigger_of(published).process({"Records": []}) == {"batchItemFailures": []}
    assert published.calls == 0


def test_only_dynamodb_stream_events_are_accepted() -> None:
    trigger = trigger_of(FakePublisher())
    with pytest.raises(TypeError, match="DynamoDB stream events only"):
        trigger.process(kinesis_event(order_placed()))


def test_a_change_reads_every_dynamodb_type_as_boto3_does() -> None:
    record = dynamodb_stream_event(insert({"pk": "a", "sk": "b"}))["Records"][0]
    record["dynamodb"]["NewImage"] = {
        "text": {"S": "text"},
        "number": {"N": "12.5"},
        "flag": {"BOOL": False},
        "nothing": {"NULL": True},
        "blob": {"B": "aGk="},
        "names": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
        "nested": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}]}}},
    }

    assert change_of(record).new == {
        "text": "text",
        "number": Decimal("12.5"),
        "flag": False,
        "nothing": None,
        "blob": Binary(b"hi"),
        "names": {"a", "b"},
        "numbers": {Decimal(1), Decimal(2)},
        "nested": {"l": [Decimal(1), "x"]},
    }


def test_changes_are_routed_to_the_first_handler_that_wants_them_and_actors_publish_nothing() -> (
    None
):
    # Given a trigger that maps products and an actor's route for expiry timers
    published = FakePublisher()
    released: list[str] = []
    engine = ChangeDataCapture(events=events, publisher=published)
    engine.on(lambda change: change.keys["sk"] == "product")(stock_events)

    @engine.on(lambda change: change.name == "REMOVE" and change.expired_by_ttl)
    def release(change: Change) -> None:
        released.append(change.keys["pk"])

    batch = dynamodb_stream_event(
        insert(product("SKU-1", 5)),
        remove({"pk": "timer#o-1", "sk": "timer"}, expired_by_ttl=True),
        insert({"pk": "x", "sk": "other"}),
    )

    # When a product change, an expired timer and a change nobody wants arrive
    response = engine.process(batch)

    # Then each goes to its own handler, the actor's publishes nothing, the third is skipped
    assert response == {"batchItemFailures": []}
    assert [e.stock_level.sku for e in published.of_type(StockLevelChanged)] == ["SKU-1"]
    assert released == ["timer#o-1"]


def test_every_event_a_change_produced_binds_the_log_context() -> None:
    seen: list[str] = []
    engine = trigger_of(FakePublisher(), on_event=lambda event: seen.append(event.correlation_id))

    engine.process(dynamodb_stream_event(insert(product("SKU-1", 5)), insert(product("SKU-2", 1))))

    assert seen == ["SKU-1", "SKU-2"]


def test_an_engine_without_routes_is_refused() -> None:
    with pytest.raises(LookupError, match="no handlers"):
        ChangeDataCapture(events=events, publisher=FakePublisher()).process(
            dynamodb_stream_event(insert(product("SKU-1", 5)))
        )
