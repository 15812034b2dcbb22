"""Pointing the tests at a deployed stage: the endpoints file `make deploy` writes, and a token
command of your identity provider (no network: the command here is `echo`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shop_e2e.shop import Shop


def test_a_stage_is_reached_through_its_endpoints_file_and_token_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the endpoints of stage "dev" and a command that prints a token for a customer
    endpoints = {
        "stage": "dev",
        "region": "eu-west-1",
        "stripe": "https://api.stripe.com",
        "stripe_publishable_key": "pk_test_x",
        "http": {"order-bff": "https://bff.example/", "stripe-esg": "https://esg.example"},
    }
    (tmp_path / "endpoints.json").write_text(json.dumps(endpoints))
    monkeypatch.setenv("SHOP_ENDPOINTS", str(tmp_path / "endpoints.json"))
    monkeypatch.setenv("SHOP_TOKEN_COMMAND", "echo token-for-{customer}")
    monkeypatch.delenv("SHOP_STAGE", raising=False)

    # When the shop under test is read from the environment
    shop = Shop.from_environment()

    # Then it is that stage, its customers signed in with the command's tokens
    assert shop is not None
    assert shop.stage == "dev"
    assert shop.graphql_url == "https://bff.example/graphql"
    assert shop.webhook_url == "https://esg.example/stripe/webhook"
    assert shop.customer("ada b").token == "token-for-ada b"
    assert shop.stripe.publishable_key == "pk_test_x"


def test_an_endpoints_file_without_a_token_command_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "endpoints.json").write_text("{}")
    monkeypatch.setenv("SHOP_ENDPOINTS", str(tmp_path / "endpoints.json"))
    monkeypatch.delenv("SHOP_TOKEN_COMMAND", raising=False)

    with pytest.raises(RuntimeError, match="SHOP_TOKEN_COMMAND is not"):
        Shop.from_environment()


def test_without_shop_endpoints_the_tests_start_the_local_cloud(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHOP_ENDPOINTS", raising=False)
    assert Shop.from_environment() is None
