"""What `serverless package` makes of the event hub's serverless.yml, checked offline: the park
function's mapping and queue never lose a fault, its role allows only what it does, and the
table is the one the store writes."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from event_hub.parked import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA

STACK = Path(__file__).resolve().parents[1]
SERVERLESS = STACK.parents[1] / "make" / "serverless"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("package")
    subprocess.run(
        [str(SERVERLESS), "package", "--stage", "test", "--package", str(output)],
        cwd=STACK,
        check=True,
        capture_output=True,
    )
    return output


@pytest.fixture(scope="module")
def template(package: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (package / "cloudformation-template-update-stack.json").read_text()
    )
    return loaded


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = template["Resources"]
    return resources


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


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
    assert function["Runtime"] == "python3.13"
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


def test_the_package_carries_the_park_functions_code_and_nothing_else(package: Path) -> None:
    with zipfile.ZipFile(package / "event-hub.zip") as archive:
        names = archive.namelist()

    assert "src/event_hub/handlers/park.py" in names
    assert "src/event_hub/parked.py" in names
    assert not [name for name in names if not name.startswith("src/event_hub/")]
    assert not [name for name in names if "__pycache__" in name]
