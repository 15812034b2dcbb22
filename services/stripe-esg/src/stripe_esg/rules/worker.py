"""The worker's rules: each message of the ingress queue is a Stripe event the webhook verified;
translated once into payment events (`Inbox`)."""

from __future__ import annotations

from shop_envelope import EventFactory
from shop_publisher import EventPublisher

from stripe_esg.domain import PaymentMismatch, StripeRejected, UnreadableStripeEvent
from stripe_esg.inbox import Inbox, QueueIngress

# No retry mends these: an event that disagrees with our intent, one without the shape its type
# promises, a refund Stripe refuses as made. `UnknownIntent` and Stripe being unavailable are
# retried by the queue, then kept on its dead-letter queue, which the unprocessed function parks.
PERMANENT_ERRORS = (PaymentMismatch, UnreadableStripeEvent, StripeRejected)


def build(inbox: Inbox, *, events: EventFactory, publisher: EventPublisher) -> QueueIngress:
    return QueueIngress(
        inbox, events=events, publisher=publisher, permanent_errors=PERMANENT_ERRORS
    )
