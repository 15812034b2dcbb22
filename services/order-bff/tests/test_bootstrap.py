"""The composition root as the handlers use it: settings from the environment, the real adapters
against moto's server; and each handler no more than that wiring."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from localcloud.aws import Aws
from localcloud.testing import eventually
from order_bff import bootstrap
from order_bff.events import CatalogProduct, Price, ProductUpdated
from order_bff.settings import GraphqlSettings, ListenerSettings, TriggerSettings
from shop_envelope import EventFactory
from shop_envelope.settings import SettingsError
from shop_sealing import KmsSealer
from shop_testkit import TableStream, http_api_event, kinesis_event

if TYPE_CHECKING:
    from conftest import SettingsFor
    from mypy_boto3_dynamodb import DynamoDBClient

HANDLERS = Path(bootstrap.__file__).parent / "handlers"
BUS = "event-hub-test-bus"
SETTINGS = {
    "graphql": "GraphqlSettings",
    "trigger": "TriggerSettings",
    "listener": "ListenerSettings",
}


@pytest.mark.parametrize("function", sorted(SETTINGS))
def test_each_handler_is_only_its_wiring_through_the_composition_root(function: str) -> None:
    module = ast.parse((HANDLERS / f"{function}.py").read_text())
    statements = [s for s in module.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    docstring, built, handle = statements
    assert isinstance(docstring, ast.Expr)
    assert ast.unparse(built) == (
        f"{function} = bootstrap.{function}({SETTINGS[function]}.from_environment())"
    )
    assert isinstance(handle, ast.FunctionDef)
    assert handle.name == "handle"
    assert [ast.unparse(line) for line in handle.body] == [f"return {function}.process(event)"]


def test_the_graphql_function_serves_a_request_against_the_table_with_kms(
    aws: Aws, dynamodb: DynamoDBClient, settings_for: SettingsFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function built from its settings, its clients pointed at moto
    for name, value in aws.environment().items():
        monkeypatch.setenv(name, value)
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    settings = settings_for(GraphqlSettings, "graphql", SEALING_KEY_ID=key)
    graphql = bootstrap.graphql(settings)

    # When a customer asks for the catalog
    response = graphql.process(
        http_api_event(
            "POST",
            "/graphql",
            body={"query": "{ products { edges { cursor } } }"},
            jwt_claims={"sub": "customer-a"},
        )
    )

    # Then the table in moto answers, empty
    assert json.loads(response["body"]) == {"data": {"products": {"edges": []}}}
    assert isinstance(KmsSealer(key), KmsSealer)


def test_an_order_placed_through_the_api_reaches_the_bus_through_the_trigger(
    aws: Aws,
    dynamodb: DynamoDBClient,
    table_stream: TableStream,
    settings_for: SettingsFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the graphql and trigger functions built from their settings, their clients on moto,
    # and everything the BFF puts on the bus read back through a rule (moto delivers to SQS)
    for name, value in aws.environment().items():
        monkeypatch.setenv(name, value)
    events, sqs = aws.client("events"), aws.client("sqs")
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="everything")["QueueUrl"]
    events.put_rule(
        Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["order-bff"]})
    )
    events.put_targets(
        Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": aws.arn("sqs", "everything")}]
    )
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    graphql = bootstrap.graphql(settings_for(GraphqlSettings, "graphql", SEALING_KEY_ID=key))
    trigger = bootstrap.trigger(settings_for(TriggerSettings, "trigger"))
    listener = bootstrap.listener(settings_for(ListenerSettings, "listener"))
    catalog = EventFactory(source="inventory").create(
        ProductUpdated,
        CatalogProduct(sku="MUG", name="Mug", price=Price(amount=1200, currency="EUR"), version=1),
        partition_key="MUG",
    )
    assert listener.process(kinesis_event(catalog)) == {"batchItemFailures": []}
    table_stream.read()

    # When a customer places an order, and the trigger handles the table's changes
    mutation = (
        'mutation { placeOrder(input: {lines: [{sku: "MUG", quantity: 3}]}) { order { id } } }'
    )
    response = graphql.process(
        http_api_event(
            "POST", "/graphql", body={"query": mutation}, jwt_claims={"sub": "customer-a"}
        )
    )
    order_id = json.loads(response["body"])["data"]["placeOrder"]["order"]["id"]
    assert trigger.process(table_stream.read()) == {"batchItemFailures": []}

    # Then order-placed is on the bus, from the trigger, for that order
    def on_bus() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        return [json.loads(message["Body"]) for message in messages]

    [entry] = eventually(on_bus)
    assert entry["detail-type"] == "order-placed"
    assert entry["source"] == "order-bff"
    assert entry["detail"]["order"]["id"] == order_id
    assert entry["detail"]["order"]["total"] == {"amount": 3600, "currency": "EUR"}
    assert entry["detail"]["tags"]["functionName"] == "order-bff-test-trigger"


def test_a_missing_setting_fails_the_cold_start_naming_it() -> None:
    with pytest.raises(SettingsError, match="SEALING_KEY_ID: Field required"):
        GraphqlSettings.from_environment(
            {
                "POWERTOOLS_SERVICE_NAME": "order-bff",
                "STAGE": "test",
                "BUS_NAME": "b",
                "TABLE_NAME": "t",
            }
        )
