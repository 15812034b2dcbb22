"""Every event the rules read, from the event hub's stream, collected into the store."""

from typing import Any

from shop_observability import instrumented

from fulfillment_control import bootstrap
from fulfillment_control.settings import ListenerSettings

listener = bootstrap.listener(ListenerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return listener.process(event)
