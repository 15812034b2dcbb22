"""What `serverless package` makes of serverless.yml, checked offline: the shared checks of every
service (shop_testkit.serverless), and the BFF's own: its HTTP API behind the JWT authorizer with
CORS for the storefront, the one role that may unseal, and the table and filters the code relies
on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from order_bff.events import CONSUMED
from order_bff.table import (
    ATTRIBUTE_DEFINITIONS,
    GLOBAL_SECONDARY_INDEXES,
    KEY_SCHEMA,
    ORDER_SK,
    STREAM_VIEW_TYPE,
)
from shop_testkit.serverless import (
    Layer,
    PackagedStack,
    assert_filter_lets_through,
    assert_functions_use_the_layer,
    assert_layer_is_built_for,
    assert_least_privilege,
    assert_package_holds_only,
    assert_queue_sources_are_safe,
    assert_runtime_is_the_interpreters,
    assert_stream_mappings_are_safe,
    runtime_of_this_interpreter,
)

SERVICE = Path(__file__).resolve().parents[1]
ROOT = SERVICE.parents[1]
STREAM_FUNCTIONS = ("Listener", "Trigger")
SEALING_KEY = {"Fn::ImportValue": "event-hub-test-SealingKeyArn"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> PackagedStack:
    return PackagedStack.package(SERVICE, tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="module")
def resources(stack: PackagedStack) -> dict[str, Any]:
    return stack.resources


def test_the_stream_and_queue_sources_lose_nothing_and_retry_finitely(stack: PackagedStack) -> None:
    assert_stream_mappings_are_safe(stack)
    assert_queue_sources_are_safe(stack)
    for function in STREAM_FUNCTIONS:
        mapping = stack.mapping_of(function)
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
        }


def test_the_stream_mappings_wait_for_no_batch_and_a_full_one_fits_the_timeout(
    stack: PackagedStack, resources: dict[str, Any]
) -> None:
    # A window would be a wait on every hop of an order (decision 0017); a batch the listener
    # cannot finish in time is done again whole, in a cold environment.
    for function in STREAM_FUNCTIONS:
        assert stack.mapping_of(function).get("MaximumBatchingWindowInSeconds", 0) == 0
    assert resources["ListenerLambdaFunction"]["Properties"]["Timeout"] == 30


def test_every_function_runs_on_the_tested_python_with_its_own_least_privilege_role(
    stack: PackagedStack,
) -> None:
    assert_runtime_is_the_interpreters(stack)
    assert_least_privilege(stack)
    assert_functions_use_the_layer(stack)
    for function, properties in stack.functions().items():
        assert properties["Environment"]["Variables"]["PYTHONPATH"] == "/var/task/src", function


def test_the_listener_lets_through_exactly_the_events_it_consumes(stack: PackagedStack) -> None:
    assert_filter_lets_through(stack, "Listener", [c.event_type for c in CONSUMED])


def test_the_listener_runs_batches_of_its_shard_side_by_side(stack: PackagedStack) -> None:
    # Each event waits on a read and a write of its view: one batch at a time fell behind at
    # 5 orders/s (decision 0028). The views take their facts in any order, so lanes are safe.
    assert stack.mapping_of("Listener")["ParallelizationFactor"] > 1
    assert "ParallelizationFactor" not in stack.mapping_of("Trigger"), "publishing keeps order"


def test_the_trigger_reads_only_the_order_views_changes(stack: PackagedStack) -> None:
    assert stack.filter_of("Trigger") == {"dynamodb": {"Keys": {"sk": {"S": [ORDER_SK]}}}}


def test_the_table_is_the_one_the_adapter_reads_and_writes(resources: dict[str, Any]) -> None:
    table = resources["Table"]["Properties"]

    assert table["KeySchema"] == KEY_SCHEMA
    assert table["AttributeDefinitions"] == ATTRIBUTE_DEFINITIONS
    assert table["GlobalSecondaryIndexes"] == GLOBAL_SECONDARY_INDEXES
    assert table["StreamSpecification"] == {"StreamViewType": STREAM_VIEW_TYPE}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_post_graphql_is_served_by_the_graphql_function_behind_the_jwt_authorizer(
    stack: PackagedStack,
) -> None:
    [route] = stack.of_type("AWS::ApiGatewayV2::Route").values()
    [authorizer] = stack.of_type("AWS::ApiGatewayV2::Authorizer").values()
    [integration] = stack.of_type("AWS::ApiGatewayV2::Integration").values()

    assert route["RouteKey"] == "POST /graphql"
    assert route["AuthorizationType"] == "JWT"
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    # Outside a named stage they are the local cloud's: a deploy names its identity provider.
    assert authorizer["JwtConfiguration"] == {
        "Issuer": "https://localcloud.local/",
        "Audience": ["localcloud"],
    }
    assert integration["PayloadFormatVersion"] == "2.0"
    assert "GraphqlLambdaFunction" in str(integration["IntegrationUri"])


def test_cors_lets_the_storefront_post_with_a_token_and_nobody_else(stack: PackagedStack) -> None:
    [api] = stack.of_type("AWS::ApiGatewayV2::Api").values()
    cors = api["CorsConfiguration"]

    assert cors["AllowOrigins"] == ["http://localhost:8080"]
    assert set(cors["AllowMethods"]) == {"POST", "OPTIONS"}
    assert {"Authorization", "Content-Type"} <= set(cors["AllowHeaders"])


def test_only_the_graphql_function_may_unseal_and_only_the_client_secret(
    stack: PackagedStack,
) -> None:
    unsealers = {f for f in stack.functions() if "kms:Decrypt" in stack.role_actions(f)}
    [statement] = [s for s in stack.role_statements("Graphql") if s["Action"] == "kms:Decrypt"]

    assert unsealers == {"Graphql"}
    assert statement["Resource"] == SEALING_KEY
    assert statement["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:field": "payment.clientSecret"}
    }
    variables = stack.function("Graphql")["Environment"]["Variables"]
    assert variables["SEALING_KEY_ID"] == SEALING_KEY
    assert not any("kms:Encrypt" in stack.role_actions(f) for f in stack.functions()), (
        "the BFF seals nothing"
    )


def test_only_the_functions_that_keep_views_write_the_table(stack: PackagedStack) -> None:
    writers = {f for f in stack.functions() if "dynamodb:PutItem" in stack.role_actions(f)}

    assert writers == {"Graphql", "Listener"}


@pytest.mark.parametrize("function", ["graphql", "listener", "trigger", "unprocessed"])
def test_each_function_has_a_package_of_the_services_code_and_nothing_else(
    stack: PackagedStack, function: str
) -> None:
    names = assert_package_holds_only(stack, f"{function}.zip", "src/order_bff/")

    assert "src/order_bff/handlers/graphql.py" in names
    assert "src/order_bff/contracts.py" not in names
    assert "src/order_bff/adapters/memory.py" not in names, "the in-memory fake is the tests'"


@pytest.mark.skipif(
    os.environ.get("SHOP_SKIP_LAYER_BUILD") == "1", reason="builds the layer: wheels from PyPI"
)
def test_the_layer_holds_every_import_of_the_functions_built_for_the_runtime(
    stack: PackagedStack, tmp_path: Path
) -> None:
    # Given the layer `make package` builds (wheels from uv's cache after the first time)
    layer = Layer.build(SERVICE, tmp_path / "layer")

    # Then it is built for the functions' runtime and machine, and holds what they import
    [architecture] = stack.function("Graphql")["Architectures"]
    assert_layer_is_built_for(
        layer, runtime=runtime_of_this_interpreter(), architecture=architecture
    )
    for module in ["strawberry", "graphql", "shop_sealing", "shop_streams", "pydantic", "boto3"]:
        assert layer.has_module(module), module
    assert not layer.has_module("order_bff"), "the service's own code is in its packages"
