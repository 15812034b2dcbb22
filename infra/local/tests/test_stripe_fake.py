"""The fake Stripe, driven by the official stripe SDK as application code drives Stripe."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest
import stripe
from localcloud.stripe import FakeStripe, stripe_signature_header
from stripe.params import PaymentIntentConfirmParams, PaymentIntentCreateParams

# Sockets of their own (the fake Stripe API is served and called over loopback HTTP):
# not a unit test, whatever its fixtures.
pytestmark = pytest.mark.integration

API_KEY = "sk_test_localcloud"
SECRET = "whsec_test_secret"
NO_REDIRECTS = {"enabled": True, "allow_redirects": "never"}


def eur_20(**extra: Any) -> PaymentIntentCreateParams:
    return cast(PaymentIntentCreateParams, {"amount": 2000, "currency": "eur", **extra})


@dataclass
class Received:
    body: bytes
    signature: str | None


@dataclass
class Receiver:
    """A webhook endpoint that answers the queued statuses first, then 200."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(Received(body, self.headers.get("Stripe-Signature")))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key=API_KEY, webhook_secret=SECRET) as running:
        yield running


def client_for(fake: FakeStripe, api_key: str = API_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": fake.url}, max_network_retries=0)


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return client_for(fake)


def paid_intent(client: stripe.StripeClient, amount: int = 2000) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        eur_20(
            amount=amount,
            payment_method="pm_card_visa",
            confirm=True,
            automatic_payment_methods=NO_REDIRECTS,
        )
    )


def test_an_intent_confirmed_with_a_succeeding_card_succeeds(client: stripe.StripeClient) -> None:
    # Given an intent created for an order, without a payment method yet
    created = client.v1.payment_intents.create(
        eur_20(metadata={"order_id": "o-1"}, automatic_payment_methods=NO_REDIRECTS)
    )
    assert created.status == "requires_payment_method"
    assert created.id.startswith("pi_")
    assert str(created.client_secret).startswith(f"{created.id}_secret_")

    # When the customer confirms it with a test card that succeeds
    confirmed = client.v1.payment_intents.confirm(
        created.id, {"payment_method": "pm_card_mastercard"}
    )

    # Then it succeeded with a charge for the whole amount, as a later read confirms
    assert confirmed.status == "succeeded"
    assert confirmed.amount_received == 2000
    assert confirmed.latest_charge is not None
    assert str(confirmed.latest_charge).startswith("ch_")
    assert str(confirmed.payment_method).startswith("pm_")
    read = client.v1.payment_intents.retrieve(created.id)
    assert (read.status, read.metadata["order_id"]) == ("succeeded", "o-1")
    charge = client.v1.charges.retrieve(str(confirmed.latest_charge))
    assert (charge.status, charge.amount, charge.payment_intent) == ("succeeded", 2000, created.id)


@pytest.mark.parametrize(
    ("card", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ],
)
def test_a_declined_card_raises_card_error_and_the_intent_awaits_another_method(
    client: stripe.StripeClient, card: str, code: str, decline_code: str
) -> None:
    # Given an intent awaiting payment
    intent = client.v1.payment_intents.create(eur_20(automatic_payment_methods=NO_REDIRECTS))

    # When it is confirmed with a declining test card
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(intent.id, {"payment_method": card})

    # Then the SDK raises a 402 card error with the decline code, and the intent can be retried
    assert declined.value.http_status == 402
    assert declined.value.code == code
    assert declined.value.error is not None
    assert declined.value.error.decline_code == decline_code
    assert str(declined.value.request_id).startswith("req_")
    read = client.v1.payment_intents.retrieve(intent.id)
    assert read.status == "requires_payment_method"
    assert read.last_payment_error is not None
    assert read.last_payment_error.decline_code == decline_code
    retried = client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    assert retried.status == "succeeded"


def test_the_same_idempotency_key_and_parameters_replay_the_first_intent(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    # Given an intent created with an idempotency key
    params = eur_20(metadata={"order_id": "o-2"})
    first = client.v1.payment_intents.create(params, {"idempotency_key": "o-2:create"})

    # When the same request is sent again, as after a timeout
    second = client.v1.payment_intents.create(params, {"idempotency_key": "o-2:create"})

    # Then Stripe answers the first intent again and creates nothing new
    assert second.id == first.id
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    created = [e for e in fake.events() if e["type"] == "payment_intent.created"]
    assert len(created) == 1


def test_reusing_an_idempotency_key_with_other_parameters_is_refused(
    client: stripe.StripeClient,
) -> None:
    # Given an intent created with an idempotency key
    client.v1.payment_intents.create(eur_20(), {"idempotency_key": "o-3:create"})

    # When the key is reused for a different amount
    with pytest.raises(stripe.IdempotencyError) as refused:
        client.v1.payment_intents.create(eur_20(amount=2500), {"idempotency_key": "o-3:create"})

    # Then Stripe refuses it with a 400 idempotency error
    assert refused.value.http_status == 400


def test_a_declined_confirmation_is_replayed_for_its_idempotency_key(
    client: stripe.StripeClient,
) -> None:
    # Given a confirmation that was declined
    intent = client.v1.payment_intents.create(eur_20(automatic_payment_methods=NO_REDIRECTS))
    options: stripe.RequestOptions = {"idempotency_key": "o-4:confirm"}
    params: PaymentIntentConfirmParams = {"payment_method": "pm_card_chargeDeclined"}
    with pytest.raises(stripe.CardError) as first:
        client.v1.payment_intents.confirm(intent.id, params, options)

    # When the same confirmation is retried with the same key
    with pytest.raises(stripe.CardError) as second:
        client.v1.payment_intents.confirm(intent.id, params, options)

    # Then the stored decline is answered again, not a second charge attempt
    assert second.value.headers is not None
    assert second.value.headers["Idempotent-Replayed"] == "true"
    assert second.value.json_body == first.value.json_body


def test_an_unpaid_intent_can_be_canceled(fake: FakeStripe, client: stripe.StripeClient) -> None:
    # Given an intent awaiting payment
    intent = client.v1.payment_intents.create(eur_20())

    # When it is canceled
    canceled = client.v1.payment_intents.cancel(intent.id, {"cancellation_reason": "abandoned"})

    # Then it is canceled, with an event saying so
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert canceled.canceled_at is not None
    assert fake.events()[-1]["type"] == "payment_intent.canceled"


@pytest.mark.parametrize("status", ["succeeded", "canceled"])
def test_a_settled_intent_cannot_be_canceled(client: stripe.StripeClient, status: str) -> None:
    # Given an intent that succeeded or was canceled already
    intent = paid_intent(client)
    if status == "canceled":
        intent = client.v1.payment_intents.create(eur_20())
        client.v1.payment_intents.cancel(intent.id)

    # When it is canceled
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.cancel(intent.id)

    # Then Stripe refuses: the intent is in an unexpected state
    assert refused.value.http_status == 400
    assert refused.value.code == "payment_intent_unexpected_state"
    assert f"status of {status}" in str(refused.value.user_message)


def test_a_succeeded_intent_cannot_be_confirmed_again(client: stripe.StripeClient) -> None:
    # Given a paid intent
    intent = paid_intent(client)

    # When it is confirmed again
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})

    # Then Stripe refuses it
    assert refused.value.code == "payment_intent_unexpected_state"


def test_a_full_refund_refunds_the_charge_and_a_second_refund_fails(
    client: stripe.StripeClient,
) -> None:
    # Given a paid intent
    intent = paid_intent(client)

    # When it is refunded without an amount
    refund = client.v1.refunds.create(
        {"payment_intent": intent.id, "reason": "requested_by_customer", "metadata": {"k": "v"}}
    )

    # Then the whole amount is refunded, and nothing is left to refund
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.status, refund.payment_intent) == (2000, "succeeded", intent.id)
    read = client.v1.refunds.retrieve(refund.id)
    assert read.metadata is not None
    assert read.metadata["k"] == "v"
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"payment_intent": intent.id})
    assert refused.value.code == "charge_already_refunded"


def test_partial_refunds_may_not_exceed_what_remains(client: stripe.StripeClient) -> None:
    # Given a paid intent of which 500 was refunded
    intent = paid_intent(client)
    client.v1.refunds.create({"payment_intent": intent.id, "amount": 500})

    # When more than the remaining 1500 is refunded
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 1501})

    # Then Stripe refuses it, and the remaining 1500 can still be refunded
    assert (refused.value.code, refused.value.param) == ("amount_too_large", "amount")
    assert client.v1.refunds.create({"payment_intent": intent.id}).amount == 1500


def test_an_unpaid_intent_cannot_be_refunded(client: stripe.StripeClient) -> None:
    # Given an intent awaiting payment
    intent = client.v1.payment_intents.create(eur_20())

    # When it is refunded
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create({"payment_intent": intent.id})

    # Then Stripe refuses: there is no successful charge
    assert refused.value.code == "payment_intent_unexpected_state"


def test_a_wrong_api_key_is_an_authentication_error(fake: FakeStripe) -> None:
    # Given a client with a key the account does not know
    client = client_for(fake, "sk_test_wrong_key_000000000000")

    # When it calls the API
    with pytest.raises(stripe.AuthenticationError) as refused:
        client.v1.payment_intents.create(eur_20())

    # Then Stripe answers 401 and shows only the ends of the key
    assert refused.value.http_status == 401
    assert "0000" in str(refused.value.user_message)
    assert "wrong_key" not in str(refused.value.user_message)


@pytest.mark.parametrize(
    "read",
    [
        lambda client: client.v1.payment_intents.retrieve("pi_missing"),
        lambda client: client.v1.refunds.retrieve("re_missing"),
        lambda client: client.v1.events.retrieve("evt_missing"),
    ],
)
def test_an_unknown_id_is_a_404_resource_missing(client: stripe.StripeClient, read: Any) -> None:
    # Given an account without that object
    # When it is read
    with pytest.raises(stripe.InvalidRequestError) as missing:
        read(client)

    # Then Stripe answers 404 resource_missing
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_an_unknown_payment_method_is_a_400_resource_missing(client: stripe.StripeClient) -> None:
    # Given an intent awaiting payment
    intent = client.v1.payment_intents.create(eur_20(automatic_payment_methods=NO_REDIRECTS))

    # When it is confirmed with a payment method that does not exist
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_unknown"})

    # Then Stripe answers 400 naming the parameter
    assert (missing.value.http_status, missing.value.code) == (400, "resource_missing")
    assert missing.value.param == "payment_method"


def test_confirming_without_return_url_fails_when_redirects_are_allowed(
    client: stripe.StripeClient,
) -> None:
    # Given an intent with automatic payment methods that may redirect (Stripe's default)
    intent = client.v1.payment_intents.create(eur_20())

    # When it is confirmed server-side without a return_url
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})

    # Then Stripe refuses, as it does in test and live mode
    assert "return_url" in str(refused.value.user_message)
    with_url = client.v1.payment_intents.confirm(
        intent.id, {"payment_method": "pm_card_visa", "return_url": "https://example.test/done"}
    )
    assert with_url.status == "succeeded"


def test_an_unknown_parameter_is_refused(client: stripe.StripeClient) -> None:
    # Given / When an intent is created with a parameter Stripe does not have
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(eur_20(colour="blue"))

    # Then Stripe names it
    assert (refused.value.code, refused.value.param) == ("parameter_unknown", "colour")


def test_an_update_merges_metadata_and_an_empty_value_unsets_a_key(
    client: stripe.StripeClient,
) -> None:
    # Given an intent with two metadata keys
    intent = client.v1.payment_intents.create(eur_20(metadata={"a": "1", "b": "2"}))

    # When it is updated with a new key, an emptied key and a description
    updated = client.v1.payment_intents.update(
        intent.id, {"metadata": {"b": "", "c": "3"}, "description": "order o-5"}
    )

    # Then keys merge and the emptied one is gone
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    assert updated.description == "order o-5"


def test_events_are_listed_newest_first_and_filtered_by_type(client: stripe.StripeClient) -> None:
    # Given an intent paid and then partly refunded
    intent = paid_intent(client)
    client.v1.refunds.create({"payment_intent": intent.id, "amount": 100})

    # When the events are listed, all, by type, and after a cursor
    events = client.v1.events.list()
    succeeded = client.v1.events.list({"type": "payment_intent.succeeded"})
    older = client.v1.events.list({"starting_after": events.data[1].id, "limit": 2})

    # Then they come newest first, each carrying a snapshot of its object
    assert [e.type for e in events.data] == [
        "refund.created",
        "charge.refunded",
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
    ]
    assert [e.id for e in succeeded.data] == [events.data[2].id]
    assert succeeded.data[0].data.to_dict()["object"]["id"] == intent.id
    assert [e.type for e in older.data] == ["payment_intent.succeeded", "charge.succeeded"]
    assert older.has_more is True
    assert client.v1.events.retrieve(events.data[0].id).type == "refund.created"


def test_events_are_delivered_signed_and_retried_after_a_failure(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a webhook endpoint that fails its first request
    receiver.statuses.append(500)
    with FakeStripe(
        api_key=API_KEY,
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        webhook_retry_delays=(0.05, 0.05),
    ) as fake:
        client = client_for(fake)

        # When an intent is created and paid
        intent = paid_intent(client)
        fake.wait_for_webhooks(timeout=5)

    # Then the first event came twice, and every event verifies with the SDK, in order
    events = [
        stripe.Webhook.construct_event(r.body, r.signature, SECRET) for r in receiver.received
    ]
    assert [e.type for e in events] == [
        "payment_intent.created",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert events[0].id == events[1].id
    assert events[3].data.to_dict()["object"]["id"] == intent.id
    attempts = [(d.event_type, d.attempt, d.status_code) for d in fake.deliveries]
    assert attempts[:2] == [("payment_intent.created", 1, 500), ("payment_intent.created", 2, 200)]
    assert "webhook delivery failed" in caplog.text


def test_a_delivery_is_given_up_after_the_last_retry(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a webhook endpoint that always fails
    receiver.statuses.extend([503] * 10)
    with FakeStripe(
        api_key=API_KEY,
        webhook_url=receiver.url,
        webhook_retry_delays=(0.01, 0.01),
        webhook_events=["payment_intent.created"],
    ) as fake:
        client = client_for(fake)

        # When an event is produced
        with caplog.at_level(logging.ERROR, logger="localcloud.stripe"):
            client.v1.payment_intents.create(eur_20())
            fake.wait_for_webhooks(timeout=5)
        event = fake.events()[0]

    # Then it was tried once and retried twice, then abandoned, loudly
    assert [(d.attempt, d.status_code) for d in fake.deliveries] == [(1, 503), (2, 503), (3, 503)]
    assert len(receiver.received) == 3
    assert event["pending_webhooks"] == 0
    assert "webhook delivery abandoned" in caplog.text


def test_an_endpoint_registered_for_some_event_types_is_sent_only_those(
    receiver: Receiver,
) -> None:
    # Given an endpoint registered, once the fake runs, for succeeded intents only
    with FakeStripe(api_key=API_KEY) as fake:
        fake.set_webhook_url(receiver.url, events=["payment_intent.succeeded"])
        client = client_for(fake)

        # When an intent is created and paid (created, succeeded and charge events)
        intent = client.v1.payment_intents.create(eur_20(automatic_payment_methods=NO_REDIRECTS))
        client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
        fake.wait_for_webhooks(timeout=5)
        produced = {event["type"] for event in fake.events()}

    # Then every event was kept, and only the enabled type was sent
    assert {"payment_intent.created", "payment_intent.succeeded", "charge.succeeded"} <= produced
    assert [d.event_type for d in fake.deliveries] == ["payment_intent.succeeded"]


def test_an_unreachable_endpoint_is_recorded_as_an_error() -> None:
    # Given a webhook URL where nothing listens, and no retries
    with FakeStripe(api_key=API_KEY, webhook_retry_delays=()) as fake:
        fake.set_webhook_url("http://127.0.0.1:9/unreachable")

        # When an event is produced
        client_for(fake).v1.payment_intents.create(eur_20())
        fake.wait_for_webhooks(timeout=5)

    # Then the attempt is recorded with its connection error and no status
    (delivery,) = fake.deliveries
    assert (delivery.status_code, delivery.succeeded) == (None, False)
    assert delivery.error


@pytest.mark.parametrize(
    ("path", "authorization", "status"),
    [
        ("/v1/payment_intents/pi_1", None, 401),
        ("/v1/nothing_here", f"Bearer {API_KEY}", 404),
    ],
)
def test_raw_errors_have_stripes_shape_and_a_request_id(
    fake: FakeStripe, path: str, authorization: str | None, status: int
) -> None:
    # Given a plain HTTP request, without the SDK
    request = urllib.request.Request(fake.url + path)
    if authorization:
        request.add_header("Authorization", authorization)

    # When it is sent
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=5)

    # Then the error is Stripe's JSON shape with a Request-Id header
    with answer.value as response:
        body = json.load(response)
        assert response.status == status
        assert response.headers["Request-Id"].startswith("req_")
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"]


def test_the_signature_uses_the_clock_and_the_raw_payload() -> None:
    # Given a payload and a timestamp
    payload = json.dumps({"id": "evt_1", "object": "event"}).encode()

    # When it is signed
    header = stripe_signature_header(payload, SECRET, 1_700_000_000)

    # Then the SDK accepts it, and rejects it for another secret
    assert header.startswith("t=1700000000,v1=")
    stripe.WebhookSignature.verify_header(payload, header, SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, header, "whsec_other")


def test_the_publishable_key_retrieves_and_confirms_an_intent_with_its_client_secret(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    # Given an intent the server made, and a browser holding only the publishable key
    intent = client.v1.payment_intents.create(eur_20(automatic_payment_methods=NO_REDIRECTS))
    browser = client_for(fake, fake.publishable_key)
    secret = {"client_secret": str(intent.client_secret)}

    # When the browser reads it and confirms it with a card that succeeds, as Stripe.js does
    read = browser.v1.payment_intents.retrieve(intent.id, cast(Any, secret))
    confirmed = browser.v1.payment_intents.confirm(
        intent.id, cast(PaymentIntentConfirmParams, {**secret, "payment_method": "pm_card_visa"})
    )

    # Then it succeeds, as the server sees it too
    assert read.status == "requires_payment_method"
    assert confirmed.status == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_the_publishable_key_declines_like_the_secret_key(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    intent = client.v1.payment_intents.create(eur_20(automatic_payment_methods=NO_REDIRECTS))
    browser = client_for(fake, fake.publishable_key)

    with pytest.raises(stripe.CardError) as declined:
        browser.v1.payment_intents.confirm(
            intent.id,
            cast(
                PaymentIntentConfirmParams,
                {"client_secret": intent.client_secret, "payment_method": "pm_card_chargeDeclined"},
            ),
        )

    assert declined.value.code == "card_declined"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


@pytest.mark.parametrize(
    "call",
    [
        lambda browser, intent: browser.v1.payment_intents.create(eur_20()),
        lambda browser, intent: browser.v1.payment_intents.cancel(intent.id),
        lambda browser, intent: browser.v1.refunds.list(),
        lambda browser, intent: browser.v1.events.list(),
    ],
    ids=["create", "cancel", "list refunds", "list events"],
)
def test_the_publishable_key_is_refused_for_everything_a_browser_does_not_do(
    fake: FakeStripe, client: stripe.StripeClient, call: Any
) -> None:
    intent = client.v1.payment_intents.create(eur_20())

    with pytest.raises(stripe.PermissionError) as refused:
        call(client_for(fake, fake.publishable_key), intent)

    assert refused.value.http_status == 403
    assert "publishable API key" in str(refused.value.user_message)


@pytest.mark.parametrize("secret", [None, "pi_other_secret_abc"], ids=["none", "another's"])
def test_the_publishable_key_needs_the_intents_own_client_secret(
    fake: FakeStripe, client: stripe.StripeClient, secret: str | None
) -> None:
    intent = client.v1.payment_intents.create(eur_20())
    params: Any = {} if secret is None else {"client_secret": secret}

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client_for(fake, fake.publishable_key).v1.payment_intents.retrieve(intent.id, params)

    assert refused.value.param == "client_secret"


def test_failures_on_cue_answer_as_stripes_outages_and_keep_nothing(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    # Given the next two requests failing, and a client that retries twice
    fake.fail_next(2, status=500)
    retrying = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url}, max_network_retries=2)
    before = len(fake.requests)

    # When it creates an intent with an idempotency key
    intent = retrying.v1.payment_intents.create(eur_20(), {"idempotency_key": "order:o-1:pi:v1"})

    # Then every attempt carried that key, and the third made the one intent
    attempts = fake.requests[before:]
    assert [(a.status, a.idempotency_key) for a in attempts] == [
        (500, "order:o-1:pi:v1"),
        (500, "order:o-1:pi:v1"),
        (200, "order:o-1:pi:v1"),
    ]
    assert [i.id for i in client.v1.payment_intents.list().data].count(intent.id) == 1


def test_a_browsers_preflight_is_answered_as_stripe_answers_it(fake: FakeStripe) -> None:
    # Given a page on another origin about to confirm an intent with the publishable key
    preflight = urllib.request.Request(
        f"{fake.url}/v1/payment_intents/pi_123/confirm",
        method="OPTIONS",
        headers={
            "Origin": "http://localhost:8080",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    # When the browser sends its preflight (it carries no Authorization)
    with urllib.request.urlopen(preflight, timeout=10) as answer:
        status, headers = answer.status, answer.headers

    # Then it may send the POST with the headers it asked for
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert headers["Access-Control-Max-Age"] == "300"
    assert fake.requests == []


def test_every_answer_lets_a_page_on_any_origin_read_it(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    # Given an intent, confirmed from a page with the publishable key, and a refused request
    intent = client.v1.payment_intents.create(eur_20(automatic_payment_methods=NO_REDIRECTS))
    confirm = urllib.request.Request(
        f"{fake.url}/v1/payment_intents/{intent.id}/confirm",
        data=f"payment_method=pm_card_visa&client_secret={intent.client_secret}".encode(),
        headers={
            "Authorization": f"Bearer {fake.publishable_key}",
            "Origin": "http://localhost:8080",
        },
    )
    refused = urllib.request.Request(f"{fake.url}/v1/events", headers={"Origin": "http://x.test"})

    # When Stripe answers both
    with urllib.request.urlopen(confirm, timeout=10) as answer:
        confirmed = answer.headers
    with pytest.raises(urllib.error.HTTPError) as unauthenticated:
        urllib.request.urlopen(refused, timeout=10)
    with unauthenticated.value as error:
        status, refusal = error.code, error.headers

    # Then both carry Stripe's CORS headers: `*`, and the request id readable by the page
    for headers in (confirmed, refusal):
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "Request-Id" in headers["Access-Control-Expose-Headers"]
    assert status == 401
