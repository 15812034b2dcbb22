"""Verified Stripe events from the ingress queue translated into payment events."""

from typing import Any

from shop_observability import instrumented

from stripe_esg import bootstrap
from stripe_esg.settings import WorkerSettings

worker = bootstrap.worker(WorkerSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> Any:
    return worker.process(event)
