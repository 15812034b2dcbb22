"""`StripeClient`: the one adapter that speaks Stripe, on the official SDK. Every call carries an
idempotency key of the caller's, the SDK retries network failures, 409s and 5xx with that same
key (`max_network_retries`, with its own backoff), and what is left of a failure becomes one of
the domain's errors:

| Stripe says | the domain hears | so |
| --- | --- | --- |
| 429, 5xx after the retries, no answer | `StripeUnavailable` | transient: the event source retries later, with backoff |
| 401, 403, 400 (invalid request, idempotency error) | `StripeRejected` | permanent: parked, logged as an alarm |
| 402 card error | `StripeRejected` | never expected: this service confirms nothing itself |
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from stripe_esg.domain import Intent, Money, Refund, StripeRejected, StripeUnavailable

if TYPE_CHECKING:
    import stripe

logger = logging.getLogger(__name__)

# Three retries with the SDK's backoff (0.5 s doubling, jittered) ride out a brief outage within
# one invocation; anything longer is the event source's to retry.
MAX_NETWORK_RETRIES = 3


class StripeClient:
    def __init__(
        self,
        api_key: Callable[[], str],
        *,
        api_base: str | None = None,
        max_network_retries: int = MAX_NETWORK_RETRIES,
    ) -> None:
        """`api_key` is read on the first call (from SSM, in a function); `api_base` points the
        SDK elsewhere than api.stripe.com (the local cloud's fake Stripe)."""
        self._api_key = api_key
        self._api_base = api_base
        self._max_network_retries = max_network_retries
        self._client: stripe.StripeClient | None = None

    @property
    def sdk(self) -> stripe.StripeClient:
        # The SDK is imported on the first call, not at cold start: it is the heaviest import
        # of the functions that use it, and the listener's cold start is measured (make bench).
        import stripe

        if self._client is None:
            self._client = stripe.StripeClient(
                self._api_key(),
                base_addresses={"api": self._api_base} if self._api_base else {},
                max_network_retries=self._max_network_retries,
            )
        return self._client

    def create_intent(self, order_id: str, amount: Money, *, idempotency_key: str) -> Intent:
        return _intent(
            self._call(
                "create payment intent",
                lambda: self.sdk.v1.payment_intents.create(
                    {
                        "amount": amount.amount,
                        "currency": amount.currency.lower(),
                        "metadata": {"order_id": order_id},
                        # A card-only checkout: no payment method that needs a redirect.
                        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    },
                    {"idempotency_key": idempotency_key},
                ),
            )
        )

    def retrieve_intent(self, intent_id: str) -> Intent:
        return _intent(
            self._call(
                "retrieve payment intent", lambda: self.sdk.v1.payment_intents.retrieve(intent_id)
            )
        )

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        return _intent(
            self._call(
                "cancel payment intent",
                lambda: self.sdk.v1.payment_intents.cancel(
                    intent_id,
                    {"cancellation_reason": "abandoned"},
                    {"idempotency_key": idempotency_key},
                ),
            )
        )

    def refund(self, intent_id: str, *, idempotency_key: str) -> Refund:
        return _refund(
            self._call(
                "refund payment intent",
                lambda: self.sdk.v1.refunds.create(
                    {"payment_intent": intent_id, "reason": "requested_by_customer"},
                    {"idempotency_key": idempotency_key},
                ),
            )
        )

    def refunds_of(self, intent_id: str) -> list[Refund]:
        page = self._call(
            "list refunds",
            lambda: self.sdk.v1.refunds.list({"payment_intent": intent_id, "limit": 10}),
        )
        return [_refund(refund) for refund in page.data]

    def events_since(
        self, created_after: int, types: frozenset[str]
    ) -> Iterator[Mapping[str, Any]]:
        page = self._call(
            "list events",
            lambda: self.sdk.v1.events.list(
                {"created": {"gt": created_after}, "types": sorted(types), "limit": 100}
            ),
        )
        for event in page.auto_paging_iter():
            # The event as a webhook body carries it: plain JSON, not the SDK's object.
            yield event.to_dict(recursive=True)

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        import stripe

        try:
            return call()
        except (stripe.RateLimitError, stripe.APIConnectionError) as error:
            raise StripeUnavailable(f"{what}: {type(error).__name__}") from error
        except stripe.StripeError as error:
            status = error.http_status or 0
            if status >= 500:
                raise StripeUnavailable(f"{what}: HTTP {status}") from error
            # An alarm: someone must look (a revoked key, a request the code should not make).
            logger.error(
                "stripe rejected the call",
                extra={
                    "call": what,
                    "http_status": status,
                    "stripe_code": error.code,
                    "request_id": error.request_id,
                },
            )
            raise StripeRejected(
                f"{what}: HTTP {status} {error.code or type(error).__name__}"
            ) from error


def _intent(intent: Any) -> Intent:
    metadata = intent.metadata.to_dict() if intent.metadata else {}
    return Intent(
        id=intent.id,
        amount=Money.of(intent.amount, intent.currency),
        status=intent.status,
        client_secret=intent.client_secret,
        livemode=intent.livemode,
        order_id=metadata.get("order_id"),
    )


def _refund(refund: Any) -> Refund:
    return Refund(refund.id, refund.payment_intent, Money.of(refund.amount, refund.currency))
