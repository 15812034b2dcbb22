"""The safety net: a reservation whose expiry timer DynamoDB deleted (TTL) is released.

The timer is written with the reservation and deleted when it is settled, so a timer that expires
belongs to a reservation nobody committed or released: its order's events were lost or its
control service is down. Releasing it changes the reservation, and the trigger publishes that
change as `inventory-released` with the reason `reservation-expired`.
"""

from __future__ import annotations

from shop_envelope import Envelope
from shop_streams import Change, ChangeMapper

from inventory.adapters.items import is_expiry, order_id_of
from inventory.domain import ReleaseReason
from inventory.model import Inventory


def release_expired_reservations(inventory: Inventory) -> ChangeMapper:
    def release(change: Change) -> list[Envelope]:
        if change.name == "REMOVE" and change.expired_by_ttl and is_expiry(change.keys):
            inventory.release(order_id_of(change.keys), ReleaseReason.RESERVATION_EXPIRED)
        return []  # the release's own change publishes the event

    return release
