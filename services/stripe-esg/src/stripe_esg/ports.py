"""The ports the model depends on: where payments and the Stripe events already ingested are
kept (`PaymentLedger`: DynamoDB, and in memory for tests, under one contract suite), Stripe
itself (`PaymentGateway`: the one `StripeClient` adapter on the official SDK). The client secret
is sealed through `shop_sealing.Sealer`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from stripe_esg.domain import Intent, Money, Payment, PaymentStatus, Refund


class PaymentLedger(Protocol):
    def payment(self, order_id: str) -> Payment | None: ...

    def record_intent(self, order_id: str, intent_id: str, amount: Money) -> Payment:
        """Keep the intent created for the order, unless one is kept already (a conditional
        write): the payment as kept afterwards, whichever intent won."""

    def end_order(self, order_id: str) -> Payment:
        """Note that the order ended (cancelled or expired), whether or not it has an intent yet:
        the payment as kept afterwards."""

    def advance(
        self, order_id: str, status: PaymentStatus, *, cause: str, refund_id: str | None = None
    ) -> Payment:
        """Move the payment to `status` if that is forward (`PaymentStatus.moves_to`), as a
        conditional write on the status read, noting `cause` as what moved it; the payment as
        kept afterwards, moved or not. `LookupError` when the order has no intent."""

    def seen(self, stripe_event_id: str) -> bool:
        """Whether this Stripe event was ingested already."""

    def remember(self, stripe_event_id: str, *, expires_at: int) -> None:
        """Note the Stripe event as ingested, until `expires_at` (epoch seconds)."""


class PaymentGateway(Protocol):
    def create_intent(self, order_id: str, amount: Money, *, idempotency_key: str) -> Intent: ...

    def retrieve_intent(self, intent_id: str) -> Intent: ...

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent: ...

    def refund(self, intent_id: str, *, idempotency_key: str) -> Refund: ...

    def refunds_of(self, intent_id: str) -> list[Refund]: ...

    def events_since(
        self, created_after: int, types: frozenset[str]
    ) -> Iterator[Mapping[str, Any]]:
        """Every Stripe event of these types created after `created_after` (epoch seconds), as
        Stripe sends it to a webhook."""
