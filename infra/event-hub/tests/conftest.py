"""Fixtures: an in-process moto account (unit tests touch no network) with the fault table made
as serverless.yml makes it, and fault events shaped as shop_streams publishes them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from event_hub.parked import FaultStore, table_definition
from moto import mock_aws
from shop_envelope import FaultEvent
from shop_testkit import kinesis_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-west-1"
TABLE = "event-hub-test-faults"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    """An empty fault table in a fake account; nothing can reach a real one."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**table_definition(TABLE))
        yield client


class Clock:
    """Epoch milliseconds that move only when a test says so."""

    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(dynamodb: DynamoDBClient, clock: Clock) -> FaultStore:
    return FaultStore(TABLE, client=dynamodb, clock=clock)


MakeFault = Callable[..., FaultEvent]


@pytest.fixture
def make_fault() -> MakeFault:
    """`make_fault(sequence=1, error_type=..., message=..., timestamp=..., attempts=...)`: the fault
    a listener publishes for a Kinesis record it failed on; the same sequence, the same fault id."""

    def fault(
        sequence: int = 1,
        *,
        error_type: str = "RuntimeError",
        message: str = "boom",
        timestamp: int = 1_700_000_000_000,
        attempts: int = 1,
        function: str = "inventory-test-listener",
    ) -> FaultEvent:
        failed: dict[str, Any] = {
            "id": f"order-placed-{sequence}",
            "type": "order-placed",
            "timestamp": timestamp - 10,
            "partitionKey": f"order-{sequence}",
            "tags": {"source": "order-bff"},
            "order": {"total": 19.99},
        }
        [record] = kinesis_event(json.dumps(failed), first_sequence=sequence)["Records"]
        return FaultEvent.model_validate(
            {
                "id": f"fault-{function}-{sequence}",
                "timestamp": timestamp,
                "partitionKey": f"order-{sequence}",
                "tags": {"source": "inventory", "functionName": function},
                "fault": {
                    "errorType": error_type,
                    "message": message,
                    "eventSource": "aws:kinesis",
                    "recordId": record["eventID"],
                    "eventId": failed["id"],
                    "eventType": failed["type"],
                    "record": record,
                    "attempts": attempts,
                },
            }
        )

    return fault
