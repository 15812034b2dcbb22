"""The domain events stripe-esg consumes and produces, as they are on the wire.

Consumed events are read tolerantly: each model declares only the fields this service reads.
Produced events are its contract (JSON Schemas under `contracts/`, a test fails on drift). None
carries a Stripe object, nor the envelope's `raw`; the client secret travels sealed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from shop_envelope import DomainEvent, WireModel

# ---- consumed ----------------------------------------------------------------------------------


class Total(WireModel):
    amount: int = Field(gt=0, description="In the currency's minor unit (cents).")
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")


class PlacedOrder(WireModel):
    id: str = Field(min_length=1)
    total: Total


class OrderReference(WireModel):
    id: str = Field(min_length=1)


class OrderPlaced(DomainEvent):
    """From order-bff: a customer placed an order. Open its payment."""

    type: Literal["order-placed"] = "order-placed"
    order: PlacedOrder


class OrderCancelled(DomainEvent):
    """From fulfillment-control: the order will not be fulfilled. Cancel or refund its payment."""

    type: Literal["order-cancelled"] = "order-cancelled"
    order: OrderReference


class OrderExpired(DomainEvent):
    """From fulfillment-control: payment did not come in time. Cancel or refund its payment."""

    type: Literal["order-expired"] = "order-expired"
    order: OrderReference


CONSUMED: tuple[type[DomainEvent], ...] = (OrderPlaced, OrderCancelled, OrderExpired)

# ---- produced ----------------------------------------------------------------------------------

Currency = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")


class PaymentFacts(WireModel):
    order_id: str
    intent_id: str = Field(description="The Stripe PaymentIntent's id: the payment's reference.")


class ChargedPayment(PaymentFacts):
    amount: int = Field(ge=0, description="In the currency's minor unit (cents).")
    currency: str = Currency


class OpenedPayment(ChargedPayment):
    client_secret: str = Field(
        description=(
            "The intent's client secret, SEALED (shop_sealing, field `payment.clientSecret`, "
            "context the order id): only the order's owner may see it, through order-bff."
        )
    )


class FailedPayment(ChargedPayment):
    decline_code: str | None = Field(description="Stripe's decline code, e.g. generic_decline.")
    message: str | None = Field(description="What the customer may be told.")


class RefundedPayment(ChargedPayment):
    refund_id: str


class PaymentIntentCreated(DomainEvent):
    type: Literal["payment-intent-created"] = "payment-intent-created"
    payment: OpenedPayment


class PaymentSucceeded(DomainEvent):
    type: Literal["payment-succeeded"] = "payment-succeeded"
    payment: ChargedPayment


class PaymentFailed(DomainEvent):
    type: Literal["payment-failed"] = "payment-failed"
    payment: FailedPayment


class PaymentRefunded(DomainEvent):
    type: Literal["payment-refunded"] = "payment-refunded"
    payment: RefundedPayment


class PaymentCancelled(DomainEvent):
    type: Literal["payment-cancelled"] = "payment-cancelled"
    payment: PaymentFacts


PRODUCED: tuple[type[DomainEvent], ...] = (
    PaymentIntentCreated,
    PaymentSucceeded,
    PaymentFailed,
    PaymentRefunded,
    PaymentCancelled,
)
