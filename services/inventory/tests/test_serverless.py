"""What `serverless package` makes of serverless.yml, checked offline: the reliability settings AWS
leaves unsafe by default, least-privilege roles, and the table and filters the code relies on.
The checks every service needs are shop_testkit.serverless's; this file adds the inventory's."""

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
from inventory.events import CONSUMED
from inventory.table import (
    ATTRIBUTE_DEFINITIONS,
    EXPIRY_SK,
    KEY_SCHEMA,
    PRODUCT_SK,
    RESERVATION_SK,
    STREAM_VIEW_TYPE,
    TTL_ATTRIBUTE,
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
STREAM_FUNCTIONS = ("Listener", "Trigger", "Expiry")


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
        assert mapping["StartingPosition"] == "TRIM_HORIZON", "nothing written before it is missed"


def test_every_function_runs_on_the_tested_python_with_its_own_least_privilege_role(
    stack: PackagedStack,
) -> None:
    assert_runtime_is_the_interpreters(stack)
    assert_least_privilege(stack)
    assert_functions_use_the_layer(stack)
    for function, properties in stack.functions().items():
        assert properties["Environment"]["Variables"]["PYTHONPATH"] == "/var/task/src", function
        assert "events:PutEvents" in stack.role_actions(function), "each publishes events or faults"


def test_the_listener_lets_through_exactly_the_events_it_consumes(stack: PackagedStack) -> None:
    assert_filter_lets_through(stack, "Listener", [c.event_type for c in CONSUMED])


def test_the_trigger_and_expiry_share_the_table_stream_between_them(stack: PackagedStack) -> None:
    trigger = stack.filter_of("Trigger")
    expiry = stack.filter_of("Expiry")

    assert sorted(trigger["dynamodb"]["Keys"]["sk"]["S"]) == sorted([PRODUCT_SK, RESERVATION_SK])
    assert expiry["dynamodb"]["Keys"]["sk"]["S"] == [EXPIRY_SK]
    assert expiry["eventName"] == ["REMOVE"]
    assert expiry["userIdentity"] == {
        "type": ["Service"],
        "principalId": ["dynamodb.amazonaws.com"],
    }


def test_the_table_is_the_one_the_adapter_writes(resources: dict[str, Any]) -> None:
    table = resources["Table"]["Properties"]

    assert table["KeySchema"] == KEY_SCHEMA
    assert table["AttributeDefinitions"] == ATTRIBUTE_DEFINITIONS
    assert table["StreamSpecification"] == {"StreamViewType": STREAM_VIEW_TYPE}
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


# What the stock ledger calls (adapters/dynamodb.py), TransactWriteItems counted item by item.
LEDGER_CALLS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
}


@pytest.mark.parametrize("function", ["Listener", "Expiry"])
def test_the_functions_that_keep_stock_may_make_exactly_the_ledgers_calls_on_the_table(
    stack: PackagedStack, function: str
) -> None:
    on_table = {
        action
        for statement in stack.role_statements(function)
        if statement["Resource"] == {"Fn::GetAtt": ["Table", "Arn"]}
        for action in statement["Action"]
    }

    assert on_table == LEDGER_CALLS


def test_only_the_functions_that_keep_stock_write_the_table(stack: PackagedStack) -> None:
    writers = {f for f in stack.functions() if "dynamodb:PutItem" in stack.role_actions(f)}

    assert writers == {"Listener", "Expiry"}


@pytest.mark.parametrize("function", ["listener", "trigger", "expiry", "unprocessed"])
def test_each_function_has_a_package_of_the_services_code_and_nothing_else(
    stack: PackagedStack, function: str
) -> None:
    names = assert_package_holds_only(stack, f"{function}.zip", "src/inventory/")
    code = stack.function(function.title())["Code"]["S3Key"]
    assert code.endswith(f"/{function}.zip"), "each function deploys its own package"

    assert "src/inventory/handlers/listener.py" in names
    assert "src/inventory/handlers/trigger.py" in names
    assert "src/inventory/handlers/expiry.py" in names
    assert "src/inventory/cli.py" not in names, "the command line is not a function's"
    assert "src/inventory/adapters/memory.py" not in names, "the in-memory fake is the tests'"


def test_what_the_stream_mappings_give_up_on_is_parked_by_the_unprocessed_function(
    stack: PackagedStack,
) -> None:
    # The failure queue every stream mapping sends its pointers to is read by one function
    function = stack.function("Unprocessed")
    mapping = stack.mapping_of("Unprocessed")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}
    # whose handler is shop-streams' own, as it ships (found, not imported: it reads its settings)
    module, _, name = function["Handler"].rpartition(".")
    spec = importlib.util.find_spec(module.replace("/", "."))
    assert spec is not None
    assert spec.origin is not None
    assert f"def {name}(" in Path(spec.origin).read_text()
    # and a pointer it cannot read back is kept on a dead-letter queue, never dropped
    queue = stack.resources["StreamFailureQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["StreamFailureDeadLetterQueue", "Arn"]
    }
    assert stack.role_actions("Unprocessed") == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
        "kinesis:GetShardIterator",
        "kinesis:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:GetRecords",
        "events:PutEvents",
    }


@pytest.mark.skipif(
    os.environ.get("SHOP_SKIP_LAYER_BUILD") == "1", reason="builds the layer: wheels from PyPI"
)
def test_the_layer_holds_every_import_of_the_functions_built_for_the_runtime(
    stack: PackagedStack, tmp_path: Path
) -> None:
    # Given the layer `make package` builds (wheels from uv's cache after the first time)
    layer = Layer.build(SERVICE, tmp_path / "layer")

    # Then it is built for the functions' runtime and machine, not this one
    [architecture] = stack.function("Listener")["Architectures"]
    assert_layer_is_built_for(
        layer, runtime=runtime_of_this_interpreter(), architecture=architecture
    )
    [core] = (layer.python / "pydantic_core").glob("_pydantic_core.*.so")
    assert "aarch64" in core.name
    # and holds the libraries, the library handler among them, and the packages they import
    handler = stack.function("Unprocessed")["Handler"].rpartition(".")[0].replace("/", ".")
    for module in [handler, "shop_envelope", "shop_publisher", "shop_observability", "pydantic"]:
        assert layer.has_module(module), module
    assert layer.has_module("aws_lambda_powertools")
    assert layer.has_module("boto3"), "the SDK the tests ran against, not the runtime's"
    assert not layer.has_module("inventory"), "the service's own code is in its package"
