"""The trigger's rules: which changes of the BFF's table are facts for the rest of the system.

The table is the source of truth and its stream the outbox: `placeOrder` and `cancelOrder` write
the order's view, and the trigger publishes the fact the write made true, so no order is stored
without its event, nor an event sent for an order not stored. A view's other changes (the
listener taking in what others reported) are no news to publish. Ids are deterministic in the
order, so a change redelivered after a failed publish gives the same events, which consumers then
drop as duplicates.
"""

from __future__ import annotations

from collections.abc import Callable

from shop_envelope import DomainEvent, Envelope, EventFactory, deterministic_id
from shop_publisher import EventPublisher
from shop_streams import Change, ChangeDataCapture

from order_bff.domain import CANCELLATION_REQUESTED, PLACED, OrderView
from order_bff.events import (
    CancellationRequest,
    OrderCancellationRequested,
    OrderPlaced,
    PlacedLine,
    PlacedOrder,
    Price,
)
from order_bff.table import is_order, order_of


class UnreadableItem(Exception):
    """An item of the table that does not read as an order: a write that should never have been
    made. Retrying cannot mend a stored item, so the change is parked for a person."""


def _became(attribute: str) -> Callable[[Change], bool]:
    """A change of an order that set `attribute`, which it did not have before."""

    def holds(change: Change) -> bool:
        return (
            is_order(change.keys)
            and change.new is not None
            and change.new.get(attribute) is not None
            and (change.old is None or change.old.get(attribute) is None)
        )

    return holds


def build(
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

    @trigger.on(_became("placed_at"))
    def order_placed(change: Change) -> list[DomainEvent]:
        order = _order(change)
        placement = order.placement
        assert placement is not None  # placed_at is set: the view reads as placed
        total = placement.total
        return [
            events.create(
                OrderPlaced,
                PlacedOrder(
                    id=order.id,
                    customer_id=placement.customer_id,
                    lines=[
                        PlacedLine(
                            sku=line.sku,
                            name=line.name,
                            quantity=line.quantity,
                            unit_price=Price(
                                amount=line.unit_price.amount, currency=line.unit_price.currency
                            ),
                        )
                        for line in placement.lines
                    ],
                    total=Price(amount=total.amount, currency=total.currency),
                    placed_at=placement.placed_at,
                ),
                partition_key=order.id,
                id=deterministic_id(PLACED, order.id),
                timestamp=placement.placed_at,
            )
        ]

    @trigger.on(_became("cancellation_requested_at"))
    def cancellation_requested(change: Change) -> list[DomainEvent]:
        order = _order(change)
        assert order.customer_id is not None
        assert order.cancellation_requested_at is not None
        return [
            events.create(
                OrderCancellationRequested,
                CancellationRequest(id=order.id, customer_id=order.customer_id),
                partition_key=order.id,
                id=deterministic_id(CANCELLATION_REQUESTED, order.id),
                timestamp=order.cancellation_requested_at,
            )
        ]

    return trigger


def _order(change: Change) -> OrderView:
    try:
        return order_of(change.new or {})
    except (KeyError, ValueError, TypeError) as error:
        raise UnreadableItem(f"{change.keys}: {type(error).__name__}: {error}") from error
