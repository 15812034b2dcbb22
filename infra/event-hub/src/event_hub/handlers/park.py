"""Fault events from the fault queue, parked in the fault store: one item per fault id."""

from typing import Any

from shop_observability import adopt_loggers, instrumented

from event_hub.parked import FaultStore
from event_hub.parking import Parker
from event_hub.settings import ParkSettings

settings = ParkSettings.from_environment()
adopt_loggers("event_hub")
parker = Parker(FaultStore(settings.fault_table_name))


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return parker.process(event)
