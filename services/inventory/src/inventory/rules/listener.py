"""The listener's rules: which order event does what to the stock."""

from __future__ import annotations

from collections.abc import Callable

from shop_envelope import Envelope, EventFactory
from shop_publisher import EventPublisher
from shop_streams import EventProcessor

from inventory.domain import CannotCommit, InvalidOrder, Line, ReleaseReason
from inventory.events import OrderCancelled, OrderExpired, OrderFulfillmentRequested, OrderPlaced
from inventory.model import Inventory


def build(
    inventory: Inventory,
    *,
    events: EventFactory,
    publisher: EventPublisher,
    on_event: Callable[[Envelope], None] | None = None,
) -> EventProcessor:
    # The subscription filter lets only these types through, so any other type is a fault. An
    # order that cannot be reserved as it is, and a commit of stock that is not held, cannot
    # succeed however often they are retried: they are parked for a person at once. Everything
    # else (a commit before its reservation, contention, throttling) is retried by the stream.
    listener = EventProcessor(
        events=events,
        publisher=publisher,
        unknown_types="fault",
        permanent_errors=(InvalidOrder, CannotCommit),
        on_event=on_event,
    )

    @listener.on(OrderPlaced)
    def reserve(event: OrderPlaced) -> None:
        lines = [Line(line.sku, line.quantity) for line in event.order.lines]
        inventory.reserve(event.order.id, lines)

    @listener.on(OrderCancelled)
    def release_cancelled(event: OrderCancelled) -> None:
        inventory.release(event.order.id, ReleaseReason.ORDER_CANCELLED)

    @listener.on(OrderExpired)
    def release_expired(event: OrderExpired) -> None:
        inventory.release(event.order.id, ReleaseReason.ORDER_EXPIRED)

    @listener.on(OrderFulfillmentRequested)
    def commit(event: OrderFulfillmentRequested) -> None:
        inventory.commit(event.order.id)

    return listener
