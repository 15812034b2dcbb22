"""Fixtures: Stripe's own event bodies (`stripe-events/`, copied from the workplace's shared
fixtures and signed with their stdlib signer), the ports as both adapters, and settings as the
stack sets them. `moto_server`, `aws` and `aws_credentials` come from the test kit's plugin."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest
from localcloud.aws import Aws
from shop_envelope.settings import FunctionSettings
from stripe_esg.adapters.dynamodb import DynamoDBPaymentLedger
from stripe_esg.adapters.memory import InMemoryPaymentLedger
from stripe_esg.ports import PaymentLedger
from stripe_esg.table import TTL_ATTRIBUTE, table_definition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "stripe-events"
REGION = "eu-west-1"
TABLE = "stripe-esg-test"
SECRET = "whsec_test_current"
PREVIOUS_SECRET = "whsec_test_previous"


def _signer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stripe_fixture_signer", FIXTURES / "sign.py")
    assert spec is not None, f"no signer in {FIXTURES}"
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixtures = _signer()


def stripe_body(name: str, order_id: str, intent_id: str, *, event_id: str | None = None) -> bytes:
    """One of Stripe's event bodies, as Stripe sends it, the ids filled in."""
    body: bytes = fixtures.load(name, order_id, intent_id, event_id=event_id)
    return body


def stripe_event(name: str, order_id: str, intent_id: str, **changes: Any) -> dict[str, Any]:
    """The same, parsed, with top-level fields changed (`event_id=` renames the event)."""
    event_id = changes.pop("event_id", None)
    event: dict[str, Any] = json.loads(stripe_body(name, order_id, intent_id, event_id=event_id))
    event.update(changes)
    return event


def create_table(client: DynamoDBClient, name: str = TABLE) -> None:
    client.create_table(**table_definition(name))
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


@pytest.fixture
def dynamodb(aws: Aws) -> DynamoDBClient:
    client: DynamoDBClient = aws.client("dynamodb")
    create_table(client)
    return client


@pytest.fixture(params=["memory", pytest.param("dynamodb", marks=pytest.mark.integration)])
def ledger(request: pytest.FixtureRequest) -> PaymentLedger:
    """The ledger port, once per adapter: the same test holds for both."""
    if request.param == "memory":
        return InMemoryPaymentLedger()
    client: DynamoDBClient = request.getfixturevalue("dynamodb")
    return DynamoDBPaymentLedger(TABLE, client=client)


S = TypeVar("S", bound=FunctionSettings)


class SettingsFor(Protocol):
    def __call__(self, settings_class: type[S], function: str, **environment: str) -> S: ...


ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "stripe-esg",
    "STAGE": "test",
    "AWS_REGION": REGION,
    "BUS_NAME": "event-hub-test-bus",
    "TABLE_NAME": TABLE,
    "STRIPE_API_KEY_PARAMETER": "/stripe-esg/test/api-key",
    "SEALING_KEY_ID": "alias/sealing",
}


@pytest.fixture
def settings_for() -> SettingsFor:
    def settings(settings_class: type[S], function: str, **environment: str) -> S:
        return settings_class.from_environment(
            {
                **ENVIRONMENT,
                "AWS_LAMBDA_FUNCTION_NAME": f"stripe-esg-test-{function}",
                **environment,
            }
        )

    return settings


Clock = Callable[[], int]
