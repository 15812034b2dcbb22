"""The webhook, table-driven: each request as Stripe (or an attacker) sends it, the exact status
it gets, and nothing queued for any request that is not a genuine, recent, ingested event."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shop_testkit import http_api_event
from stripe_esg.rules.webhook import Webhook
from stripe_esg.signature import SignatureRejected, sign, verify

from tests.conftest import PREVIOUS_SECRET, SECRET, fixtures, stripe_body

NOW = 1_796_040_000
BODY = stripe_body("payment_intent.succeeded", "order-1", "pi_3Abc")


@dataclass
class Queue:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def enqueue(self, event_id: str, body: str) -> None:
        self.sent.append((event_id, body))


def webhook(
    queue: Queue, secrets: Callable[[], list[str]] = lambda: [SECRET, PREVIOUS_SECRET]
) -> Webhook:
    return Webhook(secrets=secrets, enqueue=queue.enqueue, clock=lambda: NOW)


def request(
    body: bytes | str, signature: str | None, *, base64_body: bool = False
) -> dict[str, Any]:
    headers = {"content-type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    if base64_body:
        return http_api_event(
            "POST",
            "/stripe/webhook",
            body=bytes(body, "utf-8") if isinstance(body, str) else body,
            headers=headers,
        )
    text = body.decode() if isinstance(body, bytes) else body
    return http_api_event("POST", "/stripe/webhook", body=text, headers=headers)


def v1(body: bytes, secret: str, at: int) -> str:
    return sign(body, secret, at).split(",")[1]


# (case, body, Stripe-Signature header, base64 body, status)
CASES: list[tuple[str, bytes, str | None, bool, int]] = [
    ("valid", BODY, fixtures.sign(BODY, SECRET, NOW), False, 200),
    (
        "rotated: two v1, the second under the current secret",
        BODY,
        f"t={NOW},{v1(BODY, 'whsec_unknown', NOW)},{v1(BODY, SECRET, NOW)}",
        False,
        200,
    ),
    (
        "signed with the previous secret",
        BODY,
        fixtures.sign(BODY, PREVIOUS_SECRET, NOW),
        False,
        200,
    ),
    ("exactly 300 s old", BODY, fixtures.sign(BODY, SECRET, NOW - 300), False, 200),
    ("301 s old", BODY, fixtures.sign(BODY, SECRET, NOW - 301), False, 400),
    ("301 s in the future", BODY, fixtures.sign(BODY, SECRET, NOW + 301), False, 400),
    (
        "tampered body",
        BODY.replace(b'"livemode": false', b'"livemode": true', 1),
        fixtures.sign(BODY, SECRET, NOW),
        False,
        400,
    ),
    (
        "v0 only",
        BODY,
        fixtures.sign(BODY, SECRET, NOW).replace("v1=", "v0="),
        False,
        400,
    ),
    ("missing header", BODY, None, False, 400),
    ("malformed header", BODY, "t=,v1", False, 400),
    ("two timestamps", BODY, f"t={NOW},t={NOW},{v1(BODY, SECRET, NOW)}", False, 400),
    ("wrong secret", BODY, fixtures.sign(BODY, "whsec_someone_else", NOW), False, 400),
    (
        "valid signature over invalid JSON",
        b"{not json",
        fixtures.sign(b"{not json", SECRET, NOW),
        False,
        400,
    ),
    ("a base64 body", BODY, fixtures.sign(BODY, SECRET, NOW), True, 200),
    ("an empty body, signed", b"", fixtures.sign(b"", SECRET, NOW), False, 400),
    ("an empty body, unsigned", b"", None, False, 400),
    (
        "a type not ingested: acknowledged, ignored",
        stripe_body("customer.created", "order-1", "pi_3Abc"),
        fixtures.sign(stripe_body("customer.created", "order-1", "pi_3Abc"), SECRET, NOW),
        False,
        200,
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "header", "base64_body", "status"), CASES, ids=[c[0] for c in CASES]
)
def test_each_request_gets_its_exact_status_and_only_genuine_events_are_queued(
    case: str, body: bytes, header: str | None, base64_body: bool, status: int
) -> None:
    # Given the webhook with the current and the previous secret
    queue = Queue()

    # When Stripe's request (or a forged one) comes in
    response = webhook(queue).process(request(body, header, base64_body=base64_body))

    # Then it gets its exact status; only a genuine event of an ingested type is queued, as sent
    assert response["statusCode"] == status, case
    genuine = status == 200 and b"customer.created" not in body
    assert queue.sent == ([(json.loads(body)["id"], body.decode())] if genuine else [])
    if status == 400:
        # a generic answer: nothing says what was wrong
        assert json.loads(response["body"]) in (
            {"error": "invalid signature"},
            {"error": "invalid payload"},
        )


@pytest.mark.parametrize(
    "secrets",
    [
        list,
        lambda: (_ for _ in ()).throw(
            LookupError("parameter /stripe-esg/test/webhook-secret unreadable")
        ),
    ],
    ids=["no secret", "the parameter unreadable"],
)
def test_without_a_secret_it_fails_closed(secrets: Callable[[], list[str]]) -> None:
    queue = Queue()

    response = webhook(queue, secrets).process(request(BODY, fixtures.sign(BODY, SECRET, NOW)))

    assert response["statusCode"] == 500
    assert queue.sent == []


def test_an_event_the_queue_refuses_is_answered_500_so_stripe_retries_it() -> None:
    def refuse(event_id: str, body: str) -> None:
        raise ConnectionError("queue unreachable")

    hook = Webhook(secrets=lambda: [SECRET], enqueue=refuse, clock=lambda: NOW)

    assert hook.process(request(BODY, fixtures.sign(BODY, SECRET, NOW)))["statusCode"] == 500


def test_invalid_base64_is_refused_like_a_bad_signature() -> None:
    event = request(BODY, fixtures.sign(BODY, SECRET, NOW))
    event.update(isBase64Encoded=True, body="***not base64***")

    assert webhook(Queue()).process(event)["statusCode"] == 400


def test_our_signer_is_stripes() -> None:
    # The fixtures' signer is checked against the SDK's own (their README); ours must agree.
    assert sign(BODY, SECRET, NOW) == fixtures.sign(BODY, SECRET, NOW)


@given(body=st.binary(max_size=2048), other=st.binary(max_size=2048), at=st.integers(0, 2**33))
def test_a_signature_verifies_its_body_and_no_other(body: bytes, other: bytes, at: int) -> None:
    header = sign(body, SECRET, at)

    assert verify(body, header, [SECRET], now=at) == at
    if other != body:
        with pytest.raises(SignatureRejected):
            verify(other, header, [SECRET], now=at)


def test_verifying_without_any_secret_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no secret"):
        verify(BODY, sign(BODY, SECRET, NOW), [], now=NOW)


def test_a_base64_body_is_what_api_gateway_sends_for_a_binary_type() -> None:
    event = request(BODY, "t=1,v1=x", base64_body=True)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == BODY
