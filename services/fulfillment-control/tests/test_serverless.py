"""What `serverless package` makes of serverless.yml, checked offline: the reliability settings AWS
leaves unsafe by default, least-privilege roles, and the table, filters and timers the code relies
on. The checks every service needs are shop_testkit.serverless's; this file adds the service's."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
from fulfillment_control.events import CONSUMED
from fulfillment_control.table import (
    ATTRIBUTE_DEFINITIONS,
    EVENT_PREFIX,
    FACT_PREFIX,
    KEY_SCHEMA,
    OUTCOME_SK,
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


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> PackagedStack:
    return PackagedStack.package(SERVICE, tmp_path_factory.mktemp("package"))


def test_the_stream_and_queue_sources_lose_nothing_and_retry_finitely(stack: PackagedStack) -> None:
    assert_stream_mappings_are_safe(stack)
    assert_queue_sources_are_safe(stack)
    for function in ("Listener", "Trigger"):
        mapping = stack.mapping_of(function)
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
        }
        assert mapping["StartingPosition"] == "TRIM_HORIZON"


def test_every_function_runs_on_the_tested_python_with_its_own_least_privilege_role(
    stack: PackagedStack,
) -> None:
    assert_runtime_is_the_interpreters(stack)
    assert_least_privilege(stack)
    assert_functions_use_the_layer(stack)
    for function, properties in stack.functions().items():
        assert properties["Environment"]["Variables"]["PYTHONPATH"] == "/var/task/src", function
        assert "events:PutEvents" in stack.role_actions(function), "each publishes events or faults"


def test_the_listener_lets_through_exactly_the_events_the_rules_read(stack: PackagedStack) -> None:
    assert_filter_lets_through(stack, "Listener", [c.event_type for c in CONSUMED])


def test_the_trigger_sees_each_collected_event_and_recorded_fact_once(stack: PackagedStack) -> None:
    pattern = stack.filter_of("Trigger")

    assert pattern["eventName"] == ["INSERT"], "TTL's deletes are clean-up, never a deadline"
    assert pattern["dynamodb"]["Keys"]["sk"]["S"] == [
        {"prefix": EVENT_PREFIX},
        {"prefix": FACT_PREFIX},
        OUTCOME_SK,
    ]


def test_the_trigger_runs_batches_of_its_shard_side_by_side(stack: PackagedStack) -> None:
    # Each collected event is a query, the rulebook and its writes: one batch at a time fell
    # behind at 5 orders/s (decision 0028). A lane keeps one order's changes in order.
    assert stack.mapping_of("Trigger")["ParallelizationFactor"] > 1


def test_the_table_is_the_one_the_adapter_writes(stack: PackagedStack) -> None:
    table = stack.resources["Table"]["Properties"]

    assert table["KeySchema"] == KEY_SCHEMA
    assert table["AttributeDefinitions"] == ATTRIBUTE_DEFINITIONS
    assert table["StreamSpecification"] == {"StreamViewType": STREAM_VIEW_TYPE}
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def statements_on(stack: PackagedStack, function: str, resource: Any) -> set[str]:
    return {
        action
        for statement in stack.role_statements(function)
        if statement["Resource"] == resource
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }


def test_the_listener_may_only_collect_and_the_trigger_only_read_and_record(
    stack: PackagedStack,
) -> None:
    table = {"Fn::GetAtt": ["Table", "Arn"]}

    assert statements_on(stack, "Listener", table) == {"dynamodb:PutItem"}
    assert statements_on(stack, "Trigger", table) == {"dynamodb:Query", "dynamodb:PutItem"}
    assert not any(
        a.startswith("dynamodb:") for a in stack.role_actions("Unprocessed") if "Item" in a
    )


def test_the_trigger_keeps_only_its_own_stacks_schedules_and_passes_only_the_timer_role(
    stack: PackagedStack,
) -> None:
    [schedules] = [
        s for s in stack.role_statements("Trigger") if "scheduler:CreateSchedule" in s["Action"]
    ]
    assert sorted(schedules["Action"]) == ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"]
    assert schedules["Resource"]["Fn::Sub"].endswith(":schedule/default/fulfillment-control-test-*")
    [passing] = [s for s in stack.role_statements("Trigger") if s["Action"] == "iam:PassRole"]
    assert passing["Resource"] == {"Fn::GetAtt": ["TimerRole", "Arn"]}
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
    variables = stack.function("Trigger")["Environment"]["Variables"]
    assert variables["TIMER_PREFIX"] == "fulfillment-control-test-"
    assert variables["TIMER_ROLE_ARN"] == {"Fn::GetAtt": ["TimerRole", "Arn"]}


def test_the_timer_role_may_only_put_events_on_the_bus_and_keep_what_it_gave_up_on(
    stack: PackagedStack,
) -> None:
    role = stack.resources["TimerRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    [policy] = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("events:PutEvents", {"Fn::ImportValue": "event-hub-test-BusArn"}),
        ("sqs:SendMessage", {"Fn::GetAtt": ["TimerDeadLetterQueue", "Arn"]}),
    ]


def test_the_payment_window_is_minutes_on_aws(stack: PackagedStack) -> None:
    # (the local stage's, in seconds, where it is deployed: test_local_cloud.py)
    variables = stack.function("Trigger")["Environment"]["Variables"]
    assert variables["PAYMENT_WINDOW_SECONDS"] == str(15 * 60)
    assert variables["CANCELLATION_WINDOW_SECONDS"] == "60"


@pytest.mark.parametrize("function", ["listener", "trigger", "unprocessed"])
def test_each_function_has_a_package_of_the_services_code_and_nothing_else(
    stack: PackagedStack, function: str
) -> None:
    names = assert_package_holds_only(stack, f"{function}.zip", "src/fulfillment_control/")

    assert "src/fulfillment_control/rulebook.py" in names
    assert "src/fulfillment_control/adapters/memory.py" not in names, "the fakes are the tests'"
    assert "src/fulfillment_control/contracts.py" not in names


def test_what_the_stream_mappings_give_up_on_is_parked_by_the_unprocessed_function(
    stack: PackagedStack,
) -> None:
    function = stack.function("Unprocessed")
    assert stack.mapping_of("Unprocessed")["EventSourceArn"] == {
        "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
    }
    module, _, name = function["Handler"].rpartition(".")
    spec = importlib.util.find_spec(module.replace("/", "."))
    assert spec is not None
    assert spec.origin is not None
    assert f"def {name}(" in Path(spec.origin).read_text()
    queue = stack.resources["StreamFailureQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["StreamFailureDeadLetterQueue", "Arn"]
    }


@pytest.mark.skipif(
    os.environ.get("SHOP_SKIP_LAYER_BUILD") == "1", reason="builds the layer: wheels from PyPI"
)
def test_the_layer_holds_every_import_of_the_functions_built_for_the_runtime(
    stack: PackagedStack, tmp_path: Path
) -> None:
    # Given the layer `make package` builds (wheels from uv's cache after the first time)
    layer = Layer.build(SERVICE, tmp_path / "layer")

    # Then it is built for the functions' runtime and machine, and holds what they import
    [architecture] = stack.function("Trigger")["Architectures"]
    assert_layer_is_built_for(
        layer, runtime=runtime_of_this_interpreter(), architecture=architecture
    )
    handler = stack.function("Unprocessed")["Handler"].rpartition(".")[0].replace("/", ".")
    for module in [handler, "shop_envelope", "shop_publisher", "shop_streams", "pydantic", "boto3"]:
        assert layer.has_module(module), module
    assert layer.has_module("aws_lambda_powertools")
    assert not layer.has_module("fulfillment_control"), "the service's own code is its package"
