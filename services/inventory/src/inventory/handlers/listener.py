"""Order events from the event hub's stream reserve, release and commit stock."""

from typing import Any

from shop_observability import adopt_loggers, bind_event, instrumented
from shop_publisher import EventBridgePublisher

from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.listener import build_listener
from inventory.model import Inventory
from inventory.settings import ListenerSettings

settings = ListenerSettings.from_environment()
adopt_loggers("inventory")
listener = build_listener(
    Inventory(
        DynamoDBStockLedger(settings.table_name),
        hold_seconds=settings.reservation_hold_seconds,
    ),
    events=settings.event_factory(),
    faults=EventBridgePublisher(settings.bus_name),
    on_event=bind_event,
)


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return listener.process(event)
