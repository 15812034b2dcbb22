"""Each function's engine as its composition root builds it, with in-memory ports: the listener
on the stream, the worker on the ingress queue, the partner adapter on EventBridge and the
reconciliation, each announcing on the bus, parking what can never succeed once and leaving
what may succeed later to its source's retries."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from shop_envelope import deterministic_id
from shop_sealing import InMemorySealer, Unsealable
from shop_testkit import FakePublisher, eventbridge_event, kinesis_event, sqs_event
from stripe_esg import bootstrap
from stripe_esg.adapters.memory import InMemoryGateway, InMemoryPaymentLedger
from stripe_esg.domain import StripeRejected, StripeUnavailable
from stripe_esg.events import PaymentIntentCreated
from stripe_esg.settings import ListenerSettings, PartnerSettings, ReconcileSettings, WorkerSettings

from tests.conftest import SettingsFor, stripe_body, stripe_event


def envelope(event_type: str, order: dict[str, Any], source: str) -> str:
    return json.dumps(
        {
            "id": deterministic_id(event_type, order["id"]),
            "type": event_type,
            "timestamp": time.time_ns() // 1_000_000,
            "partitionKey": order["id"],
            "tags": {"source": source, "stage": "test"},
            "order": order,
        }
    )


def placed(order_id: str, amount: int = 2598) -> str:
    order = {
        "id": order_id,
        "customerId": "customer-1",
        "lines": [
            {
                "sku": "MUG",
                "name": "Mug",
                "quantity": 2,
                "unitPrice": {"amount": amount // 2, "currency": "EUR"},
            }
        ],
        "total": {"amount": amount, "currency": "EUR"},
        "placedAt": 1_796_032_800_000,
    }
    return envelope("order-placed", order, "order-bff")


def ended(event_type: str, order_id: str) -> str:
    return envelope(
        event_type, {"id": order_id, "reason": "CUSTOMER_REQUEST"}, "fulfillment-control"
    )


class Esg:
    """The five engines over one ledger, one Stripe and one bus, as the deployed functions share
    them."""

    def __init__(self, settings_for: SettingsFor) -> None:
        self.ledger = InMemoryPaymentLedger()
        self.stripe = InMemoryGateway()
        self.bus = FakePublisher()
        self.sealer = InMemorySealer()
        ports: dict[str, Any] = {
            "ledger": self.ledger,
            "gateway": self.stripe,
            "publisher": self.bus,
        }
        self.listener = bootstrap.listener(
            settings_for(ListenerSettings, "listener"), sealer=self.sealer, **ports
        )
        self.worker = bootstrap.worker(settings_for(WorkerSettings, "worker"), **ports)
        self.partner = bootstrap.partner(settings_for(PartnerSettings, "partner"), **ports)
        self.reconcile = bootstrap.reconcile(settings_for(ReconcileSettings, "reconcile"), **ports)

    def types(self) -> list[str]:
        return [event.type for event in self.bus.published if event.type != "fault"]

    def faults(self) -> list[dict[str, Any]]:
        return [json.loads(e.to_json())["fault"] for e in self.bus.published if e.type == "fault"]


@pytest.fixture
def esg(settings_for: SettingsFor) -> Esg:
    return Esg(settings_for)


def test_an_order_placed_announces_its_intent_with_the_client_secret_sealed(esg: Esg) -> None:
    response = esg.listener.process(kinesis_event(placed("order-1")))

    assert response == {"batchItemFailures": []}
    [created] = esg.bus.of_type(PaymentIntentCreated)
    payment = created.payment
    assert (payment.order_id, payment.amount, payment.currency) == ("order-1", 2598, "EUR")
    assert created.id == deterministic_id("payment-intent-created", "order-1")
    assert "_secret_" not in created.to_json(), "the secret never travels in clear"
    secret = esg.sealer.unseal(
        payment.client_secret, field="payment.clientSecret", order_id="order-1"
    )
    assert secret == esg.stripe.intents[payment.intent_id].client_secret
    with pytest.raises(Unsealable):
        esg.sealer.unseal(payment.client_secret, field="payment.clientSecret", order_id="order-2")
    assert created.tags.source == "stripe-esg"
    assert created.raw is None


def test_a_redelivered_order_placed_publishes_the_same_event_and_makes_no_second_intent(
    esg: Esg,
) -> None:
    esg.listener.process(kinesis_event(placed("order-1")))
    esg.listener.process(kinesis_event(placed("order-1")))

    first, second = esg.bus.of_type(PaymentIntentCreated)
    assert first.id == second.id
    assert len(esg.stripe.intents) == 1


def test_an_order_cancelled_before_payment_cancels_and_one_expired_after_payment_refunds(
    esg: Esg,
) -> None:
    esg.listener.process(kinesis_event(placed("order-1"), placed("order-2")))
    [one, two] = [e.payment.intent_id for e in esg.bus.of_type(PaymentIntentCreated)]
    esg.stripe.pay(two)
    esg.worker.process(sqs_event(stripe_body("payment_intent.succeeded", "order-2", two)))

    esg.listener.process(
        kinesis_event(ended("order-cancelled", "order-1"), ended("order-expired", "order-2"))
    )

    assert esg.types() == [
        "payment-intent-created",
        "payment-intent-created",
        "payment-succeeded",
        "payment-cancelled",
        "payment-refunded",
    ]
    assert esg.stripe.intents[one].status == "canceled"
    assert len(esg.stripe.refunds) == 1


def test_the_listener_parks_what_stripe_refuses_and_retries_what_stripe_could_not_answer(
    esg: Esg, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise StripeRejected("create payment intent: HTTP 401 AuthenticationError")

    monkeypatch.setattr(esg.stripe, "create_intent", refuse)
    parked = esg.listener.process(kinesis_event(placed("order-1")))

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise StripeUnavailable("create payment intent: HTTP 503")

    monkeypatch.setattr(esg.stripe, "create_intent", unavailable)
    retried = esg.listener.process(kinesis_event(placed("order-2")))

    assert parked == {"batchItemFailures": []}
    assert [fault["errorType"] for fault in esg.faults()] == ["StripeRejected"]
    assert len(retried["batchItemFailures"]) == 1
    assert esg.types() == []


def test_the_worker_turns_one_event_delivered_three_times_into_one_payment_event(esg: Esg) -> None:
    esg.listener.process(kinesis_event(placed("order-1")))
    [created] = esg.bus.of_type(PaymentIntentCreated)
    body = stripe_body("payment_intent.succeeded", "order-1", created.payment.intent_id)

    responses = [esg.worker.process(sqs_event(body)) for _ in range(3)]

    assert responses == [{"batchItemFailures": []}] * 3
    assert esg.types() == ["payment-intent-created", "payment-succeeded"]


def test_the_worker_parks_a_bad_message_once_and_retries_one_that_may_pass_later(esg: Esg) -> None:
    # Given an intent, and a batch of: an event that disagrees with it, a message that is no
    # Stripe event, an event for an order not recorded yet, and a good one
    esg.listener.process(kinesis_event(placed("order-1")))
    [created] = esg.bus.of_type(PaymentIntentCreated)
    intent_id = created.payment.intent_id
    mismatch = json.dumps(
        stripe_event("payment_intent.succeeded", "order-1", intent_id, livemode=True)
    )
    unknown = stripe_body("payment_intent.succeeded", "order-later", "pi_later")
    good = stripe_body("payment_intent.payment_failed", "order-1", intent_id)
    batch = sqs_event(mismatch, "[1, 2]", unknown, good)

    # When the worker handles it
    response = esg.worker.process(batch)

    # Then the two that can never pass are parked, the one that may pass later is retried, the
    # good one is announced
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][2]["messageId"]}]}
    assert [fault["errorType"] for fault in esg.faults()] == [
        "PaymentMismatch",
        "UnreadableStripeEvent",
    ]
    assert esg.types() == ["payment-intent-created", "payment-failed"]


def test_the_partner_destination_feeds_the_same_inbox_as_the_webhook(esg: Esg) -> None:
    esg.listener.process(kinesis_event(placed("order-1")))
    [created] = esg.bus.of_type(PaymentIntentCreated)
    event = stripe_event("payment_intent.succeeded", "order-1", created.payment.intent_id)
    partner_event = eventbridge_event(
        event,
        source="aws.partner/stripe.com/ed_test_61Qf/stripe-esg",
        detail_type="payment_intent.succeeded",
    )

    esg.partner.process(partner_event)
    esg.worker.process(sqs_event(json.dumps(event)))  # the same event, by the webhook too

    assert esg.types() == ["payment-intent-created", "payment-succeeded"]


def test_the_partner_adapter_parks_an_event_not_from_stripe_and_raises_on_a_transient_failure(
    esg: Esg,
) -> None:
    foreign = eventbridge_event({"id": "evt_1"}, source="aws.partner/someone.else", detail_type="x")
    early = eventbridge_event(
        stripe_event("payment_intent.succeeded", "order-later", "pi_later"),
        source="aws.partner/stripe.com/ed_test/stripe-esg",
        detail_type="payment_intent.succeeded",
    )

    esg.partner.process(foreign)
    with pytest.raises(Exception, match="order-later"):
        esg.partner.process(early)

    assert [fault["errorType"] for fault in esg.faults()] == ["UnreadableStripeEvent"]


def test_reconciliation_ingests_what_never_came_in_and_nothing_twice(esg: Esg) -> None:
    # Given two Stripe events of the last days, one of them delivered by the webhook already
    esg.listener.process(kinesis_event(placed("order-1"), placed("order-2")))
    [one, two] = [e.payment.intent_id for e in esg.bus.of_type(PaymentIntentCreated)]
    now = int(time.time())
    delivered = stripe_event(
        "payment_intent.succeeded", "order-1", one, event_id="evt_delivered", created=now - 60
    )
    missed = stripe_event(
        "payment_intent.payment_failed", "order-2", two, event_id="evt_missed", created=now - 3600
    )
    old = stripe_event(
        "payment_intent.succeeded", "order-2", two, event_id="evt_old", created=now - 4 * 86400
    )
    esg.stripe.events.extend([delivered, missed, old])
    esg.worker.process(sqs_event(json.dumps(delivered)))

    # When reconciliation runs, twice
    first = esg.reconcile.process({"source": "aws.events", "detail-type": "Scheduled Event"})
    second = esg.reconcile.process({"source": "aws.events", "detail-type": "Scheduled Event"})

    # Then only the missed one is announced, once; the one older than the window is not listed
    assert esg.types() == [
        "payment-intent-created",
        "payment-intent-created",
        "payment-succeeded",
        "payment-failed",
    ]
    assert first == {"listed": 2, "published": 1, "parked": 0, "retried_later": 0}
    assert second == {"listed": 2, "published": 0, "parked": 0, "retried_later": 0}


def test_reconciliation_parks_what_can_never_pass_and_leaves_the_rest_to_its_next_run(
    esg: Esg,
) -> None:
    esg.listener.process(kinesis_event(placed("order-1")))
    [created] = esg.bus.of_type(PaymentIntentCreated)
    now = int(time.time())
    esg.stripe.events.extend(
        [
            stripe_event(
                "payment_intent.succeeded",
                "order-1",
                created.payment.intent_id,
                livemode=True,
                created=now,
            ),
            stripe_event("payment_intent.succeeded", "order-later", "pi_later", created=now),
        ]
    )

    report = esg.reconcile.run()

    assert (report.parked, report.retried_later) == (1, 1)
    assert [fault["errorType"] for fault in esg.faults()] == ["PaymentMismatch"]
