"""The expiry's rules, the safety net: a reservation whose expiry timer DynamoDB deleted (TTL) is
released.

The timer is written with the reservation and deleted when it is settled, so a timer that expires
belongs to a reservation nobody committed or released: its order's events were lost or its
control service is down. Releasing it changes the reservation, and the trigger publishes that
change as `inventory-released` with the reason `reservation-expired`.
"""

from __future__ import annotations

from collections.abc import Callable

from shop_envelope import Envelope, EventFactory
from shop_publisher import EventPublisher
from shop_streams import Change, ChangeDataCapture

from inventory.domain import ReleaseReason
from inventory.model import Inventory
from inventory.table import is_expiry, order_id_of


def build(
    inventory: Inventory,
    *,
    events: EventFactory,
    publisher: EventPublisher,
    on_event: Callable[[Envelope], None] | None = None,
) -> ChangeDataCapture:
    expiry = ChangeDataCapture(events=events, publisher=publisher, on_event=on_event)

    @expiry.on(lambda change: change.expired_by_ttl and is_expiry(change.keys))
    def release(change: Change) -> None:
        # The release's own change publishes the event, through the trigger.
        inventory.release(order_id_of(change.keys), ReleaseReason.RESERVATION_EXPIRED)

    return expiry
