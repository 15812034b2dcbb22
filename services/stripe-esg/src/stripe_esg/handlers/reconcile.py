"""On a schedule, the Stripe events of the last days that never came in, ingested."""

from typing import Any

from shop_observability import instrumented

from stripe_esg import bootstrap
from stripe_esg.settings import ReconcileSettings

reconcile = bootstrap.reconcile(ReconcileSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> Any:
    return reconcile.process(event)
