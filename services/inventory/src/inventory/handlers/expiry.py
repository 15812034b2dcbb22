"""Expiry timers deleted by DynamoDB's TTL release the reservations nobody settled."""

from typing import Any

from shop_observability import instrumented

from inventory import bootstrap
from inventory.settings import ExpirySettings

expiry = bootstrap.expiry(ExpirySettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return expiry.process(event)
