"""Changes of the inventory's table, from its stream, published as domain events."""

from typing import Any

from shop_observability import instrumented

from inventory import bootstrap
from inventory.settings import TriggerSettings

trigger = bootstrap.trigger(TriggerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return trigger.process(event)
