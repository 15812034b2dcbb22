"""Properties of the translation, over Stripe's own bodies delivered in any order, any number of
times: a payment ends where its latest fact puts it, and says each fact at most once, never a
decline after the success it preceded."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from stripe_esg.adapters.memory import InMemoryGateway, InMemoryPaymentLedger
from stripe_esg.domain import Money, PaymentStatus
from stripe_esg.model import (
    Fact,
    IntentOpened,
    PaymentFailed,
    Payments,
    PaymentSucceeded,
    Translation,
)

from tests.conftest import stripe_event

# One story of one intent, as Stripe tells it: a declined attempt, then a success.
STORY = ("payment_intent.payment_failed", "payment_intent.succeeded")


@settings(max_examples=60, deadline=None)
@given(deliveries=st.lists(st.sampled_from(STORY), min_size=1, max_size=8))
def test_any_order_and_any_duplication_of_the_events_gives_each_fact_once_and_never_backwards(
    deliveries: list[str],
) -> None:
    # Given an order's intent
    ledger, stripe = InMemoryPaymentLedger(), InMemoryGateway()
    payments = Payments(ledger, stripe)
    translation = Translation(ledger, payments, clock=lambda: 1_796_040_000_000)
    [opened] = payments.open("order-1", Money(2598, "EUR"))
    assert isinstance(opened, IntentOpened)
    announced: list[Fact] = []

    # When Stripe's events come in that order, duplicated as they are (each type one event id)
    for name in deliveries:
        translation.ingest(stripe_event(name, "order-1", opened.intent_id), announced.extend)

    # Then the payment is where its latest fact puts it, each event said once, no decline after
    # the success
    succeeded = "payment_intent.succeeded" in deliveries
    payment = ledger.payment("order-1")
    assert payment is not None
    assert payment.status is (PaymentStatus.SUCCEEDED if succeeded else PaymentStatus.FAILED)
    kinds = [type(fact) for fact in announced]
    assert kinds.count(PaymentSucceeded) == int(succeeded)
    assert kinds.count(PaymentFailed) <= 1
    if succeeded and PaymentFailed in kinds:
        assert kinds.index(PaymentFailed) < kinds.index(PaymentSucceeded)
