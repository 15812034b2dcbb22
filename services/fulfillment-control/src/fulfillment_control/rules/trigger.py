"""The trigger's rules, on the store's own stream: evaluate, then publish.

- An event collected (an `EVENT#` item inserted) has the order's whole collected set evaluated
  against the rulebook; the facts it implies are recorded in the same table, each once (the
  model's conditional writes). This route acts and returns nothing.
- A fact recorded (the `OUTCOME` or a `FACT#` item inserted) is published as its domain event,
  with the id of its order and rule and the time it was decided. The table is the outbox: a fact
  is published only once recorded, and a redelivered change publishes the very same event, which
  consumers drop as a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from shop_envelope import DomainEvent, Envelope, EventFactory, deterministic_id
from shop_publisher import EventPublisher
from shop_streams import Change, ChangeDataCapture

from fulfillment_control.domain import Fact, FactType
from fulfillment_control.events import (
    CancelledOrder,
    OrderCancellationRejected,
    OrderCancelled,
    OrderExpired,
    OrderFulfillmentRequested,
    OrderReference,
)
from fulfillment_control.model import FulfillmentControl
from fulfillment_control.table import event_of, fact_of, is_event, is_fact, order_id_of


class UnreadableItem(Exception):
    """An item of the table that does not read as the domain: a write that should never have been
    made. Retrying cannot mend a stored item, so the change is parked for a person, and the stream
    moves on."""


_EVENT_OF_FACT: dict[FactType, type[DomainEvent]] = {
    FactType.FULFILLMENT_REQUESTED: OrderFulfillmentRequested,
    FactType.CANCELLED: OrderCancelled,
    FactType.EXPIRED: OrderExpired,
    FactType.CANCELLATION_REJECTED: OrderCancellationRejected,
}


def fact_id(fact: Fact) -> str:
    """The published event's id: the order and the rule, so a rule's fact is one event."""
    return deterministic_id(fact.rule, fact.order_id)


def build(
    control: FulfillmentControl,
    *,
    events: EventFactory,
    publisher: EventPublisher,
    on_event: Callable[[Envelope], None] | None = None,
) -> ChangeDataCapture:
    trigger = ChangeDataCapture(
        events=events,
        publisher=publisher,
        permanent_errors=(UnreadableItem,),
        on_event=on_event,
    )

    @trigger.on(lambda change: change.name == "INSERT" and is_event(change.keys))
    def evaluate(change: Change) -> None:
        arrived = _read(change, lambda new: event_of(new).type)
        control.evaluate(order_id_of(change.keys), arrived=arrived)

    @trigger.on(lambda change: change.name == "INSERT" and is_fact(change.keys))
    def publish(change: Change) -> Iterator[DomainEvent]:
        fact = _read(change, fact_of)
        event_class = _EVENT_OF_FACT[fact.type]
        payload = (
            CancelledOrder(id=fact.order_id, reason=fact.reason)
            if fact.reason is not None
            else OrderReference(id=fact.order_id)
        )
        yield events.create(
            event_class,
            payload,
            partition_key=fact.order_id,
            id=fact_id(fact),
            timestamp=fact.decided_at,
        )

    return trigger


def _read[T](change: Change, reader: Callable[[dict[str, Any]], T]) -> T:
    """What the change's new image reads as, or `UnreadableItem`."""
    try:
        return reader(change.new or {})
    except (KeyError, ValueError, TypeError) as error:
        raise UnreadableItem(f"{change.keys}: {type(error).__name__}: {error}") from error
