"""Each event collected evaluates its order's rules; each fact recorded is published."""

from typing import Any

from shop_observability import instrumented

from fulfillment_control import bootstrap
from fulfillment_control.settings import TriggerSettings

trigger = bootstrap.trigger(TriggerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return trigger.process(event)
