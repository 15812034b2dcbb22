"""The listener's rules: every event the rulebook reads is collected into the order's store."""

from __future__ import annotations

from collections.abc import Callable

from shop_envelope import Envelope, EventFactory
from shop_publisher import EventPublisher
from shop_streams import EventProcessor

from fulfillment_control.domain import Collected, EventType
from fulfillment_control.events import CONSUMED, Collectable
from fulfillment_control.model import Collector


def build(
    collector: Collector,
    *,
    events: EventFactory,
    publisher: EventPublisher,
    on_event: Callable[[Envelope], None] | None = None,
) -> EventProcessor:
    # The subscription filter lets only the collected types through, so any other type is a
    # fault, as is an event of a collected type without its order. Collecting cannot fail for
    # the event's sake: anything else (throttling, an outage) is retried by the stream.
    listener = EventProcessor(
        events=events, publisher=publisher, unknown_types="fault", on_event=on_event
    )

    def collect(event: Collectable) -> None:
        collector.collect(
            Collected(event.timestamp, event.id, EventType(event.type), event.order_id)
        )

    for event_class in CONSUMED:
        listener.on(event_class)(collect)
    return listener
