"""The trigger's rules: what each change of the inventory's table means to the rest of the system.

The table is the source of truth and its stream the outbox: a command writes state, and the
trigger turns each change into the domain events it implies, so no write can happen without its
event, nor an event without its write. Ids are deterministic in what changed (the order, or the
product and its version), so a change redelivered after a failed publish gives the same events,
which consumers then drop as duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import wraps
from typing import Any

from shop_envelope import DomainEvent, Envelope, EventFactory, deterministic_id
from shop_publisher import EventPublisher
from shop_streams import Change, ChangeDataCapture

from inventory.domain import ReservationStatus
from inventory.events import (
    CatalogProduct,
    CommittedReservation,
    FailedReservation,
    HeldReservation,
    InventoryCommitted,
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    Price,
    ProductUpdated,
    ReleasedReservation,
    ReservationFacts,
    ReservedLine,
    ShortLine,
    Stock,
    StockLevelChanged,
)
from inventory.table import (
    changed_at_of,
    is_product,
    is_reservation,
    product_of,
    reservation_of,
    stock_of,
    version_of,
)

_CATALOG_ATTRIBUTES = ("name", "price_amount", "currency")
_STOCK_ATTRIBUTES = ("on_hand", "reserved", "available")


class UnreadableItem(Exception):
    """An item of the table that does not read as the domain: a write that should never have been
    made. Retrying cannot mend a stored item, so the change is parked for a person, and the stream
    moves on."""


def build(
    *,
    events: EventFactory,
    publisher: EventPublisher,
    on_event: Callable[[Envelope], None] | None = None,
) -> ChangeDataCapture:
    # Reservations and products are never deleted; expiry timers are (by TTL), and the expiry
    # function, not the trigger, acts on those: removes match no route.
    trigger = ChangeDataCapture(
        events=events,
        publisher=publisher,
        permanent_errors=(UnreadableItem,),
        on_event=on_event,
    )

    @trigger.on(lambda change: change.new is not None and is_reservation(change.keys))
    @_read_as_the_domain
    def reservation_events(change: Change) -> Iterator[DomainEvent]:
        new, old = change.new or {}, change.old
        if old is not None and old.get("status") == new.get("status"):
            return  # a write that changed no status is no new fact
        reservation = reservation_of(new)
        facts: dict[str, Any] = {
            "id": reservation.id,
            "order_id": reservation.order_id,
            "lines": [
                ReservedLine(sku=line.sku, quantity=line.quantity) for line in reservation.lines
            ],
        }
        status, created = reservation.status, old is None
        event: tuple[type[DomainEvent], ReservationFacts]
        if created and status is ReservationStatus.RESERVED:
            event = InventoryReserved, HeldReservation(**facts, expires_at=reservation.expires_at)
        elif created and status is ReservationStatus.FAILED:
            shortages = [
                ShortLine(sku=s.sku, requested=s.requested, available=s.available)
                for s in reservation.shortages
            ]
            event = InventoryReservationFailed, FailedReservation(**facts, shortages=shortages)
        elif not created and status is ReservationStatus.RELEASED:
            event = InventoryReleased, ReleasedReservation(**facts, reason=reservation.reason)
        elif not created and status is ReservationStatus.COMMITTED:
            event = InventoryCommitted, CommittedReservation(**facts)
        else:
            return  # VOID holds nothing and released nothing: the order ended before it was reserved
        event_class, payload = event
        yield events.create(
            event_class,
            payload,
            partition_key=reservation.order_id,
            id=deterministic_id(event_class.event_type, reservation.order_id),
            timestamp=changed_at_of(new),
        )

    @trigger.on(lambda change: change.new is not None and is_product(change.keys))
    @_read_as_the_domain
    def product_events(change: Change) -> Iterator[DomainEvent]:
        new, old = change.new or {}, change.old
        version, happened_at, sku = version_of(new), changed_at_of(new), str(new["sku"])
        if _differs(new, old, _CATALOG_ATTRIBUTES):
            product = product_of(new)
            yield events.create(
                ProductUpdated,
                CatalogProduct(
                    sku=sku,
                    name=product.name,
                    price=Price(amount=product.price.amount, currency=product.price.currency),
                    version=version,
                ),
                partition_key=sku,
                id=deterministic_id(ProductUpdated.event_type, sku, version),
                timestamp=happened_at,
            )
        if _differs(new, old, _STOCK_ATTRIBUTES):
            level = stock_of(new)
            yield events.create(
                StockLevelChanged,
                Stock(
                    sku=sku,
                    on_hand=level.on_hand,
                    reserved=level.reserved,
                    available=level.available,
                    version=version,
                ),
                partition_key=sku,
                id=deterministic_id(StockLevelChanged.event_type, sku, version),
                timestamp=happened_at,
            )

    return trigger


def _read_as_the_domain(
    mapping: Callable[[Change], Iterator[DomainEvent]],
) -> Callable[[Change], list[DomainEvent]]:
    """The events of a change, or `UnreadableItem` for an item that does not read as the domain."""

    @wraps(mapping)
    def events_of(change: Change) -> list[DomainEvent]:
        try:
            return list(mapping(change))
        except (KeyError, ValueError, TypeError) as error:
            raise UnreadableItem(f"{change.keys}: {type(error).__name__}: {error}") from error

    return events_of


def _differs(
    new: Mapping[str, Any], old: Mapping[str, Any] | None, attributes: tuple[str, ...]
) -> bool:
    return old is None or any(new.get(name) != old.get(name) for name in attributes)
