"""What the other services report, from the event hub's stream, into the order and catalog views."""

from typing import Any

from shop_observability import instrumented

from order_bff import bootstrap
from order_bff.settings import ListenerSettings

listener = bootstrap.listener(ListenerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return listener.process(event)
