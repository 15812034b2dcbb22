"""Fixtures: both ports as each of their adapters (in memory; DynamoDB and EventBridge Scheduler
in moto's server, as the local cloud runs them), the store's table shaped as serverless.yml makes
it, and its stream read back as the Lambda events the trigger receives. `moto_server`, `aws` and
`aws_credentials` come from the test kit's pytest plugin, which also sorts the tests into tiers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

import pytest
from fulfillment_control import TIMER_SOURCE
from fulfillment_control.adapters.dynamodb import DynamoDBEventStore
from fulfillment_control.adapters.memory import InMemoryEventStore, InMemoryTimers
from fulfillment_control.adapters.scheduler import SchedulerTimers
from fulfillment_control.ports import EventStore, Timers
from fulfillment_control.table import TTL_ATTRIBUTE, table_definition
from localcloud.aws import Aws
from shop_envelope import EventFactory
from shop_envelope.settings import FunctionSettings
from shop_testkit import TableStream

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-west-1"
TABLE = "fulfillment-control-test"
BUS = "event-hub-test-bus"
TIMER_PREFIX = "fulfillment-control-test-"


def create_table(client: DynamoDBClient, name: str = TABLE) -> None:
    client.create_table(**table_definition(name))
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


@pytest.fixture
def dynamodb(aws: Aws) -> DynamoDBClient:
    """An empty store table."""
    client: DynamoDBClient = aws.client("dynamodb")
    create_table(client)
    return client


@pytest.fixture
def scheduler_timers(aws: Aws) -> SchedulerTimers:
    return SchedulerTimers(
        bus_arn=aws.arn("events", f"event-bus/{BUS}"),
        role_arn=aws.arn("iam", "role/timers"),
        name_prefix=TIMER_PREFIX,
        events=EventFactory(source=TIMER_SOURCE, stage="test"),
        client=aws.client("scheduler"),
    )


# The moto-backed adapters are asked for by name, which the tiers plugin cannot see: marked.
@pytest.fixture(params=["memory", pytest.param("dynamodb", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> EventStore:
    """The event store port, once per adapter: the same test holds for both."""
    if request.param == "memory":
        return InMemoryEventStore()
    return DynamoDBEventStore(TABLE, client=request.getfixturevalue("dynamodb"))


@pytest.fixture(params=["memory", pytest.param("scheduler", marks=pytest.mark.integration)])
def timers(request: pytest.FixtureRequest) -> Timers:
    """The timers port, once per adapter."""
    if request.param == "memory":
        return InMemoryTimers()
    timers: Timers = request.getfixturevalue("scheduler_timers")
    return timers


@pytest.fixture
def table_stream(aws: Aws, dynamodb: DynamoDBClient) -> TableStream:
    """The table's stream: each `read()` returns the records written since the last, as the
    Lambda event the trigger receives."""
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return TableStream(aws.client("dynamodbstreams"), arn, region=REGION)


@pytest.fixture
def table_name() -> str:
    return TABLE


@pytest.fixture
def stack_environment(aws: Aws) -> dict[str, str]:
    """The functions' environment as the stack sets it for stage `test`, against moto."""
    return {
        "POWERTOOLS_SERVICE_NAME": "fulfillment-control",
        "STAGE": "test",
        "BUS_NAME": BUS,
        "TABLE_NAME": TABLE,
        "BUS_ARN": aws.arn("events", f"event-bus/{BUS}"),
        "TIMER_ROLE_ARN": aws.arn("iam", "role/timers"),
        "TIMER_PREFIX": TIMER_PREFIX,
    }


S = TypeVar("S", bound=FunctionSettings)


class SettingsFor(Protocol):
    def __call__(self, settings_class: type[S], function: str, **environment: str) -> S: ...


@pytest.fixture
def settings_for() -> SettingsFor:
    """`settings_for(TriggerSettings, "trigger")`: a function's settings as its stack sets them
    for stage `test`, `environment` on top."""

    def settings(settings_class: type[S], function: str, **environment: str) -> S:
        return settings_class.from_environment(
            {
                "POWERTOOLS_SERVICE_NAME": "fulfillment-control",
                "STAGE": "test",
                "AWS_REGION": REGION,
                "AWS_LAMBDA_FUNCTION_NAME": f"fulfillment-control-test-{function}",
                "BUS_NAME": BUS,
                "TABLE_NAME": TABLE,
                "BUS_ARN": f"arn:aws:events:{REGION}:123456789012:event-bus/{BUS}",
                "TIMER_ROLE_ARN": "arn:aws:iam::123456789012:role/timers",
                "TIMER_PREFIX": TIMER_PREFIX,
                **environment,
            }
        )

    return settings
