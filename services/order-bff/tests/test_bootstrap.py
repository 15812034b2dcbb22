"""The composition root as the handlers use it: settings from the environment, the real adapters
against moto's server; and each handler no more than that wiring."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from localcloud.aws import Aws
from order_bff import bootstrap
from order_bff.settings import GraphqlSettings, ListenerSettings, TriggerSettings
from shop_envelope.settings import SettingsError
from shop_sealing import KmsSealer
from shop_testkit import http_api_event

if TYPE_CHECKING:
    from conftest import SettingsFor
    from mypy_boto3_dynamodb import DynamoDBClient

HANDLERS = Path(bootstrap.__file__).parent / "handlers"
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


def test_the_stream_functions_build_without_graphql(settings_for: SettingsFor) -> None:
    assert bootstrap.trigger(settings_for(TriggerSettings, "trigger")) is not None
    assert bootstrap.listener(settings_for(ListenerSettings, "listener")) is not None


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
