"""The partner function's rules: Stripe's Amazon EventBridge destination delivers the Stripe
event as the `detail` of a partner event; the same inbox as the webhook's ingests it, so an
event that arrives both ways is ingested once."""

from __future__ import annotations

from shop_envelope import EventFactory
from shop_publisher import EventPublisher

from stripe_esg.inbox import Inbox, PartnerIngress
from stripe_esg.rules.worker import PERMANENT_ERRORS


def build(inbox: Inbox, *, events: EventFactory, publisher: EventPublisher) -> PartnerIngress:
    return PartnerIngress(
        inbox, events=events, publisher=publisher, permanent_errors=PERMANENT_ERRORS
    )
