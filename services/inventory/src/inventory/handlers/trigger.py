"""Changes of the inventory's table, from its stream, published as domain events."""

from typing import Any

from shop_observability import adopt_loggers, instrumented
from shop_publisher import EventBridgePublisher
from shop_streams import ChangeDataCapture

from inventory.changes import ChangeMeaning
from inventory.settings import TriggerSettings

settings = TriggerSettings.from_environment()
adopt_loggers("inventory")
events = settings.event_factory()
trigger = ChangeDataCapture(
    ChangeMeaning(events),
    publisher=EventBridgePublisher(settings.bus_name),
    events=events,
    permanent_errors=ChangeMeaning.permanent_errors,
)


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return trigger.process(event)
