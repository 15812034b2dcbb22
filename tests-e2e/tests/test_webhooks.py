"""Stripe's webhooks as Stripe sends them in the wild: the same event delivered again (Stripe
delivers at least once), and a request that is not Stripe's (a bad signature)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from shop_e2e.client import PAYING_CARD, request
from shop_e2e.journeys import Trip
from shop_e2e.shop import Shop

# The whole shop, started once for the session (conftest.py): the test kit cannot see it there.
pytestmark = pytest.mark.localcloud

# How long an order must stay as it is for "nothing happened" to hold: a webhook reaches the
# order's view in well under a second once the functions are warm.
QUIET_SECONDS = 3.0


def signed(payload: bytes, secret: str, *, at: int | None = None) -> str:
    """The Stripe-Signature header Stripe computes: HMAC-SHA256 of "<t>.<payload>"."""
    timestamp = at or int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def deliver(shop: Shop, payload: bytes, signature: str) -> int:
    return request(
        shop.webhook_url,
        data=payload,
        headers={"content-type": "application/json", "stripe-signature": signature},
    ).status


def stays(check: Callable[[], bool], seconds: float = QUIET_SECONDS) -> bool:
    """`check()` holds at every look for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not check():
            return False
        time.sleep(0.2)
    return True


def stripe_event(shop: Shop, event_type: str, intent_id: str) -> dict[str, Any]:
    """The event Stripe sent for this intent, fetched from Stripe's API with the secret key."""
    answer = request(
        f"{shop.stripe.api_url.rstrip('/')}/v1/events?type={event_type}&limit=100",
        headers={"authorization": f"Bearer {shop.stripe_secret('api-key')}"},
        method="GET",
    )
    assert answer.status == 200, answer.body
    for event in answer.body["data"]:
        if event["data"]["object"]["id"] == intent_id:
            return dict(event)
    raise AssertionError(f"Stripe sent no {event_type} for {intent_id}")


def history(order: dict[str, Any] | None) -> list[str]:
    return [entry["type"] for entry in (order or {}).get("history", [])]


@pytest.fixture(scope="module")
def paid_order(shop: Shop) -> tuple[Trip, dict[str, Any]]:
    trip = Trip(shop.customer("e2e-webhooks"), shop.stripe, "BEANS-ESPRESSO")
    placed = trip.customer.place_order({trip.sku: 1})
    payable = trip.wait_for(placed["id"], "payable", lambda o: bool(o["payment"]))
    trip.stripe.confirm(payable["payment"]["clientSecret"], PAYING_CARD)
    return trip, trip.wait_for(
        placed["id"], "fulfilled", lambda o: o["status"] == "FULFILLMENT_REQUESTED"
    )


def test_a_webhook_delivered_again_changes_nothing(
    shop: Shop, paid_order: tuple[Trip, dict[str, Any]]
) -> None:
    # Given a fulfilled order, and Stripe's payment_intent.succeeded event for it
    trip, order = paid_order
    intent_id = order["payment"]["clientSecret"].partition("_secret_")[0]
    event = stripe_event(shop, "payment_intent.succeeded", intent_id)
    payload = json.dumps(event).encode()

    # When Stripe delivers it twice more, correctly signed
    secret = shop.stripe_secret("webhook-secret")
    statuses = [deliver(shop, payload, signed(payload, secret)) for _ in range(2)]

    # Then both are acknowledged, and the order keeps one payment and one fulfillment
    assert statuses == [200, 200]
    assert stays(lambda: history(trip.customer.order(order["id"])) == history(order))
    assert history(order).count("payment-succeeded") == 1
    assert history(order).count("order-fulfillment-requested") == 1


def test_a_webhook_with_a_bad_signature_is_refused_and_the_order_is_unaffected(
    shop: Shop,
) -> None:
    # Given an order waiting for its payment
    trip = Trip(shop.customer("e2e-forger"), shop.stripe, "BEANS-ESPRESSO")
    placed = trip.customer.place_order({trip.sku: 1})
    payable = trip.wait_for(placed["id"], "payable", lambda o: bool(o["payment"]))
    intent_id = payable["payment"]["clientSecret"].partition("_secret_")[0]

    # When someone posts a payment_intent.succeeded for it, signed with another secret
    forged = {
        "id": "evt_forged",
        "object": "event",
        "type": "payment_intent.succeeded",
        "livemode": False,
        "created": int(time.time()),
        "data": {"object": {"id": intent_id, "object": "payment_intent", "status": "succeeded"}},
    }
    payload = json.dumps(forged).encode()
    status = deliver(shop, payload, signed(payload, "whsec_not_the_shops"))

    # Then it is refused, and the order still waits for its payment
    assert status == 400
    assert stays(
        lambda: (trip.customer.order(placed["id"]) or {}).get("status") == "AWAITING_PAYMENT"
    )
