"""The model with in-memory adapters and Stripe's own event bodies: one intent per order however
often and however late the order comes, cancelled or refunded once when the order ends, and
Stripe events ingested once, checked, and never moving a payment backwards."""

from __future__ import annotations

from typing import Any

import pytest
from stripe_esg.adapters.memory import InMemoryGateway, InMemoryPaymentLedger
from stripe_esg.domain import (
    Money,
    PaymentMismatch,
    PaymentStatus,
    UnknownIntent,
    UnreadableStripeEvent,
)
from stripe_esg.model import (
    Fact,
    IntentOpened,
    PaymentCancelled,
    PaymentFailed,
    PaymentRefunded,
    Payments,
    PaymentSucceeded,
    Translation,
)

from tests.conftest import stripe_event

TOTAL = Money(2598, "EUR")  # the fixtures' amount


class Shop:
    """The model's two halves over one ledger and one Stripe, as the functions share them."""

    def __init__(self) -> None:
        self.ledger = InMemoryPaymentLedger()
        self.stripe = InMemoryGateway()
        self.payments = Payments(self.ledger, self.stripe)
        self.translation = Translation(self.ledger, self.payments, clock=lambda: 1_796_040_000_000)
        self.announced: list[Fact] = []

    def ingest(self, event: dict[str, Any]) -> list[Fact]:
        return self.translation.ingest(event, self.announced.extend)

    def opened(self, order_id: str = "order-1") -> IntentOpened:
        [opened] = self.payments.open(order_id, TOTAL)
        assert isinstance(opened, IntentOpened)
        return opened


@pytest.fixture
def shop() -> Shop:
    return Shop()


def test_an_order_placed_opens_one_intent_with_a_namespaced_idempotency_key(shop: Shop) -> None:
    opened = shop.opened()

    assert (opened.amount, opened.client_secret) == (TOTAL, f"{opened.intent_id}_secret_x")
    assert shop.stripe.calls == [("create_intent", "order:order-1:payment-intent:v1")]
    assert shop.ledger.payment("order-1") is not None


def test_a_redelivery_a_day_later_finds_the_intent_and_creates_none(shop: Shop) -> None:
    # Given an intent made, and Stripe having forgotten its idempotency keys since
    first = shop.opened()
    shop.stripe._replies.clear()

    # When the order-placed event comes again
    again = shop.opened()

    # Then the kept intent is announced again and Stripe is asked for nothing new
    assert again.intent_id == first.intent_id
    assert [call for call, _ in shop.stripe.calls] == ["create_intent"]
    assert len(shop.stripe.intents) == 1


def test_an_order_that_ended_before_its_payment_opened_gets_no_intent(shop: Shop) -> None:
    assert shop.payments.end("order-1") == []
    assert shop.payments.open("order-1", TOTAL) == []
    assert shop.stripe.intents == {}


def test_an_order_ending_unpaid_cancels_its_intent_once(shop: Shop) -> None:
    opened = shop.opened()

    [cancelled] = shop.payments.end("order-1")
    again = shop.payments.end("order-1")

    assert isinstance(cancelled, PaymentCancelled)
    assert cancelled.intent_id == opened.intent_id
    assert [type(fact) for fact in again] == [PaymentCancelled], "told again, under the same id"
    assert [call for call, _ in shop.stripe.calls].count("cancel_intent") == 1
    assert shop.stripe.intents[opened.intent_id].status == "canceled"


def test_an_order_ending_paid_is_refunded_once_however_often_it_ends(shop: Shop) -> None:
    opened = shop.opened()
    shop.stripe.pay(opened.intent_id)
    shop.ingest(stripe_event("payment_intent.succeeded", "order-1", opened.intent_id))

    [refunded] = shop.payments.end("order-1")
    [again] = shop.payments.end("order-1")

    assert isinstance(refunded, PaymentRefunded)
    assert again == refunded
    assert len(shop.stripe.refunds) == 1
    assert shop.ledger.payment("order-1").status is PaymentStatus.REFUNDED  # type: ignore[union-attr]


def test_the_same_stripe_event_delivered_three_times_is_one_fact(shop: Shop) -> None:
    opened = shop.opened()
    event = stripe_event("payment_intent.succeeded", "order-1", opened.intent_id)

    outcomes = [shop.ingest(event) for _ in range(3)]

    assert [len(facts) for facts in outcomes] == [1, 0, 0]
    [succeeded] = shop.announced
    assert isinstance(succeeded, PaymentSucceeded)
    assert succeeded.amount == TOTAL


def test_a_decline_names_its_code_and_each_declined_attempt_is_news(shop: Shop) -> None:
    opened = shop.opened()

    [first] = shop.ingest(
        stripe_event("payment_intent.payment_failed", "order-1", opened.intent_id)
    )
    [second] = shop.ingest(
        stripe_event(
            "payment_intent.payment_failed", "order-1", opened.intent_id, event_id="evt_2nd"
        )
    )

    assert isinstance(first, PaymentFailed)
    assert (first.decline.code, first.decline.message) == (
        "generic_decline",
        "Your card was declined.",
    )
    assert isinstance(second, PaymentFailed)
    assert second.stripe_event_id != first.stripe_event_id


def test_out_of_order_events_never_move_a_payment_backwards(shop: Shop) -> None:
    # Given a payment that succeeded
    opened = shop.opened()
    shop.ingest(stripe_event("payment_intent.succeeded", "order-1", opened.intent_id))

    # When the decline of an earlier attempt and a cancellation arrive late
    late = [
        shop.ingest(stripe_event(name, "order-1", opened.intent_id))
        for name in ("payment_intent.payment_failed", "payment_intent.canceled")
    ]

    # Then they change nothing and say nothing
    assert late == [[], []]
    assert shop.ledger.payment("order-1").status is PaymentStatus.SUCCEEDED  # type: ignore[union-attr]


def test_a_payment_that_succeeds_for_an_order_already_ended_is_refunded(shop: Shop) -> None:
    # Given an order that ended while its customer was paying (the cancel came too late)
    opened = shop.opened()
    shop.ledger.end_order("order-1")
    shop.stripe.pay(opened.intent_id)

    # When Stripe says the payment succeeded
    facts = shop.ingest(stripe_event("payment_intent.succeeded", "order-1", opened.intent_id))

    # Then it is announced, and refunded at once
    assert [type(fact) for fact in facts] == [PaymentSucceeded, PaymentRefunded]
    assert len(shop.stripe.refunds) == 1


def test_a_refund_stripe_reports_becomes_payment_refunded_with_its_refund_id(shop: Shop) -> None:
    opened = shop.opened()
    shop.stripe.pay(opened.intent_id)
    shop.ingest(stripe_event("payment_intent.succeeded", "order-1", opened.intent_id))
    refund = shop.stripe.refund(opened.intent_id, idempotency_key="made-by-hand")

    [refunded] = shop.ingest(stripe_event("charge.refunded", "order-1", opened.intent_id))

    assert isinstance(refunded, PaymentRefunded)
    assert refunded.refund_id == refund.id


def test_a_cancellation_stripe_reports_becomes_payment_cancelled(shop: Shop) -> None:
    opened = shop.opened()

    [cancelled] = shop.ingest(stripe_event("payment_intent.canceled", "order-1", opened.intent_id))

    assert cancelled == PaymentCancelled(shop.ledger.payment("order-1"), opened.intent_id)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"livemode": True}, PaymentMismatch),
        (
            {
                "data": {
                    "object": {
                        "object": "payment_intent",
                        "id": "pi_1",
                        "metadata": {"order_id": "order-1"},
                        "livemode": False,
                        "amount": 1,
                        "currency": "eur",
                    }
                }
            },
            PaymentMismatch,
        ),
        (
            {
                "data": {
                    "object": {
                        "object": "payment_intent",
                        "id": "pi_1",
                        "metadata": {"order_id": "order-1"},
                        "livemode": False,
                        "amount": 2598,
                        "currency": "usd",
                    }
                }
            },
            PaymentMismatch,
        ),
        (
            {
                "data": {
                    "object": {
                        "object": "payment_intent",
                        "id": "pi_other",
                        "metadata": {"order_id": "order-1"},
                    }
                }
            },
            PaymentMismatch,
        ),
        ({"data": None}, UnreadableStripeEvent),
        (
            {
                "data": {
                    "object": {
                        "object": "payment_intent",
                        "id": "pi_1",
                        "metadata": {"order_id": "order-1"},
                        "livemode": False,
                    }
                }
            },
            UnreadableStripeEvent,
        ),
    ],
    ids=["livemode", "amount", "currency", "another intent", "no object", "no amount"],
)
def test_an_event_that_disagrees_with_our_intent_is_refused(
    shop: Shop, change: dict[str, Any], error: type[Exception]
) -> None:
    shop.opened()  # pi_1, 2598 EUR

    with pytest.raises(error):
        shop.ingest(stripe_event("payment_intent.succeeded", "order-1", "pi_1", **change))
    assert shop.announced == []
    assert shop.ledger.ingested == {}, "a refused event is not remembered: it is parked"


def test_an_event_for_an_order_not_yet_recorded_is_retried_later(shop: Shop) -> None:
    with pytest.raises(UnknownIntent):
        shop.ingest(stripe_event("payment_intent.succeeded", "order-unknown", "pi_9"))


def test_events_of_other_types_or_of_intents_not_ours_are_ignored(shop: Shop) -> None:
    assert shop.ingest(stripe_event("customer.created", "order-1", "pi_1")) == []
    foreign = stripe_event("payment_intent.succeeded", "order-1", "pi_1")
    foreign["data"]["object"]["metadata"] = {}
    assert shop.ingest(foreign) == []


def test_an_event_is_remembered_only_once_its_facts_are_announced(shop: Shop) -> None:
    opened = shop.opened()
    event = stripe_event("payment_intent.succeeded", "order-1", opened.intent_id)

    def fail(facts: list[Fact]) -> None:
        raise ConnectionError("bus unreachable")

    with pytest.raises(ConnectionError):
        shop.translation.ingest(event, fail)
    [again] = shop.ingest(event)

    assert isinstance(again, PaymentSucceeded), "the redelivery announces what the first could not"


@pytest.mark.parametrize(
    ("status", "later", "moves"),
    [
        (PaymentStatus.CREATED, PaymentStatus.FAILED, True),
        (PaymentStatus.FAILED, PaymentStatus.FAILED, True),
        (PaymentStatus.FAILED, PaymentStatus.SUCCEEDED, True),
        (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, False),
        (PaymentStatus.SUCCEEDED, PaymentStatus.SUCCEEDED, False),
        (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELLED, False),
        (PaymentStatus.CANCELLED, PaymentStatus.SUCCEEDED, False),
        (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, True),
        (PaymentStatus.REFUNDED, PaymentStatus.SUCCEEDED, False),
    ],
)
def test_the_status_only_moves_forward(
    status: PaymentStatus, later: PaymentStatus, moves: bool
) -> None:
    assert status.moves_to(later) is moves


@pytest.mark.parametrize(("amount", "currency"), [(-1, "EUR"), (1, "eur"), (1, "EURO")])
def test_money_is_checked_where_it_is_made(amount: int, currency: str) -> None:
    with pytest.raises(ValueError, match=r"never negative|three upper-case"):
        Money(amount, currency)


def test_stripe_confirming_a_cancellation_or_refund_this_service_made_announces_nothing_twice(
    shop: Shop,
) -> None:
    # Given one order cancelled unpaid and one refunded, each announced by the listener's model
    unpaid = shop.opened("order-1")
    paid = shop.opened("order-2")
    shop.stripe.pay(paid.intent_id)
    shop.ingest(stripe_event("payment_intent.succeeded", "order-2", paid.intent_id))
    settled = shop.payments.end("order-1") + shop.payments.end("order-2")

    # When Stripe's webhooks for those very changes come in
    echoes = shop.ingest(
        stripe_event("payment_intent.canceled", "order-1", unpaid.intent_id)
    ) + shop.ingest(stripe_event("charge.refunded", "order-2", paid.intent_id))

    # Then nothing is announced a second time
    assert [type(fact) for fact in settled] == [PaymentCancelled, PaymentRefunded]
    assert echoes == []
