"""The rules of paying for an order, in two halves that meet in the ledger.

- `Payments` (egress): an order placed gets one PaymentIntent, however often the event comes and
  however long after Stripe forgot its idempotency key (the intent's id is kept, and looked up
  before any create); an order that ended gets its intent cancelled if nothing was charged, or
  refunded once if it was paid.
- `Translation` (ingress): a Stripe event, already authenticated, is ingested once (by its id),
  checked against the intent this service created, and moves the payment forward only; what it
  moved becomes a fact the rules publish. A payment that succeeds for an order that already ended
  is refunded at once.

Both return facts (`IntentOpened`, `PaymentSettled`, ...), never Stripe objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shop_envelope import now_ms

from stripe_esg.domain import (
    CANCELABLE,
    ORDER_ENDED,
    Decline,
    Money,
    Payment,
    PaymentMismatch,
    PaymentStatus,
    Refund,
    UnknownIntent,
    UnreadableStripeEvent,
    idempotency_key,
)
from stripe_esg.ports import PaymentGateway, PaymentLedger
from stripe_esg.stripe_types import INGESTED_TYPES

logger = logging.getLogger(__name__)

# Longer than Stripe goes on retrying a webhook (three days), so a late retry is still known.
DEDUPLICATION_SECONDS = 7 * 24 * 3600


# ---- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentOpened:
    payment: Payment
    amount: Money
    intent_id: str
    client_secret: str


@dataclass(frozen=True)
class PaymentSucceeded:
    payment: Payment
    amount: Money
    intent_id: str


@dataclass(frozen=True)
class PaymentFailed:
    payment: Payment
    amount: Money
    intent_id: str
    decline: Decline
    stripe_event_id: str  # each declined attempt is a fact of its own


@dataclass(frozen=True)
class PaymentCancelled:
    payment: Payment
    intent_id: str


@dataclass(frozen=True)
class PaymentRefunded:
    payment: Payment
    amount: Money
    intent_id: str
    refund_id: str


Fact = IntentOpened | PaymentSucceeded | PaymentFailed | PaymentCancelled | PaymentRefunded
Settlement = PaymentCancelled | PaymentRefunded


# ---- egress ------------------------------------------------------------------------------------


class Payments:
    def __init__(self, ledger: PaymentLedger, gateway: PaymentGateway) -> None:
        self.ledger = ledger
        self.gateway = gateway

    def open(self, order_id: str, total: Money) -> list[Fact]:
        """The order's one intent: created once, then found again on every redelivery (its fact
        told again, under the same event id)."""
        kept = self.ledger.payment(order_id)
        if kept is not None and kept.intent_id is None and kept.order_ended:
            logger.info("order ended before its payment opened", extra={"order_id": order_id})
            return []
        if kept is not None and kept.intent_id is not None:
            intent = self.gateway.retrieve_intent(kept.intent_id)
        else:
            intent = self.gateway.create_intent(
                order_id, total, idempotency_key=idempotency_key(order_id, "payment-intent")
            )
            kept = self.ledger.record_intent(order_id, intent.id, total)
            if kept.intent_id != intent.id:
                # Another delivery recorded its intent first: that one is the order's.
                intent = self.gateway.retrieve_intent(str(kept.intent_id))
            logger.info(
                "payment intent created", extra={"order_id": order_id, "intent_id": intent.id}
            )
        if kept.order_ended:
            return list(self.settle(kept))
        if intent.client_secret is None:
            raise UnreadableStripeEvent(
                f"Stripe answered intent {intent.id} without its client secret"
            )
        return [IntentOpened(kept, intent.amount, intent.id, intent.client_secret)]

    def end(self, order_id: str) -> list[Fact]:
        """The order ended: nothing to do before it has an intent (a later one is not made), its
        intent cancelled while nothing was charged, or refunded once if it was paid."""
        return list(self.settle(self.ledger.end_order(order_id)))

    def settle(self, payment: Payment) -> tuple[Settlement, ...]:
        """An ended order's payment settled: its intent cancelled while nothing was charged,
        refunded once if it was paid; the settlement told again if it was made before."""
        if payment.intent_id is None or payment.amount is None:
            return ()
        if payment.status is PaymentStatus.CANCELLED:
            return (PaymentCancelled(payment, payment.intent_id),)
        if payment.status is PaymentStatus.REFUNDED and payment.refund_id is not None:
            return (PaymentRefunded(payment, payment.amount, payment.intent_id, payment.refund_id),)
        intent = self.gateway.retrieve_intent(payment.intent_id)
        if intent.status in CANCELABLE or intent.status == "canceled":
            if intent.status != "canceled":
                self.gateway.cancel_intent(
                    intent.id, idempotency_key=idempotency_key(payment.order_id, "cancel")
                )
            moved = self.ledger.advance(
                payment.order_id, PaymentStatus.CANCELLED, cause=ORDER_ENDED
            )
            logger.info("payment intent cancelled", extra={"order_id": payment.order_id})
            return (
                (PaymentCancelled(moved, intent.id),)
                if moved.status is PaymentStatus.CANCELLED
                else ()
            )
        if intent.status == "succeeded":
            refund = self._refund_once(payment)
            moved = self.ledger.advance(
                payment.order_id, PaymentStatus.REFUNDED, cause=ORDER_ENDED, refund_id=refund.id
            )
            logger.info(
                "payment refunded", extra={"order_id": payment.order_id, "refund_id": refund.id}
            )
            return (PaymentRefunded(moved, refund.amount, intent.id, refund.id),)
        return ()

    def _refund_once(self, payment: Payment) -> Refund:
        intent_id = str(payment.intent_id)
        # A refund made before (by an earlier delivery, or by hand) is the refund: never a second.
        existing = self.gateway.refunds_of(intent_id)
        if existing:
            return existing[0]
        return self.gateway.refund(
            intent_id, idempotency_key=idempotency_key(payment.order_id, "refund")
        )


# ---- ingress -----------------------------------------------------------------------------------


class Translation:
    """Stripe events into facts: deduplicated, checked, monotonic."""

    def __init__(
        self,
        ledger: PaymentLedger,
        payments: Payments,
        *,
        livemode: bool = False,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.ledger = ledger
        self.payments = payments
        self.livemode = livemode
        self.clock = clock

    def ingest(
        self, event: Mapping[str, Any], announce: Callable[[list[Fact]], None]
    ) -> list[Fact]:
        """The facts a Stripe event gives, announced, the first time it is ingested; none after.
        The event is remembered only once its facts are announced: if announcing fails, the next
        delivery translates it again (the facts' event ids are the same)."""
        event_id, event_type = _text(event, "id"), _text(event, "type")
        if event_type not in INGESTED_TYPES:
            logger.info("stripe event ignored", extra={"stripe_event_type": event_type})
            return []
        if self.ledger.seen(event_id):
            logger.info("stripe event already ingested", extra={"stripe_event_id": event_id})
            return []
        facts = self._translate(event_id, event_type, event)
        announce(facts)
        self.ledger.remember(event_id, expires_at=self.clock() // 1000 + DEDUPLICATION_SECONDS)
        return facts

    def _translate(self, event_id: str, event_type: str, event: Mapping[str, Any]) -> list[Fact]:
        obj = _object(event)
        intent_id = (
            _text(obj, "payment_intent") if obj.get("object") == "charge" else _text(obj, "id")
        )
        metadata = obj.get("metadata") or {}
        order_id = metadata.get("order_id") if isinstance(metadata, Mapping) else None
        if not isinstance(order_id, str) or not order_id:
            logger.info(
                "stripe event of an intent not made by this service", extra={"intent_id": intent_id}
            )
            return []
        payment = self.ledger.payment(order_id)
        if payment is None or payment.intent_id is None or payment.amount is None:
            raise UnknownIntent(f"order {order_id} has no intent recorded (event {event_id})")
        if payment.intent_id != intent_id:
            raise PaymentMismatch(
                f"order {order_id}'s intent is {payment.intent_id}, the event's {intent_id}"
            )
        self._check(event, obj, payment.amount)
        amount = payment.amount
        if event_type == "payment_intent.succeeded":
            moved = self.ledger.advance(order_id, PaymentStatus.SUCCEEDED, cause=event_id)
            if not _moved(moved, PaymentStatus.SUCCEEDED, event_id):
                return []
            facts: list[Fact] = [PaymentSucceeded(moved, amount, intent_id)]
            if moved.order_ended:
                # Paid for an order that had ended meanwhile: the customer gets the money back.
                facts.extend(self.payments.settle(moved))
            return facts
        if event_type == "payment_intent.payment_failed":
            if not payment.status.moves_to(PaymentStatus.FAILED):
                return []
            moved = self.ledger.advance(order_id, PaymentStatus.FAILED, cause=event_id)
            return [PaymentFailed(moved, amount, intent_id, _decline(obj), event_id)]
        if event_type == "payment_intent.canceled":
            moved = self.ledger.advance(order_id, PaymentStatus.CANCELLED, cause=event_id)
            if not _moved(moved, PaymentStatus.CANCELLED, event_id):
                return []
            return [PaymentCancelled(moved, intent_id)]
        # charge.refunded: a partial refund is not the order's refund; the whole amount is.
        if obj.get("amount_refunded") != obj.get("amount"):
            return []
        refund_id = payment.refund_id or next(
            (refund.id for refund in self.payments.gateway.refunds_of(intent_id)), None
        )
        if refund_id is None:
            raise UnknownIntent(f"intent {intent_id} was refunded but Stripe lists no refund")
        moved = self.ledger.advance(
            order_id, PaymentStatus.REFUNDED, cause=event_id, refund_id=refund_id
        )
        if not _moved(moved, PaymentStatus.REFUNDED, event_id):
            return []
        return [PaymentRefunded(moved, amount, intent_id, moved.refund_id or refund_id)]

    def _check(self, event: Mapping[str, Any], obj: Mapping[str, Any], expected: Money) -> None:
        if event.get("livemode") is not self.livemode or obj.get("livemode") is not self.livemode:
            raise PaymentMismatch(
                f"a livemode={event.get('livemode')} event for a livemode={self.livemode} service"
            )
        amount, currency = obj.get("amount"), obj.get("currency")
        if not isinstance(amount, int) or not isinstance(currency, str):
            raise UnreadableStripeEvent("the event's object has no amount and currency")
        if Money.of(amount, currency) != expected:
            raise PaymentMismatch(
                f"the event says {amount} {currency}, the intent was made for "
                f"{expected.amount} {expected.currency}"
            )


def _moved(payment: Payment, status: PaymentStatus, event_id: str) -> bool:
    """Whether this Stripe event is what put the payment at `status` (now, or on an earlier
    delivery whose announcement failed): only then is the fact its to announce. A cancellation
    or refund this service made was announced when it was made."""
    return payment.status is status and payment.moved_by == event_id


def _object(event: Mapping[str, Any]) -> Mapping[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(obj, Mapping):
        raise UnreadableStripeEvent("the event has no data.object")
    return obj


def _text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise UnreadableStripeEvent(f"the event has no {key}")
    return value


def _decline(intent: Mapping[str, Any]) -> Decline:
    error = intent.get("last_payment_error")
    if not isinstance(error, Mapping):
        return Decline(None, None)
    code = error.get("decline_code") or error.get("code")
    message = error.get("message")
    return Decline(
        code if isinstance(code, str) else None, message if isinstance(message, str) else None
    )
