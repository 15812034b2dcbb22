"""What `serverless package` makes of the event hub's serverless.yml, checked offline: the park
function's mapping and queue never lose a fault, its role allows only what it does, and the
table is the one the store writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from event_hub.parked import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA
from shop_testkit.serverless import (
    PackagedStack,
    actions_of,
    assert_functions_use_the_layer,
    assert_least_privilege,
    assert_package_holds_only,
    assert_queue_sources_are_safe,
    assert_runtime_is_the_interpreters,
)

STACK = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> PackagedStack:
    return PackagedStack.package(STACK, tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="module")
def template(stack: PackagedStack) -> dict[str, Any]:
    return stack.template


@pytest.fixture(scope="module")
def resources(stack: PackagedStack) -> dict[str, Any]:
    return stack.resources


def test_the_park_function_is_safe_on_its_queue_on_the_tested_python_with_its_own_role(
    stack: PackagedStack,
) -> None:
    assert_queue_sources_are_safe(stack)
    assert_runtime_is_the_interpreters(stack)
    assert_least_privilege(stack)
    assert_functions_use_the_layer(stack)


def test_the_park_function_reads_the_fault_queue_reporting_each_failed_message(
    resources: dict[str, Any],
) -> None:
    [mapping] = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]

    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["FaultQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10


def test_what_the_park_function_cannot_park_goes_to_a_dead_letter_queue(
    resources: dict[str, Any],
) -> None:
    queue = resources["FaultQueue"]["Properties"]
    function = resources["ParkLambdaFunction"]["Properties"]

    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["FaultDeadLetterQueue", "Arn"]}
    assert 1 <= redrive["maxReceiveCount"] <= 10
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"], "AWS advises 6x the timeout"
    dead_letters = resources["FaultDeadLetterQueue"]["Properties"]
    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dead_letters["SqsManagedSseEnabled"] is True


def test_the_park_function_has_a_role_of_its_own_allowing_only_what_it_does(
    resources: dict[str, Any],
) -> None:
    function = resources["ParkLambdaFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["ParkRole", "Arn"]}
    assert function["Architectures"] == ["arm64"]
    assert function["Environment"]["Variables"]["PYTHONPATH"] == "/var/task/src"
    assert function["Environment"]["Variables"]["FAULT_TABLE_NAME"] == {"Ref": "FaultTable"}

    [policy] = resources["ParkRole"]["Properties"]["Policies"]
    granted = {
        (action, json.dumps(statement["Resource"], sort_keys=True))
        for statement in policy["PolicyDocument"]["Statement"]
        for action in actions_of(statement)
    }
    log_group = json.dumps({"Fn::GetAtt": ["ParkLogGroup", "Arn"]})
    table = json.dumps({"Fn::GetAtt": ["FaultTable", "Arn"]})
    queue = json.dumps({"Fn::GetAtt": ["FaultQueue", "Arn"]})
    assert granted == {
        ("logs:CreateLogStream", log_group),
        ("logs:PutLogEvents", log_group),
        ("dynamodb:UpdateItem", table),
        ("sqs:ReceiveMessage", queue),
        ("sqs:DeleteMessage", queue),
        ("sqs:GetQueueAttributes", queue),
        ("sqs:ChangeMessageVisibility", queue),
    }, "no events:PutEvents: a fault of a fault would come back to the parker"


def test_the_fault_table_is_the_one_the_store_writes_encrypted_and_recoverable(
    resources: dict[str, Any],
) -> None:
    table = resources["FaultTable"]["Properties"]

    assert table["KeySchema"] == KEY_SCHEMA
    assert table["AttributeDefinitions"] == ATTRIBUTE_DEFINITIONS
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_the_fault_table_is_exported_for_the_tools_that_list_faults(
    template: dict[str, Any],
) -> None:
    output = template["Outputs"]["FaultTableName"]

    assert output["Value"] == {"Ref": "FaultTable"}
    assert output["Export"]["Name"] == "event-hub-test-FaultTableName"


def test_the_package_carries_the_park_functions_code_and_nothing_else(
    stack: PackagedStack,
) -> None:
    names = assert_package_holds_only(stack, "event-hub.zip", "src/event_hub/")

    assert "src/event_hub/handlers/park.py" in names
    assert "src/event_hub/parked.py" in names


def test_the_sealing_key_is_rotated_kept_and_exported_for_the_services_that_seal(
    resources: dict[str, Any], template: dict[str, Any]
) -> None:
    key = resources["SealingKey"]
    statements = key["Properties"]["KeyPolicy"]["Statement"]

    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain", "sealed values in the lake outlive any deployment"
    assert [s["Principal"] for s in statements] == [
        {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    ], "the key policy delegates to IAM, so only roles granted kms:Decrypt can unseal"
    assert resources["SealingKeyAlias"]["Properties"]["TargetKeyId"] == {"Ref": "SealingKey"}
    assert template["Outputs"]["SealingKeyArn"] == {
        "Value": {"Fn::GetAtt": ["SealingKey", "Arn"]},
        "Export": {"Name": "event-hub-test-SealingKeyArn"},
    }
