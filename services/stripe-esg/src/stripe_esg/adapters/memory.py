"""In-memory adapters for tests: the ledger under the same contract suite as the DynamoDB one,
and a gateway that behaves as Stripe does for the calls this service makes."""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from stripe_esg.domain import CANCELABLE, Intent, Money, Payment, PaymentStatus, Refund


class InMemoryPaymentLedger:
    def __init__(self) -> None:
        self.payments: dict[str, Payment] = {}
        self.ingested: dict[str, int] = {}

    def payment(self, order_id: str) -> Payment | None:
        return self.payments.get(order_id)

    def record_intent(self, order_id: str, intent_id: str, amount: Money) -> Payment:
        kept = self.payments.get(order_id)
        if kept is not None and kept.intent_id is not None:
            return kept
        ended = kept.order_ended if kept else False
        self.payments[order_id] = Payment(order_id, intent_id, amount, order_ended=ended)
        return self.payments[order_id]

    def end_order(self, order_id: str) -> Payment:
        kept = self.payments.get(order_id) or Payment(order_id, None, None)
        self.payments[order_id] = dataclasses.replace(kept, order_ended=True)
        return self.payments[order_id]

    def advance(
        self, order_id: str, status: PaymentStatus, *, cause: str, refund_id: str | None = None
    ) -> Payment:
        kept = self.payments.get(order_id)
        if kept is None or kept.intent_id is None:
            raise LookupError(f"order {order_id} has no intent")
        if kept.status.moves_to(status):
            kept = dataclasses.replace(
                kept, status=status, refund_id=refund_id or kept.refund_id, moved_by=cause
            )
            self.payments[order_id] = kept
        return kept

    def seen(self, stripe_event_id: str) -> bool:
        return stripe_event_id in self.ingested

    def remember(self, stripe_event_id: str, *, expires_at: int) -> None:
        self.ingested.setdefault(stripe_event_id, expires_at)


class InMemoryGateway:
    """Stripe's answers to this service's calls, with Idempotency-Key honoured as Stripe does;
    `pay(intent_id)` stands for the customer confirming with a card that succeeds."""

    def __init__(self) -> None:
        self.intents: dict[str, Intent] = {}
        self.refunds: dict[str, Refund] = {}
        self.events: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self._replies: dict[str, Any] = {}
        self._ids = itertools.count(1)

    def _once(self, key: str, make: Any) -> Any:
        if key not in self._replies:
            self._replies[key] = make()
        return self._replies[key]

    def create_intent(self, order_id: str, amount: Money, *, idempotency_key: str) -> Intent:
        self.calls.append(("create_intent", idempotency_key))

        def create() -> Intent:
            number = next(self._ids)
            intent = Intent(
                f"pi_{number}",
                amount,
                "requires_payment_method",
                f"pi_{number}_secret_x",
                False,
                order_id,
            )
            self.intents[intent.id] = intent
            return intent

        intent: Intent = self._once(idempotency_key, create)
        return intent

    def retrieve_intent(self, intent_id: str) -> Intent:
        return self.intents[intent_id]

    def pay(self, intent_id: str) -> Intent:
        self.intents[intent_id] = dataclasses.replace(self.intents[intent_id], status="succeeded")
        return self.intents[intent_id]

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        self.calls.append(("cancel_intent", idempotency_key))

        def cancel() -> Intent:
            if self.intents[intent_id].status not in CANCELABLE:
                raise ValueError(f"{intent_id} cannot be cancelled")
            self.intents[intent_id] = dataclasses.replace(
                self.intents[intent_id], status="canceled"
            )
            return self.intents[intent_id]

        intent: Intent = self._once(idempotency_key, cancel)
        return intent

    def refund(self, intent_id: str, *, idempotency_key: str) -> Refund:
        self.calls.append(("refund", idempotency_key))

        def refund() -> Refund:
            if self.intents[intent_id].status != "succeeded" or self.refunds_of(intent_id):
                raise ValueError(f"{intent_id} has nothing left to refund")
            made = Refund(f"re_{next(self._ids)}", intent_id, self.intents[intent_id].amount)
            self.refunds[made.id] = made
            return made

        made: Refund = self._once(idempotency_key, refund)
        return made

    def refunds_of(self, intent_id: str) -> list[Refund]:
        return [refund for refund in self.refunds.values() if refund.intent_id == intent_id]

    def events_since(
        self, created_after: int, types: frozenset[str]
    ) -> Iterator[Mapping[str, Any]]:
        for event in self.events:
            if event["created"] > created_after and event["type"] in types:
                yield copy.deepcopy(event)
