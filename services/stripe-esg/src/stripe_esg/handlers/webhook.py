"""Stripe's webhook POSTs, verified and handed to the ingress queue."""

from typing import Any

from shop_observability import instrumented

from stripe_esg import bootstrap
from stripe_esg.ingress import WebhookSettings

webhook = bootstrap.webhook(WebhookSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> Any:
    return webhook.process(event)
