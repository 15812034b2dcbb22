"""The Stripe bodies the tests feed are of the API version the pinned SDK speaks, and the fake
Stripe stamps its events with it too: move one and these fail until all move together."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import stripe
from localcloud.stripe import API_VERSION as FAKE_API_VERSION

from tests.conftest import FIXTURES, ROOT, fixtures

SERVICE = Path(__file__).resolve().parents[1]


def test_the_sdk_pin_the_fixtures_and_the_fake_speak_one_api_version() -> None:
    pins = tomllib.loads((SERVICE / "pyproject.toml").read_text())["project"]["dependencies"]
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]

    assert "stripe>=16.1,<16.2" in pins
    assert "stripe>=16.1,<16.2" in root, "the fake Stripe is tested with the service's SDK"
    assert stripe.VERSION.startswith("16.1.")
    assert stripe.api_version == fixtures.API_VERSION == FAKE_API_VERSION
    for name in fixtures.NAMES:
        event = json.loads((FIXTURES / f"{name}.json").read_text())
        assert event["api_version"] == stripe.api_version, name


def test_the_bodies_are_whole_stripe_events_the_sdk_reads() -> None:
    body = fixtures.load("payment_intent.succeeded", "order-1", "pi_3Abc")
    header = fixtures.sign(body, "whsec_x")

    event = stripe.Webhook.construct_event(body, header, "whsec_x")

    assert event.type == "payment_intent.succeeded"
    intent = event.data.object
    assert (intent.id, intent.metadata["order_id"]) == ("pi_3Abc", "order-1")
    assert len(json.loads(body)["data"]["object"]) > 40, (
        "every field Stripe sends, not a trimmed dict"
    )
