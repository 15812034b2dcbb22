"""The composition root: each function's engine built once, from its validated settings, with the
real adapters unless the caller hands in its own (tests pass fakes; nothing here touches AWS until
the first event, as every client is created on first use).

    listener = bootstrap.listener(ListenerSettings.from_environment())    # a handler, at cold start
    listener = bootstrap.listener(settings, ledger=InMemoryStockLedger())  # a test
"""

from __future__ import annotations

from collections.abc import Callable

from shop_envelope import now_ms
from shop_observability import adopt_loggers, bind_event
from shop_publisher import EventBridgePublisher, EventPublisher
from shop_streams import ChangeDataCapture, EventProcessor

from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.model import Inventory
from inventory.ports import StockLedger
from inventory.rules import expiry as expiry_rules
from inventory.rules import listener as listener_rules
from inventory.rules import trigger as trigger_rules
from inventory.settings import ExpirySettings, InventorySettings, ListenerSettings, TriggerSettings

# The model logs through the standard library; its lines join the function's JSON logs.
adopt_loggers(__package__ or "inventory")


def listener(
    settings: ListenerSettings,
    *,
    ledger: StockLedger | None = None,
    publisher: EventPublisher | None = None,
    clock: Callable[[], int] = now_ms,
) -> EventProcessor:
    """Order events from the event hub's stream reserve, release and commit stock."""
    inventory = Inventory(
        ledger or DynamoDBStockLedger(settings.table_name, clock=clock),
        hold_seconds=settings.reservation_hold_seconds,
        clock=clock,
    )
    return listener_rules.build(
        inventory,
        events=settings.event_factory(),
        publisher=publisher or _bus(settings),
        on_event=bind_event,
    )


def trigger(
    settings: TriggerSettings, *, publisher: EventPublisher | None = None
) -> ChangeDataCapture:
    """Changes of the inventory's table, from its stream, published as domain events."""
    return trigger_rules.build(
        events=settings.event_factory(), publisher=publisher or _bus(settings), on_event=bind_event
    )


def expiry(
    settings: ExpirySettings,
    *,
    ledger: StockLedger | None = None,
    publisher: EventPublisher | None = None,
    clock: Callable[[], int] = now_ms,
) -> ChangeDataCapture:
    """Expiry timers deleted by DynamoDB's TTL release the reservations nobody settled."""
    inventory = Inventory(
        ledger or DynamoDBStockLedger(settings.table_name, clock=clock), clock=clock
    )
    return expiry_rules.build(
        inventory,
        events=settings.event_factory(),
        publisher=publisher or _bus(settings),
        on_event=bind_event,
    )


def _bus(settings: InventorySettings) -> EventPublisher:
    return EventBridgePublisher(settings.bus_name)
