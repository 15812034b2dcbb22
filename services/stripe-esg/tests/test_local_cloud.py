"""stripe-esg deployed into the local cloud from its `serverless package` artifacts, beside the
event hub, its secrets in SSM as `make up` puts them, and driven as the shop drives it: order
events on the bus, a customer confirming with the publishable key and the client secret as
Stripe.js does, the fake Stripe sending its signed webhooks to the service's HTTP API."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from event_hub.parked import FaultStore, ParkedFault
from localcloud.cloud import LocalCloud
from localcloud.testing import eventually, put_on_bus
from localcloud.trail import TrailEntry
from shop_envelope import deterministic_id
from shop_sealing import KmsSealer

ROOT = Path(__file__).resolve().parents[3]
WAIT = 30.0


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(
        state_dir=tmp_path_factory.mktemp("localcloud"),
        serverless=ROOT / "make" / "serverless",
        stripe_webhook="stripe-esg:/stripe/webhook",
    ) as local_cloud:
        assert local_cloud.deploy(ROOT / "infra" / "event-hub") is not None, local_cloud.failures
        assert local_cloud.deploy(ROOT / "services" / "stripe-esg") is not None, (
            local_cloud.failures
        )
        local_cloud.write_endpoints()
        yield local_cloud


def envelope(event_type: str, order: dict[str, Any], source: str) -> dict[str, Any]:
    return {
        "id": deterministic_id(event_type, order["id"]),
        "type": event_type,
        "timestamp": time.time_ns() // 1_000_000,
        "partitionKey": order["id"],
        "tags": {"source": source, "stage": "local"},
        "order": order,
    }


def order_placed(order_id: str) -> dict[str, Any]:
    order = {
        "id": order_id,
        "customerId": "customer-1",
        "lines": [
            {
                "sku": "MUG-CLASSIC",
                "name": "Mug",
                "quantity": 2,
                "unitPrice": {"amount": 1299, "currency": "EUR"},
            }
        ],
        "total": {"amount": 2598, "currency": "EUR"},
        "placedAt": time.time_ns() // 1_000_000,
    }
    return envelope("order-placed", order, "order-bff")


def published(cloud: LocalCloud, key: str, detail_type: str) -> list[TrailEntry]:
    return [entry for entry in cloud.trail.for_key(key) if entry.detail_type == detail_type]


def ingested(cloud: LocalCloud, stripe_event_id: str) -> bool:
    """Whether the worker has ingested this Stripe event (its deduplication item is written)."""
    table = next(s for s in cloud.stacks if s.name == "stripe-esg-local").outputs["TableName"]
    key = {"pk": {"S": f"STRIPE_EVENT#{stripe_event_id}"}, "sk": {"S": "INGESTED"}}
    return "Item" in cloud.aws.client("dynamodb").get_item(TableName=table, Key=key)


def client_secret(cloud: LocalCloud, created: TrailEntry) -> str:
    """What order-bff does for the order's owner: unseal the secret with the hub's key."""
    hub = next(stack for stack in cloud.stacks if stack.name == "event-hub-local")
    sealer = KmsSealer(hub.outputs["SealingKeyArn"], client=cloud.aws.client("kms"))
    payment = created.detail["payment"]
    return sealer.unseal(
        payment["clientSecret"], field="payment.clientSecret", order_id=payment["orderId"]
    )


def pay(cloud: LocalCloud, order_id: str, card: str) -> str:
    """The order's intent confirmed as Stripe.js confirms it; the intent's id."""
    put_on_bus(cloud, order_placed(order_id))
    [created] = eventually(
        lambda: published(cloud, order_id, "payment-intent-created"), timeout=WAIT
    )
    endpoints = cloud.endpoints()
    browser = stripe.StripeClient(
        endpoints["stripe_publishable_key"], base_addresses={"api": endpoints["stripe"]}
    )
    intent_id: str = created.detail["payment"]["intentId"]
    params: Any = {"client_secret": client_secret(cloud, created), "payment_method": card}
    # A decline is the customer's to see; the service learns of it from the webhook.
    with contextlib.suppress(stripe.CardError):
        browser.v1.payment_intents.confirm(intent_id, params)
    return intent_id


def test_an_order_placed_is_paid_and_stripes_webhook_yields_payment_succeeded(
    cloud: LocalCloud,
) -> None:
    # Given an order placed on the bus, paid with a card that succeeds
    intent_id = pay(cloud, "order-paid", "pm_card_visa")

    # Then the signed webhook, queued and translated, puts payment-succeeded on the bus, once
    [succeeded] = eventually(
        lambda: published(cloud, "order-paid", "payment-succeeded"), timeout=WAIT
    )
    assert succeeded.source == "stripe-esg"
    assert succeeded.detail["payment"] == {
        "orderId": "order-paid",
        "intentId": intent_id,
        "amount": 2598,
        "currency": "EUR",
    }
    assert "raw" not in succeeded.detail
    # and the intent in the fake Stripe is the one the order got, for its total
    intent = cloud.stripe._account.payment_intents[intent_id]
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (
        2598,
        "eur",
        {"order_id": "order-paid"},
    )
    # and of the intent's events, Stripe sent only those the stack enables on its endpoint
    events_of_intent = {
        event["id"]: event["type"]
        for event in cloud.stripe.events()
        if event["data"]["object"].get("payment_intent", event["data"]["object"]["id"]) == intent_id
    }
    sent = {
        events_of_intent[d.event_id]
        for d in cloud.stripe.deliveries
        if d.event_id in events_of_intent
    }
    assert {"payment_intent.created", "charge.succeeded"} <= set(events_of_intent.values())
    assert sent == {"payment_intent.succeeded"}


def test_a_declined_card_yields_payment_failed_with_its_decline_code(cloud: LocalCloud) -> None:
    pay(cloud, "order-declined", "pm_card_chargeDeclined")

    [failed] = eventually(
        lambda: published(cloud, "order-declined", "payment-failed"), timeout=WAIT
    )
    assert failed.detail["payment"]["declineCode"] == "generic_decline"
    assert failed.detail["payment"]["message"] == "Your card was declined."


def test_an_order_cancelled_after_payment_is_refunded_once(cloud: LocalCloud) -> None:
    # Given a paid order
    intent_id = pay(cloud, "order-refund", "pm_card_visa")
    eventually(lambda: published(cloud, "order-refund", "payment-succeeded"), timeout=WAIT)

    # When fulfillment-control cancels it, and the event is delivered twice
    cancelled = envelope(
        "order-cancelled", {"id": "order-refund", "reason": "OUT_OF_STOCK"}, "fulfillment-control"
    )
    put_on_bus(cloud, cancelled, cancelled)

    # Then one refund is made in Stripe, and payment-refunded is on the bus: one event (each
    # delivery of order-cancelled tells it again, under its one id), nothing more once Stripe's
    # charge.refunded for that refund has come in and been ingested
    eventually(lambda: published(cloud, "order-refund", "payment-refunded"), timeout=WAIT)
    [echo] = [
        event["id"]
        for event in cloud.stripe.events()
        if event["type"] == "charge.refunded"
        and event["data"]["object"]["payment_intent"] == intent_id
    ]
    eventually(lambda: ingested(cloud, echo), timeout=WAIT)
    announced = published(cloud, "order-refund", "payment-refunded")
    assert 1 <= len(announced) <= 2, "once per delivery of order-cancelled, never by the echo"
    [refunded] = list({entry.detail["id"]: entry for entry in announced}.values())
    refunds = [
        r for r in cloud.stripe._account.refunds.values() if r["payment_intent"] == intent_id
    ]
    assert [refund["id"] for refund in refunds] == [refunded.detail["payment"]["refundId"]]
    assert refunded.detail["payment"]["amount"] == 2598


def test_a_forged_webhook_is_refused_and_nothing_is_published(cloud: LocalCloud) -> None:
    url = cloud.endpoints()["http"]["stripe-esg"].rstrip("/") + "/stripe/webhook"
    body = json.dumps({"id": "evt_forged", "type": "payment_intent.succeeded"}).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Stripe-Signature": f"t={int(time.time())},v1=00"}
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    refused.value.close()
    assert refused.value.code == 400


def test_what_the_ingress_queue_gave_up_on_is_parked_as_one_fault(cloud: LocalCloud) -> None:
    # Given a verified Stripe event the worker kept failing on, moved to the dead-letter queue by
    # the ingress queue's redrive (put there directly: five receives take fifteen minutes)
    esg = next(stack for stack in cloud.stacks if stack.name == "stripe-esg-local")
    body = json.dumps({"id": "evt_given_up", "type": "payment_intent.succeeded", "data": {}})
    cloud.aws.client("sqs").send_message(
        QueueUrl=esg.outputs["IngressDeadLetterQueueUrl"], MessageBody=body
    )
    store = FaultStore(cloud.endpoints()["faults"], client=cloud.aws.client("dynamodb"))

    # Then the unprocessed function parks it, as it came, as one fault
    def parked() -> list[ParkedFault]:
        return [f for f in store.all() if "evt_given_up" in json.dumps(f.record)]

    [fault] = eventually(parked, timeout=WAIT)
    assert fault.function == "stripe-esg-local-unprocessed"
    assert fault.event_source == "aws:sqs"
    assert fault.record["body"] == body
