"""Orders placed and cancellations requested, from the table's stream, published as domain events."""

from typing import Any

from shop_observability import instrumented

from order_bff import bootstrap
from order_bff.settings import TriggerSettings

trigger = bootstrap.trigger(TriggerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return trigger.process(event)
