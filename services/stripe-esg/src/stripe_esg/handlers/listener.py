"""Order events from the event hub's stream opened, cancelled and refunded at Stripe."""

from typing import Any

from shop_observability import instrumented

from stripe_esg import bootstrap
from stripe_esg.settings import ListenerSettings

listener = bootstrap.listener(ListenerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> Any:
    return listener.process(event)
