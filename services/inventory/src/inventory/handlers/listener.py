"""Order events from the event hub's stream reserve, release and commit stock."""

from typing import Any

from shop_observability import instrumented

from inventory import bootstrap
from inventory.settings import ListenerSettings

listener = bootstrap.listener(ListenerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return listener.process(event)
