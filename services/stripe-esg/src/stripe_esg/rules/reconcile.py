"""The reconcile function's rules: on its schedule, list the Stripe events of the last three
days (as long as Stripe retries a webhook) and ingest those never ingested, through the same
inbox as the webhook's."""

from __future__ import annotations

from collections.abc import Callable

from shop_envelope import EventFactory, now_ms
from shop_publisher import EventPublisher

from stripe_esg.inbox import Inbox, Reconciliation
from stripe_esg.ports import PaymentGateway
from stripe_esg.rules.worker import PERMANENT_ERRORS


def build(
    inbox: Inbox,
    gateway: PaymentGateway,
    *,
    events: EventFactory,
    publisher: EventPublisher,
    clock: Callable[[], int] = now_ms,
) -> Reconciliation:
    return Reconciliation(
        inbox,
        gateway,
        clock=clock,
        events=events,
        publisher=publisher,
        permanent_errors=PERMANENT_ERRORS,
    )
