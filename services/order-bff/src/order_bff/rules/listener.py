"""The listener's rules: what each event the other services report does to the BFF's views.

Each event about an order becomes one fact of that order's view (`domain.Fact`), taken in
idempotently and in any order; the inventory's catalog events keep the highest version of each
product and of its stock level.
"""

from __future__ import annotations

from collections.abc import Callable

from shop_envelope import DomainEvent, Envelope, EventFactory
from shop_publisher import EventPublisher
from shop_streams import EventProcessor

from order_bff.domain import CancellationReason, Fact, Money, OrderStatus, PaymentStatus
from order_bff.events import (
    InventoryReservationFailed,
    InventoryReserved,
    OrderCancellationRejected,
    OrderCancelled,
    OrderExpired,
    OrderFulfillmentRequested,
    PaymentCancelled,
    PaymentFailed,
    PaymentIntentCreated,
    PaymentRefunded,
    PaymentSucceeded,
    ProductUpdated,
    StockLevelChanged,
)
from order_bff.model import Shop


def build(
    shop: Shop,
    *,
    events: EventFactory,
    publisher: EventPublisher,
    on_event: Callable[[Envelope], None] | None = None,
) -> EventProcessor:
    # The subscription filter lets only these types through, so any other type is a fault.
    # Nothing an event asks of a view can fail for good: every handler error (a conflict, a
    # throttle) is retried by the stream.
    listener = EventProcessor(
        events=events, publisher=publisher, unknown_types="fault", on_event=on_event
    )

    @listener.on(ProductUpdated)
    def product_updated(event: ProductUpdated) -> None:
        product = event.product
        price = Money(product.price.amount, product.price.currency)
        shop.product_updated(product.sku, product.name, price, product.version)

    @listener.on(StockLevelChanged)
    def stock_level_changed(event: StockLevelChanged) -> None:
        shop.stock_changed(event.stock.sku, event.stock.available, event.stock.version)

    @listener.on(InventoryReserved)
    def inventory_reserved(event: InventoryReserved) -> None:
        shop.take_in(event.reservation.order_id, _fact(event))

    @listener.on(InventoryReservationFailed)
    def inventory_reservation_failed(event: InventoryReservationFailed) -> None:
        shop.take_in(event.reservation.order_id, _fact(event))

    @listener.on(PaymentIntentCreated)
    def payment_intent_created(event: PaymentIntentCreated) -> None:
        # The client secret stays sealed: only the graphql function opens it, for the owner.
        fact = _fact(
            event,
            status=OrderStatus.AWAITING_PAYMENT,
            payment=PaymentStatus.PENDING,
            sealed_client_secret=event.payment.client_secret,
        )
        shop.take_in(event.payment.order_id, fact)

    @listener.on(PaymentSucceeded)
    def payment_succeeded(event: PaymentSucceeded) -> None:
        fact = _fact(event, status=OrderStatus.PAID, payment=PaymentStatus.SUCCEEDED)
        shop.take_in(event.payment.order_id, fact)

    @listener.on(PaymentFailed)
    def payment_failed(event: PaymentFailed) -> None:
        # Not an end in itself: fulfillment-control decides, and says so with order-cancelled.
        shop.take_in(event.payment.order_id, _fact(event, payment=PaymentStatus.FAILED))

    @listener.on(PaymentRefunded)
    def payment_refunded(event: PaymentRefunded) -> None:
        shop.take_in(event.payment.order_id, _fact(event, payment=PaymentStatus.REFUNDED))

    @listener.on(PaymentCancelled)
    def payment_cancelled(event: PaymentCancelled) -> None:
        shop.take_in(event.payment.order_id, _fact(event, payment=PaymentStatus.CANCELLED))

    @listener.on(OrderFulfillmentRequested)
    def order_fulfillment_requested(event: OrderFulfillmentRequested) -> None:
        shop.take_in(event.order.id, _fact(event, status=OrderStatus.FULFILLMENT_REQUESTED))

    @listener.on(OrderCancelled)
    def order_cancelled(event: OrderCancelled) -> None:
        fact = _fact(event, status=OrderStatus.CANCELLED, cancellation_reason=event.order.reason)
        shop.take_in(event.order.id, fact)

    @listener.on(OrderExpired)
    def order_expired(event: OrderExpired) -> None:
        shop.take_in(event.order.id, _fact(event, status=OrderStatus.EXPIRED))

    @listener.on(OrderCancellationRejected)
    def order_cancellation_rejected(event: OrderCancellationRejected) -> None:
        # The order goes on as it was; the refusal is part of its history.
        shop.take_in(event.order.id, _fact(event))

    return listener


def _fact(
    event: DomainEvent,
    *,
    status: OrderStatus | None = None,
    payment: PaymentStatus | None = None,
    cancellation_reason: CancellationReason | None = None,
    sealed_client_secret: str | None = None,
) -> Fact:
    """The fact an event is to its order's view, at the event's own time."""
    return Fact(
        event.id,
        event.type,
        event.timestamp,
        status=status,
        payment=payment,
        cancellation_reason=cancellation_reason,
        sealed_client_secret=sealed_client_secret,
    )
