"""The composition root: each function's engine built once, from its validated settings, with the
real adapters unless the caller hands in its own (tests pass fakes; nothing here touches AWS or
Stripe until the first event, as every client is created on first use).

    listener = bootstrap.listener(ListenerSettings.from_environment())          # a handler
    listener = bootstrap.listener(settings, ledger=InMemoryPaymentLedger(), ...)  # a test

Each builder imports what its function needs when it is called, not at the top: the webhook's
cold start must not pay for pydantic, the event libraries or the Stripe SDK it never uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from shop_observability import adopt_loggers

if TYPE_CHECKING:
    from shop_publisher import EventPublisher
    from shop_sealing import Sealer
    from shop_streams import EventProcessor

    from stripe_esg.inbox import Inbox, PartnerIngress, QueueIngress, Reconciliation
    from stripe_esg.ingress import WebhookSettings
    from stripe_esg.ports import PaymentGateway, PaymentLedger
    from stripe_esg.rules.webhook import Webhook
    from stripe_esg.settings import (
        ListenerSettings,
        PartnerSettings,
        ReconcileSettings,
        StripeSettings,
        WorkerSettings,
    )

# The model and the adapters log through the standard library; their lines join the JSON logs.
adopt_loggers(__package__ or "stripe_esg")


def webhook(
    settings: WebhookSettings,
    *,
    secrets: Callable[[], Sequence[str]] | None = None,
    enqueue: Callable[[str, str], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> Webhook:
    """Stripe's POSTs verified and handed to the ingress queue."""
    from stripe_esg.adapters.sqs import IngressQueue
    from stripe_esg.adapters.ssm import ParameterSecrets
    from stripe_esg.rules import webhook as webhook_rules

    if secrets is None:
        previous = settings.previous_webhook_secret_parameter
        secrets = ParameterSecrets().all_of(
            settings.webhook_secret_parameter, *([previous] if previous else [])
        )
    return webhook_rules.build(
        secrets=secrets, enqueue=enqueue or IngressQueue(settings.queue_url).send, clock=clock
    )


def listener(
    settings: ListenerSettings,
    *,
    ledger: PaymentLedger | None = None,
    gateway: PaymentGateway | None = None,
    sealer: Sealer | None = None,
    publisher: EventPublisher | None = None,
) -> EventProcessor:
    """Order events from the event hub's stream opened, cancelled and refunded at Stripe."""
    from shop_observability import bind_event

    from stripe_esg.model import Payments
    from stripe_esg.publishing import PaymentEvents
    from stripe_esg.rules import listener as listener_rules

    payments = Payments(ledger or _ledger(settings), gateway or _gateway(settings))
    return listener_rules.build(
        payments,
        events=settings.event_factory(),
        announcements=PaymentEvents(settings.event_factory(), sealer or _sealer(settings)),
        publisher=publisher or _bus(settings),
        on_event=bind_event,
    )


def worker(
    settings: WorkerSettings,
    *,
    ledger: PaymentLedger | None = None,
    gateway: PaymentGateway | None = None,
    publisher: EventPublisher | None = None,
    clock: Callable[[], int] | None = None,
) -> QueueIngress:
    """Verified Stripe events from the ingress queue translated into payment events."""
    from stripe_esg.rules import worker as worker_rules

    bus = publisher or _bus(settings)
    inbox = _inbox(settings, ledger, gateway, bus, clock)
    return worker_rules.build(inbox, events=settings.event_factory(), publisher=bus)


def partner(
    settings: PartnerSettings,
    *,
    ledger: PaymentLedger | None = None,
    gateway: PaymentGateway | None = None,
    publisher: EventPublisher | None = None,
) -> PartnerIngress:
    """Stripe events from Stripe's Amazon EventBridge destination, into the same inbox."""
    from stripe_esg.rules import partner as partner_rules

    bus = publisher or _bus(settings)
    inbox = _inbox(settings, ledger, gateway, bus, None)
    return partner_rules.build(inbox, events=settings.event_factory(), publisher=bus)


def reconcile(
    settings: ReconcileSettings,
    *,
    ledger: PaymentLedger | None = None,
    gateway: PaymentGateway | None = None,
    publisher: EventPublisher | None = None,
    clock: Callable[[], int] | None = None,
) -> Reconciliation:
    """The Stripe events of the last days that never came in, ingested."""
    from shop_envelope import now_ms

    from stripe_esg.rules import reconcile as reconcile_rules

    bus = publisher or _bus(settings)
    stripe = gateway or _gateway(settings)
    inbox = _inbox(settings, ledger, stripe, bus, clock)
    return reconcile_rules.build(
        inbox, stripe, events=settings.event_factory(), publisher=bus, clock=clock or now_ms
    )


def _inbox(
    settings: StripeSettings,
    ledger: PaymentLedger | None,
    gateway: PaymentGateway | None,
    publisher: EventPublisher,
    clock: Callable[[], int] | None,
) -> Inbox:
    from shop_envelope import now_ms

    from stripe_esg.inbox import Inbox
    from stripe_esg.model import Payments, Translation
    from stripe_esg.publishing import PaymentEvents

    kept = ledger or _ledger(settings)
    translation = Translation(
        kept,
        Payments(kept, gateway or _gateway(settings)),
        livemode=settings.livemode,
        clock=clock or now_ms,
    )
    return Inbox(translation, PaymentEvents(settings.event_factory()), publisher)


def _ledger(settings: StripeSettings) -> PaymentLedger:
    from stripe_esg.adapters.dynamodb import DynamoDBPaymentLedger

    return DynamoDBPaymentLedger(settings.table_name)


def _gateway(settings: StripeSettings) -> PaymentGateway:
    from stripe_esg.adapters.ssm import ParameterSecrets
    from stripe_esg.adapters.stripe_client import StripeClient

    return StripeClient(
        ParameterSecrets().reader(settings.api_key_parameter), api_base=settings.api_base
    )


def _sealer(settings: ListenerSettings) -> Sealer:
    from shop_sealing import KmsSealer

    return KmsSealer(settings.sealing_key_id)


def _bus(settings: StripeSettings) -> EventPublisher:
    from shop_publisher import EventBridgePublisher

    return EventBridgePublisher(settings.bus_name)
