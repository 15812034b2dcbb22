"""The one Stripe adapter against the local cloud's fake Stripe, through the official SDK: the
same idempotency key on every attempt, network retries that ride out a brief outage, Stripe's
failures mapped to the domain's, and the calls a browser makes with the publishable key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from localcloud.stripe import FakeStripe
from stripe_esg.adapters.memory import InMemoryPaymentLedger
from stripe_esg.adapters.stripe_client import StripeClient
from stripe_esg.domain import Money, StripeRejected, StripeUnavailable, idempotency_key
from stripe_esg.model import IntentOpened, Payments
from stripe_esg.stripe_types import INGESTED_TYPES

# The fake Stripe is served and called over loopback HTTP: not a unit test.
pytestmark = pytest.mark.integration

TOTAL = Money(2598, "EUR")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as running:
        yield running


@pytest.fixture
def client(fake: FakeStripe) -> StripeClient:
    return StripeClient(lambda: fake.api_key, api_base=fake.url)


def browser_params(client_secret: str, payment_method: str) -> Any:
    # The SDK's parameter types are the server's: a browser's client_secret is not among them.
    return {"client_secret": client_secret, "payment_method": payment_method}


def browser(fake: FakeStripe) -> stripe.StripeClient:
    """Stripe.js, as far as the shop's storefront uses it: the publishable key only."""
    return stripe.StripeClient(fake.publishable_key, base_addresses={"api": fake.url})


def test_500_500_200_creates_one_intent_and_every_attempt_carries_the_same_key(
    fake: FakeStripe, client: StripeClient
) -> None:
    # Given Stripe failing the next two requests
    fake.fail_next(2, status=500)
    before = len(fake.requests)
    intents_before = len(fake._account.payment_intents)

    # When the service opens an order's payment
    intent = client.create_intent(
        "order-500", TOTAL, idempotency_key=idempotency_key("order-500", "payment-intent")
    )

    # Then the SDK retried until Stripe answered, with one key, and one intent exists
    attempts = fake.requests[before:]
    assert [attempt.status for attempt in attempts] == [500, 500, 200]
    assert {attempt.idempotency_key for attempt in attempts} == {
        "order:order-500:payment-intent:v1"
    }
    assert len(fake._account.payment_intents) == intents_before + 1
    assert (intent.amount, intent.order_id, intent.status) == (
        TOTAL,
        "order-500",
        "requires_payment_method",
    )


def test_an_order_placed_redelivered_a_day_later_makes_no_second_intent(
    fake: FakeStripe, client: StripeClient
) -> None:
    # Given an intent made, and Stripe having pruned its idempotency keys since (after 24 hours)
    payments = Payments(InMemoryPaymentLedger(), client)
    [first] = payments.open("order-late", TOTAL)
    fake._account._kept.clear()
    created = len(
        [r for r in fake.requests if r.method == "POST" and r.path == "/v1/payment_intents"]
    )

    # When the event comes again
    [again] = payments.open("order-late", TOTAL)

    # Then the kept intent is found, and Stripe is asked to create nothing
    assert isinstance(first, IntentOpened)
    assert isinstance(again, IntentOpened)
    assert again.intent_id == first.intent_id
    assert again.client_secret == first.client_secret
    assert (
        len([r for r in fake.requests if r.method == "POST" and r.path == "/v1/payment_intents"])
        == created
    )


def test_the_intent_is_card_only_and_names_its_order(
    fake: FakeStripe, client: StripeClient
) -> None:
    intent = client.create_intent("order-card", TOTAL, idempotency_key="k-card")

    kept = fake._account.payment_intents[intent.id]
    assert kept["automatic_payment_methods"] == {"allow_redirects": "never", "enabled": True}
    assert kept["metadata"] == {"order_id": "order-card"}
    assert (kept["amount"], kept["currency"]) == (2598, "eur")


def test_a_browser_confirms_with_the_publishable_key_and_the_client_secret(
    fake: FakeStripe, client: StripeClient
) -> None:
    paid = client.create_intent("order-pay", TOTAL, idempotency_key="k-pay")
    declined = client.create_intent("order-decline", TOTAL, idempotency_key="k-decline")
    js = browser(fake)

    confirmed = js.v1.payment_intents.confirm(
        paid.id,
        browser_params(str(paid.client_secret), "pm_card_visa"),
    )
    with pytest.raises(stripe.CardError) as decline:
        js.v1.payment_intents.confirm(
            declined.id,
            browser_params(str(declined.client_secret), "pm_card_chargeDeclined"),
        )

    assert confirmed.status == "succeeded"
    assert client.retrieve_intent(paid.id).status == "succeeded"
    assert decline.value.code == "card_declined"
    assert (
        js.v1.payment_intents.retrieve(
            declined.id, {"client_secret": str(declined.client_secret)}
        ).status
        == "requires_payment_method"
    )


def test_the_publishable_key_is_refused_for_everything_else(
    fake: FakeStripe, client: StripeClient
) -> None:
    intent = client.create_intent("order-pk", TOTAL, idempotency_key="k-pk")
    js = browser(fake)

    with pytest.raises(stripe.PermissionError):
        js.v1.payment_intents.create({"amount": 100, "currency": "eur"})
    with pytest.raises(stripe.PermissionError):
        js.v1.refunds.list()
    with pytest.raises(stripe.InvalidRequestError, match="client_secret"):
        js.v1.payment_intents.retrieve(intent.id)
    with pytest.raises(stripe.InvalidRequestError, match="client_secret"):
        js.v1.payment_intents.confirm(
            intent.id, browser_params("pi_other_secret_x", "pm_card_visa")
        )


def test_cancel_refund_and_the_events_since_go_through_the_sdk(
    fake: FakeStripe, client: StripeClient
) -> None:
    unpaid = client.create_intent("order-x1", TOTAL, idempotency_key="k-x1")
    paid = client.create_intent("order-x2", TOTAL, idempotency_key="k-x2")
    browser(fake).v1.payment_intents.confirm(
        paid.id,
        browser_params(str(paid.client_secret), "pm_card_visa"),
    )

    cancelled = client.cancel_intent(unpaid.id, idempotency_key="k-x1-cancel")
    refund = client.refund(paid.id, idempotency_key="k-x2-refund")
    again = client.refund(paid.id, idempotency_key="k-x2-refund")
    events = list(client.events_since(0, INGESTED_TYPES))

    assert cancelled.status == "canceled"
    assert again == refund, "the same key is the same refund"
    assert client.refunds_of(paid.id) == [refund]
    assert (refund.amount, refund.intent_id) == (TOTAL, paid.id)
    kinds = {
        (e["type"], e["data"]["object"].get("payment_intent") or e["data"]["object"]["id"])
        for e in events
    }
    assert {
        ("payment_intent.canceled", unpaid.id),
        ("payment_intent.succeeded", paid.id),
        ("charge.refunded", paid.id),
    } <= kinds
    assert all(isinstance(e["data"]["object"], dict) for e in events), (
        "plain JSON, as a webhook body"
    )


def test_stripe_refusing_the_call_is_permanent_and_unavailable_is_transient(
    fake: FakeStripe,
) -> None:
    wrong_key = StripeClient(lambda: "sk_test_revoked_000000000000", api_base=fake.url)
    client = StripeClient(lambda: fake.api_key, api_base=fake.url, max_network_retries=1)

    with pytest.raises(StripeRejected, match="401"):
        wrong_key.create_intent("order-y", TOTAL, idempotency_key="k-y")
    with pytest.raises(StripeRejected, match="404 resource_missing"):
        client.retrieve_intent("pi_missing")
    fake.fail_next(1, status=429)
    with pytest.raises(StripeUnavailable, match="RateLimitError"):
        client.create_intent("order-y", TOTAL, idempotency_key="k-y")
    fake.fail_next(2, status=503)
    with pytest.raises(StripeUnavailable, match="503"):
        client.create_intent("order-y", TOTAL, idempotency_key="k-y")
