"""Facts into the domain events that announce them, with ids a redelivery gives again: the
intent's creation, success and cancellation are one each per intent, a decline one per Stripe
event (each attempt is news), a refund one per refund. The client secret is sealed here."""

from __future__ import annotations

from shop_envelope import DomainEvent, EventFactory, deterministic_id
from shop_sealing import Sealer

from stripe_esg import events as wire
from stripe_esg.model import (
    Fact,
    IntentOpened,
    PaymentCancelled,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)

CLIENT_SECRET_FIELD = "payment.clientSecret"


class PaymentEvents:
    def __init__(self, events: EventFactory, sealer: Sealer | None = None) -> None:
        """`sealer` is needed only by the function that announces new intents (the listener)."""
        self._events = events
        self._sealer = sealer

    def of(self, fact: Fact) -> DomainEvent:
        order_id = fact.payment.order_id

        def event(
            kind: type[DomainEvent], payload: wire.PaymentFacts, *id_parts: str
        ) -> DomainEvent:
            return self._events.create(
                kind,
                payload,
                partition_key=order_id,
                id=deterministic_id(kind.event_type, *id_parts),
            )

        match fact:
            case IntentOpened():
                if self._sealer is None:
                    raise RuntimeError("announcing an intent needs a sealer for its client secret")
                sealed = self._sealer.seal(
                    fact.client_secret, field=CLIENT_SECRET_FIELD, order_id=order_id
                )
                return event(
                    wire.PaymentIntentCreated,
                    wire.OpenedPayment(
                        order_id=order_id,
                        intent_id=fact.intent_id,
                        amount=fact.amount.amount,
                        currency=fact.amount.currency,
                        client_secret=sealed,
                    ),
                    order_id,
                )
            case PaymentSucceeded():
                return event(
                    wire.PaymentSucceeded,
                    wire.ChargedPayment(
                        order_id=order_id,
                        intent_id=fact.intent_id,
                        amount=fact.amount.amount,
                        currency=fact.amount.currency,
                    ),
                    fact.intent_id,
                )
            case PaymentFailed():
                return event(
                    wire.PaymentFailed,
                    wire.FailedPayment(
                        order_id=order_id,
                        intent_id=fact.intent_id,
                        amount=fact.amount.amount,
                        currency=fact.amount.currency,
                        decline_code=fact.decline.code,
                        message=fact.decline.message,
                    ),
                    fact.stripe_event_id,
                )
            case PaymentRefunded():
                return event(
                    wire.PaymentRefunded,
                    wire.RefundedPayment(
                        order_id=order_id,
                        intent_id=fact.intent_id,
                        amount=fact.amount.amount,
                        currency=fact.amount.currency,
                        refund_id=fact.refund_id,
                    ),
                    fact.refund_id,
                )
            case PaymentCancelled():
                return event(
                    wire.PaymentCancelled,
                    wire.PaymentFacts(order_id=order_id, intent_id=fact.intent_id),
                    fact.intent_id,
                )
