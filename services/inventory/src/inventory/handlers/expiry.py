"""Expiry timers deleted by DynamoDB's TTL release the reservations nobody settled."""

from typing import Any

from shop_observability import adopt_loggers, instrumented
from shop_publisher import EventBridgePublisher
from shop_streams import ChangeDataCapture

from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.expiry import release_expired_reservations
from inventory.model import Inventory
from inventory.settings import ExpirySettings

settings = ExpirySettings.from_environment()
adopt_loggers("inventory")
events = settings.event_factory()
expiry = ChangeDataCapture(
    release_expired_reservations(Inventory(DynamoDBStockLedger(settings.table_name))),
    publisher=EventBridgePublisher(settings.bus_name),
    events=events,
)


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return expiry.process(event)
