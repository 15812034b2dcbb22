"""The trigger: the order views' changes, read back from the table's stream in moto, published as
the facts they make true, once per fact, and the same facts again on a redelivery."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from order_bff import bootstrap
from order_bff.domain import Fact, OrderStatus, RequestedLine
from order_bff.events import OrderCancellationRequested, OrderPlaced
from order_bff.model import Shop
from order_bff.settings import TriggerSettings
from order_bff.table import order_key
from shop_envelope import FaultEvent, deterministic_id
from shop_streams import ChangeDataCapture
from shop_testkit import FakePublisher, TableStream, dynamodb_stream_event, insert

if TYPE_CHECKING:
    from conftest import SettingsFor


@pytest.fixture
def shop(dynamodb_shop: Shop, table_stream: TableStream) -> Shop:
    """The model over the table, its catalog's changes already read off the stream."""
    table_stream.read()
    return dynamodb_shop


@pytest.fixture
def published() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def trigger(published: FakePublisher, settings_for: SettingsFor) -> ChangeDataCapture:
    return bootstrap.trigger(settings_for(TriggerSettings, "trigger"), publisher=published)


def test_placing_an_order_publishes_order_placed_with_its_lines_prices_and_customer(
    shop: Shop, table_stream: TableStream, trigger: ChangeDataCapture, published: FakePublisher
) -> None:
    # When a customer places an order
    order = shop.place_order("customer-a", [RequestedLine("MUG", 2), RequestedLine("KETTLE", 1)])
    response = trigger.process(table_stream.read())

    # Then its placement is on the bus, as the catalog priced it, keyed and stamped by the order
    assert response == {"batchItemFailures": []}
    [placed] = published.of_type(OrderPlaced)
    assert placed.order.model_dump(by_alias=True) == {
        "id": order.id,
        "customerId": "customer-a",
        "lines": [
            {
                "sku": "MUG",
                "name": "Product MUG",
                "quantity": 2,
                "unitPrice": {"amount": 1200, "currency": "EUR"},
            },
            {
                "sku": "KETTLE",
                "name": "Product KETTLE",
                "quantity": 1,
                "unitPrice": {"amount": 6900, "currency": "EUR"},
            },
        ],
        "total": {"amount": 9300, "currency": "EUR"},
        "placedAt": order.created_at,
    }
    assert placed.id == deterministic_id("order-placed", order.id)
    assert placed.partition_key == placed.correlation_id == order.id
    assert placed.timestamp == order.created_at
    assert placed.tags.source == "order-bff"


def test_what_the_listener_writes_publishes_nothing_and_a_cancellation_request_once(
    shop: Shop, table_stream: TableStream, trigger: ChangeDataCapture, published: FakePublisher
) -> None:
    # Given a placed order, its placement published
    order = shop.place_order("customer-a", [RequestedLine("MUG", 1)])
    trigger.process(table_stream.read())

    # When others' events change its view, and the customer asks twice to cancel it
    shop.take_in(
        order.id, Fact("e-1", "payment-intent-created", 5, status=OrderStatus.AWAITING_PAYMENT)
    )
    shop.cancel_order("customer-a", order.id)
    shop.cancel_order("customer-a", order.id)
    shop.take_in(order.id, Fact("e-2", "order-cancellation-rejected", 6))
    trigger.process(table_stream.read())

    # Then only the cancellation request is news, once
    assert published.types == ["order-placed", "order-cancellation-requested"]
    [requested] = published.of_type(OrderCancellationRequested)
    assert requested.order.model_dump(by_alias=True) == {"id": order.id, "customerId": "customer-a"}
    assert requested.id == deterministic_id("order-cancellation-requested", order.id)


def test_a_redelivered_change_publishes_the_very_same_events(
    shop: Shop, table_stream: TableStream, trigger: ChangeDataCapture, published: FakePublisher
) -> None:
    # Given a batch whose publishing failed once
    shop.place_order("customer-a", [RequestedLine("MUG", 1)], idempotency_key="cart-1")
    batch = table_stream.read()
    published.fail(times=1)
    first = trigger.process(batch)

    # When the stream redelivers it, twice
    second = trigger.process(batch)
    third = trigger.process(batch)

    # Then the record was named for retry, and each retry published the event the first try meant
    assert len(first["batchItemFailures"]) == 1
    assert second == third == {"batchItemFailures": []}
    one, other = published.of_type(OrderPlaced)
    assert one == other, "the same id, time and payload: consumers drop the duplicate"


def test_an_order_item_that_does_not_read_as_an_order_is_parked_once(
    trigger: ChangeDataCapture, published: FakePublisher
) -> None:
    broken = {
        **order_key("order-9"),
        "order_id": "order-9",
        "placed_at": 5,
        "status": "PLACED",
        "history": [],
    }

    response = trigger.process(dynamodb_stream_event(insert(broken)))

    assert response == {"batchItemFailures": []}, "parked, not retried: retrying cannot mend it"
    [fault] = published.of_type(FaultEvent)
    assert fault.fault.error_type == "UnreadableItem"


def test_a_view_made_before_its_placement_is_published_when_the_placement_comes(
    shop: Shop, table_stream: TableStream, trigger: ChangeDataCapture, published: FakePublisher
) -> None:
    # Given an event that made a view before its order was placed (a stray, or a race)
    shop.take_in("order-early", Fact("e-1", "inventory-reserved", 5))
    trigger.process(table_stream.read())
    assert published.published == []

    # When an order is placed whose id it is, the placement is published then
    order = shop.place_order("customer-a", [RequestedLine("MUG", 1)], idempotency_key="k")
    shop.take_in(order.id, Fact("e-2", "inventory-reserved", 5))
    trigger.process(table_stream.read())
    assert published.types == ["order-placed"]
