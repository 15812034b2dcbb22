"""Stripe events from Stripe's Amazon EventBridge destination translated into payment events."""

from typing import Any

from shop_observability import instrumented

from stripe_esg import bootstrap
from stripe_esg.settings import PartnerSettings

partner = bootstrap.partner(PartnerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> Any:
    return partner.process(event)
