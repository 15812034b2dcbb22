"""What `serverless package` makes of serverless.yml, checked offline: the reliability settings AWS
leaves unsafe by default, least-privilege roles, and the table and filters the code relies on."""

import importlib.util
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from inventory.adapters.items import (
    ATTRIBUTE_DEFINITIONS,
    EXPIRY_SK,
    KEY_SCHEMA,
    PRODUCT_SK,
    RESERVATION_SK,
    STREAM_VIEW_TYPE,
    TTL_ATTRIBUTE,
)
from inventory.events import CONSUMED

SERVICE = Path(__file__).resolve().parents[1]
SERVERLESS = SERVICE.parents[1] / "make" / "serverless"
FUNCTIONS = ("Listener", "Trigger", "Expiry")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("package")
    subprocess.run(
        [str(SERVERLESS), "package", "--stage", "test", "--package", str(output)],
        cwd=SERVICE,
        check=True,
        capture_output=True,
    )
    return output


@pytest.fixture(scope="module")
def resources(package: Path) -> dict[str, Any]:
    template = json.loads((package / "cloudformation-template-update-stack.json").read_text())
    resources: dict[str, Any] = template["Resources"]
    return resources


def of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == kind}


def mapping_of(resources: dict[str, Any], function: str) -> dict[str, Any]:
    [properties] = [
        p
        for name, p in of_type(resources, "AWS::Lambda::EventSourceMapping").items()
        if name.startswith(function)
    ]
    return properties


def filter_of(mapping: dict[str, Any]) -> dict[str, Any]:
    [entry] = mapping["FilterCriteria"]["Filters"]
    pattern: dict[str, Any] = json.loads(entry["Pattern"])
    return pattern


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_stream_mapping_retries_finitely_reports_partial_failures_and_parks_the_rest(
    resources: dict[str, Any], function: str
) -> None:
    mapping = mapping_of(resources, function)

    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 3600
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
    }
    assert mapping["StartingPosition"] == "TRIM_HORIZON", "nothing written before it is missed"


def test_the_listener_lets_through_exactly_the_events_it_consumes(
    resources: dict[str, Any],
) -> None:
    pattern = filter_of(mapping_of(resources, "Listener"))

    assert sorted(pattern["data"]["type"]) == sorted(c.event_type for c in CONSUMED)


def test_the_trigger_and_expiry_share_the_table_stream_between_them(
    resources: dict[str, Any],
) -> None:
    trigger = filter_of(mapping_of(resources, "Trigger"))
    expiry = filter_of(mapping_of(resources, "Expiry"))

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


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_has_a_role_of_its_own_allowing_only_what_it_does(
    resources: dict[str, Any], function: str
) -> None:
    lambda_function = resources[f"{function}LambdaFunction"]["Properties"]
    assert lambda_function["Role"] == {"Fn::GetAtt": [f"{function}Role", "Arn"]}
    assert lambda_function["Runtime"] == "python3.13"
    assert lambda_function["Environment"]["Variables"]["PYTHONPATH"] == "/var/task/src"

    [policy] = resources[f"{function}Role"]["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all(not action.endswith("*") for action in actions), statement
        if statement["Resource"] == "*":
            # X-Ray takes no resource; Lambda lists streams before it reads the one mapped.
            assert set(actions) <= {
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "kinesis:ListStreams",
            }, statement
    granted = {
        action
        for s in statements
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    writes_table = {"dynamodb:PutItem", "dynamodb:UpdateItem"} <= granted
    assert writes_table == (function in ("Listener", "Expiry")), "only those two write stock"
    assert "events:PutEvents" in granted, "every function publishes (events or faults)"


def test_the_package_carries_the_functions_code_and_nothing_else(package: Path) -> None:
    with zipfile.ZipFile(package / "inventory.zip") as archive:
        names = archive.namelist()

    assert "src/inventory/handlers/listener.py" in names
    assert "src/inventory/handlers/trigger.py" in names
    assert "src/inventory/handlers/expiry.py" in names
    assert not [name for name in names if not name.startswith("src/inventory/")]
    assert "src/inventory/cli.py" not in names, "the command line is not a function's"
    assert not [name for name in names if "__pycache__" in name]


def test_what_the_stream_mappings_give_up_on_is_parked_by_the_unprocessed_function(
    resources: dict[str, Any],
) -> None:
    # The failure queue every stream mapping sends its pointers to is read by one function
    function = resources["UnprocessedLambdaFunction"]["Properties"]
    mapping = mapping_of(resources, "Unprocessed")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # whose handler is shop-streams' own, as it ships (found, not imported: it reads its settings)
    module, _, name = function["Handler"].rpartition(".")
    spec = importlib.util.find_spec(module.replace("/", "."))
    assert spec is not None
    assert spec.origin is not None
    assert f"def {name}(" in Path(spec.origin).read_text()
    # and a pointer it cannot read back is kept on a dead-letter queue, never dropped
    queue = resources["StreamFailureQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["StreamFailureDeadLetterQueue", "Arn"]
    }
    assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 20
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]

    [policy] = resources["UnprocessedRole"]["Properties"]["Policies"]
    granted = {
        action
        for s in policy["PolicyDocument"]["Statement"]
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert granted == {
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
