"""The payment domain in its own words: money, a payment's status and the order in which statuses
may follow one another, what Stripe told us, and the errors the service distinguishes. Pure
Python: nothing here knows boto3, Stripe's SDK or Lambda."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shop_streams import PermanentError


@dataclass(frozen=True)
class Money:
    """An amount in the currency's minor unit (cents); the currency as ISO 4217, upper case."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"an amount is never negative ({self.amount})")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"a currency is three upper-case letters ({self.currency!r})")

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        """Money from any spelling of the currency (Stripe writes `eur`, the shop `EUR`)."""
        return cls(amount, currency.upper())


class PaymentStatus(StrEnum):
    """Where one order's payment stands. It only ever moves forward (`moves_to`)."""

    CREATED = "created"  # the intent exists; the customer has not paid yet
    FAILED = "failed"  # the last attempt was declined; another attempt may still succeed
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    def moves_to(self, later: PaymentStatus) -> bool:
        """Whether `later` may follow this status. Out-of-order webhooks never move a payment
        backwards: a decline that arrives after the success it preceded changes nothing. A second
        decline (a second attempt) is news; a second success is not."""
        if self is later:
            return self is PaymentStatus.FAILED
        return _RANK[later] > _RANK[self]


_RANK = {
    PaymentStatus.CREATED: 0,
    PaymentStatus.FAILED: 1,
    PaymentStatus.SUCCEEDED: 2,
    PaymentStatus.CANCELLED: 2,  # a cancelled intent can never be paid, nor a paid one cancelled
    PaymentStatus.REFUNDED: 3,
}

# Stripe's intent statuses from which the intent can still be cancelled (nothing was charged).
CANCELABLE = frozenset(
    {
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "requires_capture",
        "processing",
    }
)


@dataclass(frozen=True)
class Payment:
    """One order's payment as this service keeps it: the intent it created, for how much, where
    it stands, and whether the order has ended (cancelled or expired) meanwhile."""

    order_id: str
    intent_id: str | None
    amount: Money | None
    status: PaymentStatus = PaymentStatus.CREATED
    order_ended: bool = False
    refund_id: str | None = None
    # What moved it to its status: the Stripe event's id, or ORDER_ENDED (this service's own
    # cancellation or refund). A redelivered event announces what it moved, and nothing else.
    moved_by: str | None = None


ORDER_ENDED = "order-ended"


@dataclass(frozen=True)
class Intent:
    """What this service reads of a Stripe PaymentIntent (never more, never past this service)."""

    id: str
    amount: Money
    status: str  # Stripe's own status: requires_payment_method, succeeded, canceled, ...
    client_secret: str | None
    livemode: bool
    order_id: str | None


@dataclass(frozen=True)
class Refund:
    id: str
    intent_id: str
    amount: Money


@dataclass(frozen=True)
class Decline:
    code: str | None
    message: str | None


def idempotency_key(order_id: str, action: str) -> str:
    """One key per order and action, versioned so that a deliberate change of the request can
    take a fresh key: `order:{id}:payment-intent:v1`."""
    return f"order:{order_id}:{action}:v1"


# ---- errors ------------------------------------------------------------------------------------


class StripeUnavailable(Exception):
    """Stripe did not answer, answered 5xx after the SDK's retries, or rate-limited us (429):
    transient, so the event source tries again later."""


class StripeRejected(PermanentError):
    """Stripe refused the call as made (authentication, permissions, an invalid request): no
    retry can mend it. Parked as a fault, and logged as an alarm."""


class PaymentMismatch(PermanentError):
    """A Stripe event disagrees with the intent this service created (amount, currency or
    livemode): never turned into a payment event, parked for a person."""


class UnreadableStripeEvent(PermanentError):
    """A verified Stripe event (or an answer of Stripe's) without the shape its type promises."""


class UnknownIntent(Exception):
    """A Stripe event names an order whose intent this service has not recorded (yet): transient,
    as its record may be being written; retried, then kept on the dead-letter queue."""
