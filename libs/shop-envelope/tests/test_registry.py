import json
from collections.abc import Callable
from typing import Any

import pytest
from shop_envelope import EventRegistry, InvalidEnvelope, InvalidEvent, UnknownEventType
from shop_testkit.examples import OrderCancelled, OrderPlaced, order_placed


@pytest.fixture
def registry() -> EventRegistry:
    return EventRegistry([OrderPlaced, OrderCancelled])


@pytest.mark.parametrize(
    "arriving_as",
    [
        pytest.param(lambda text: text.encode(), id="bytes"),
        pytest.param(lambda text: text, id="text"),
        pytest.param(json.loads, id="mapping"),
    ],
)
def test_parse_turns_bytes_text_or_a_mapping_into_the_typed_event(
    registry: EventRegistry, arriving_as: Callable[[str], Any]
) -> None:
    # Given an order-placed event as it arrives from a stream, a queue or a rule
    placed = order_placed("o-1")
    data = arriving_as(placed.to_json())

    # When it is parsed
    parsed = registry.parse(data)

    # Then it is the typed event, equal to what was sent
    assert isinstance(parsed, OrderPlaced)
    assert parsed == placed


def test_a_single_registered_type_parses_without_a_union() -> None:
    registry = EventRegistry([OrderPlaced])
    placed = order_placed()
    assert registry.parse(placed.to_json()) == placed


def test_not_json_is_an_invalid_envelope(registry: EventRegistry) -> None:
    with pytest.raises(InvalidEnvelope, match="Invalid JSON"):
        registry.parse(b"\x00not json")


def test_missing_envelope_fields_are_named(registry: EventRegistry) -> None:
    with pytest.raises(InvalidEnvelope, match="partitionKey: Field required") as raised:
        registry.parse({"id": "1", "type": "order-placed", "timestamp": 1, "tags": {"source": "s"}})
    assert raised.value.errors[0]["loc"] == ("partitionKey",)


def test_an_unregistered_type_is_unknown_and_keeps_the_envelope(registry: EventRegistry) -> None:
    other = json.loads(order_placed().to_json()) | {"type": "order-shipped"}

    with pytest.raises(UnknownEventType, match="'order-shipped'") as raised:
        registry.parse(other)

    assert raised.value.envelope.type == "order-shipped"
    assert raised.value.envelope.tags.source == "order-bff"


def test_a_payload_that_does_not_match_its_model_is_an_invalid_event(
    registry: EventRegistry,
) -> None:
    # Given an order-placed event whose line has a quantity of zero
    data = json.loads(order_placed("o-9").to_json())
    data["order"]["lines"][0]["quantity"] = 0

    # When it is parsed
    with pytest.raises(InvalidEvent) as raised:
        registry.parse(data)

    # Then the error names the event, its type and the exact field, without the tag prefix
    error = raised.value
    assert (error.event_type, error.event_id) == ("order-placed", data["id"])
    assert error.envelope is not None
    assert error.envelope.partition_key == "o-9", "what the event is about is still known"
    assert error.errors[0]["loc"] == ("order", "lines", 0, "quantity")
    assert "order.lines.0.quantity: Input should be greater than 0" in str(error)


def test_many_payload_errors_are_summarised(registry: EventRegistry) -> None:
    data = json.loads(order_placed().to_json())
    data["order"]["lines"] = [{"sku": 1, "quantity": 0}] * 4

    with pytest.raises(InvalidEvent, match=r"\(\+3 more\)"):
        registry.parse(data)


def test_a_type_is_registered_to_one_model_only(registry: EventRegistry) -> None:
    class Impostor(OrderCancelled):
        pass

    registry.register(OrderPlaced)  # the same class again is harmless
    with pytest.raises(ValueError, match="already registered to OrderCancelled"):
        registry.register(Impostor)


def test_registered_types_and_models(registry: EventRegistry) -> None:
    assert registry.types == {"order-placed", "order-cancelled"}
    assert "order-placed" in registry
    assert "order-shipped" not in registry
    assert registry.model_for("order-cancelled") is OrderCancelled
    with pytest.raises(KeyError, match="order-shipped"):
        registry.model_for("order-shipped")


def test_an_empty_registry_says_so() -> None:
    with pytest.raises(LookupError, match="registry is empty"):
        EventRegistry().parse(b"{}")


def test_registering_after_parsing_takes_effect() -> None:
    registry = EventRegistry([OrderPlaced])
    registry.parse(order_placed().to_json())
    registry.register(OrderCancelled)
    cancelled = json.loads(order_placed().to_json()) | {"type": "order-cancelled"}
    assert isinstance(registry.parse(cancelled), OrderCancelled)


def test_json_schemas_are_the_wire_contract(registry: EventRegistry) -> None:
    schemas = registry.json_schemas()

    assert list(schemas) == ["order-cancelled", "order-placed"]
    placed = schemas["order-placed"]
    assert placed["properties"]["type"]["const"] == "order-placed"
    assert {"id", "type", "timestamp", "partitionKey", "tags", "order"} <= set(placed["properties"])
    assert "partitionKey" in placed["required"]
