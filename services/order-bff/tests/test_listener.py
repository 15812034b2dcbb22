"""The listener: what the other services report, as Kinesis delivers it from the event hub's
stream, into the order views and the catalog view in moto."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pytest
from order_bff import bootstrap
from order_bff.domain import (
    CancellationReason,
    Money,
    OrderStatus,
    PaymentStatus,
    RequestedLine,
)
from order_bff.events import (
    CancelledOrder,
    CatalogProduct,
    CreatedIntent,
    InventoryReservationFailed,
    InventoryReserved,
    OrderCancellationRejected,
    OrderCancelled,
    OrderExpired,
    OrderFulfillmentRequested,
    OrderReference,
    PaymentCancelled,
    PaymentFailed,
    PaymentIntentCreated,
    PaymentReference,
    PaymentRefunded,
    PaymentSucceeded,
    Price,
    ProductUpdated,
    ReservationReference,
    Stock,
    StockLevelChanged,
)
from order_bff.model import Shop
from order_bff.settings import ListenerSettings
from shop_envelope import DomainEvent, EventFactory, FaultEvent, deterministic_id
from shop_streams import EventProcessor
from shop_testkit import FakePublisher, kinesis_event

if TYPE_CHECKING:
    from conftest import SettingsFor

inventory = EventFactory(source="inventory", stage="test")
stripe = EventFactory(source="stripe-esg", stage="test")
control = EventFactory(source="fulfillment-control", stage="test")


class OrderReviewed(DomainEvent):
    """A type no handler of the BFF knows."""

    type: Literal["order-reviewed"] = "order-reviewed"
    order: OrderReference


@pytest.fixture
def published() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def listener(
    dynamodb_shop: Shop, published: FakePublisher, settings_for: SettingsFor
) -> EventProcessor:
    return bootstrap.listener(
        settings_for(ListenerSettings, "listener"), views=dynamodb_shop.views, publisher=published
    )


def journey(order_id: str, placed_at: int) -> list[DomainEvent]:
    """What the other services report about one order that is paid and sent for fulfillment."""
    return [
        inventory.create(
            InventoryReserved,
            ReservationReference(order_id=order_id),
            partition_key=order_id,
            id=deterministic_id("inventory-reserved", order_id),
            timestamp=placed_at + 1,
        ),
        stripe.create(
            PaymentIntentCreated,
            CreatedIntent(order_id=order_id, client_secret="sealed:v1:AAAA"),
            partition_key=order_id,
            id=deterministic_id("payment-intent-created", order_id),
            timestamp=placed_at + 2,
        ),
        stripe.create(
            PaymentSucceeded,
            PaymentReference(order_id=order_id),
            partition_key=order_id,
            id=deterministic_id("payment-succeeded", order_id),
            timestamp=placed_at + 3,
        ),
        control.create(
            OrderFulfillmentRequested,
            OrderReference(id=order_id),
            partition_key=order_id,
            id=deterministic_id("order-fulfillment-requested", order_id),
            timestamp=placed_at + 4,
        ),
    ]


def test_an_orders_journey_is_materialized_whatever_the_order_and_repetition(
    dynamodb_shop: Shop, listener: EventProcessor
) -> None:
    # Given a placed order
    order = dynamodb_shop.place_order("customer-a", [RequestedLine("MUG", 1)])
    reserved, intent, paid, fulfilment = journey(order.id, order.created_at)

    # When its events come late, twice and out of order, in two batches
    first = listener.process(kinesis_event(paid, reserved, paid))
    second = listener.process(kinesis_event(fulfilment, intent, reserved))

    # Then the view is the journey's end, each fact once, and the secret still sealed
    assert first == second == {"batchItemFailures": []}
    view = dynamodb_shop.order("customer-a", order.id)
    assert view is not None
    assert view.status is OrderStatus.FULFILLMENT_REQUESTED
    assert view.payment is not None
    assert (view.payment.status, view.payment.sealed_client_secret) == (
        PaymentStatus.SUCCEEDED,
        "sealed:v1:AAAA",
    )
    assert [entry.type for entry in view.history] == [
        "order-placed",
        "inventory-reserved",
        "payment-intent-created",
        "payment-succeeded",
        "order-fulfillment-requested",
    ]


def test_a_cancellation_says_why(dynamodb_shop: Shop, listener: EventProcessor) -> None:
    order = dynamodb_shop.place_order("customer-a", [RequestedLine("MUG", 1)])
    cancelled = control.create(
        OrderCancelled,
        CancelledOrder(id=order.id, reason=CancellationReason.OUT_OF_STOCK),
        partition_key=order.id,
    )

    listener.process(kinesis_event(cancelled))

    view = dynamodb_shop.order("customer-a", order.id)
    assert view is not None
    assert (view.status, view.cancellation_reason) == (
        OrderStatus.CANCELLED,
        CancellationReason.OUT_OF_STOCK,
    )


def test_the_catalog_keeps_the_highest_version_it_was_sent(
    dynamodb_shop: Shop, listener: EventProcessor
) -> None:
    def product(version: int, amount: int) -> ProductUpdated:
        return inventory.create(
            ProductUpdated,
            CatalogProduct(
                sku="TEA",
                name=f"Tea v{version}",
                price=Price(amount=amount, currency="EUR"),
                version=version,
            ),
            partition_key="TEA",
        )

    def stock(version: int, available: int) -> StockLevelChanged:
        return inventory.create(
            StockLevelChanged,
            Stock(sku="TEA", available=available, version=version),
            partition_key="TEA",
        )

    listener.process(kinesis_event(stock(4, 3), product(2, 500), product(1, 400), stock(3, 9)))

    tea = dynamodb_shop.product("TEA")
    assert tea is not None
    assert (tea.name, tea.price, tea.available) == ("Tea v2", Money(500, "EUR"), 3)


def test_an_event_of_an_unknown_type_or_shape_is_parked_once_and_blocks_nothing(
    dynamodb_shop: Shop, listener: EventProcessor, published: FakePublisher
) -> None:
    order = dynamodb_shop.place_order("customer-a", [RequestedLine("MUG", 1)])
    reserved = journey(order.id, order.created_at)[0]
    reviewed = control.create(OrderReviewed, OrderReference(id=order.id), partition_key=order.id)

    response = listener.process(kinesis_event(reviewed, b'{"type": "payment-succeeded"}', reserved))

    assert response == {"batchItemFailures": []}
    assert [fault.fault.error_type for fault in published.of_type(FaultEvent)] == [
        "UnknownEventType",
        "InvalidEnvelope",
    ]
    view = dynamodb_shop.order("customer-a", order.id)
    assert view is not None
    assert view.history[-1].type == "inventory-reserved"


@pytest.mark.parametrize(
    ("event_class", "payload", "status", "payment"),
    [
        (PaymentFailed, PaymentReference, OrderStatus.PLACED, PaymentStatus.FAILED),
        (PaymentRefunded, PaymentReference, OrderStatus.PLACED, PaymentStatus.REFUNDED),
        (PaymentCancelled, PaymentReference, OrderStatus.PLACED, PaymentStatus.CANCELLED),
        (OrderExpired, OrderReference, OrderStatus.EXPIRED, None),
        (OrderCancellationRejected, OrderReference, OrderStatus.PLACED, None),
        (InventoryReservationFailed, ReservationReference, OrderStatus.PLACED, None),
    ],
)
def test_each_event_about_an_order_does_what_it_says(
    memory_shop: Shop,
    published: FakePublisher,
    settings_for: SettingsFor,
    event_class: type[DomainEvent],
    payload: type[PaymentReference | OrderReference | ReservationReference],
    status: OrderStatus,
    payment: PaymentStatus | None,
) -> None:
    # Given a placed order and the listener over the same views
    listener = bootstrap.listener(
        settings_for(ListenerSettings, "listener"), views=memory_shop.views, publisher=published
    )
    order = memory_shop.place_order("customer-a", [RequestedLine("MUG", 1)])
    # (each reference names the order its own way: `orderId` or `id`)
    reference = payload.model_validate({"id": order.id, "orderId": order.id})

    # When the event about it comes in
    event = control.create(
        event_class, reference, partition_key=order.id, timestamp=order.created_at + 1
    )
    assert listener.process(kinesis_event(event)) == {"batchItemFailures": []}

    # Then the order's status and payment are what the event says, and it is in the history
    view = memory_shop.order("customer-a", order.id)
    assert view is not None
    assert view.status is status
    assert (view.payment.status if view.payment else None) is payment
    assert view.history[-1].type == event_class.event_type
