"""The store of parked faults: one DynamoDB item per fault id, however often the fault arrives.

A fault's id is deterministic (function, source, record id), so every failure of one record in one
function lands on the same item: its attempts add up, its first error and time are kept, its last
ones replaced. Parking is a single UpdateItem, so a fault delivered twice, or by two concurrent
invocations, still leaves one item and loses no attempt.

Item (attribute names as stored):

    faultId        S   the fault event's id (hash key)
    function       S   tags.functionName: the function to resubmit the record to
    source         S   tags.source: the service that owns that function
    eventSource    S   aws:kinesis | aws:sqs | aws:dynamodb | aws:events
    recordId       S   the record's id at its source
    eventId        S   the failed event's id, or NULL when it did not parse
    eventType      S   the failed event's type, or NULL
    partitionKey   S   the fault's partition key (the order id when the event parsed)
    status         S   parked | resubmitted
    attempts       N   the sum of the faults' `attempts`, plus one per failed resubmission
    firstError     M   {type, message} of the first fault
    lastError      M   {type, message} of the latest fault or failed resubmission
    firstSeenAt    N   epoch ms of the first fault
    lastSeenAt     N   epoch ms of the latest fault or failed resubmission
    resubmittedAt  N   epoch ms of the latest resubmission (absent until one)
    envelope       S   the latest fault event as JSON: the record exactly as it was delivered
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from shop_envelope import FaultEvent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PaginatorConfigTypeDef

Status = Literal["parked", "resubmitted"]
PARKED: Status = "parked"
RESUBMITTED: Status = "resubmitted"

HASH_KEY = "faultId"
KEY_SCHEMA = [{"AttributeName": HASH_KEY, "KeyType": "HASH"}]
ATTRIBUTE_DEFINITIONS = [{"AttributeName": HASH_KEY, "AttributeType": "S"}]

# Record types whose Lambda event is a batch of records; any other record is the event itself.
_BATCHED_SOURCES = ("aws:kinesis", "aws:sqs", "aws:dynamodb")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def table_definition(name: str) -> dict[str, Any]:
    """The table as serverless.yml declares it, for tests and for creating it by hand."""
    return {
        "TableName": name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "BillingMode": "PAY_PER_REQUEST",
    }


@dataclass(frozen=True, slots=True)
class SeenError:
    type: str
    message: str

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParkedFault:
    """One item of the store, read back."""

    fault_id: str
    function: str | None
    source: str | None
    event_source: str
    record_id: str
    event_id: str | None
    event_type: str | None
    partition_key: str
    status: Status
    attempts: int
    first_error: SeenError
    last_error: SeenError
    first_seen_at: int
    last_seen_at: int
    resubmitted_at: int | None
    envelope: str

    @property
    def record(self) -> dict[str, Any]:
        """The failed record, exactly as its function received it."""
        record: dict[str, Any] = json.loads(self.envelope)["fault"]["record"]
        return record

    def payload(self) -> bytes:
        """What the function receives again: a batch of one, or the EventBridge event itself."""
        record = self.record
        if record.get("eventSource") in _BATCHED_SOURCES:
            return json.dumps({"Records": [record]}).encode()
        return json.dumps(record).encode()

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ParkedFault:
        values = {name: _deserializer.deserialize(value) for name, value in item.items()}
        return cls(
            fault_id=values[HASH_KEY],
            function=values.get("function"),
            source=values.get("source"),
            event_source=values["eventSource"],
            record_id=values["recordId"],
            event_id=values.get("eventId"),
            event_type=values.get("eventType"),
            partition_key=values["partitionKey"],
            status=values["status"],
            attempts=int(values["attempts"]),
            first_error=SeenError(**values["firstError"]),
            last_error=SeenError(**values["lastError"]),
            first_seen_at=int(values["firstSeenAt"]),
            last_seen_at=int(values["lastSeenAt"]),
            resubmitted_at=_int_or_none(values.get("resubmittedAt")),
            envelope=values["envelope"],
        )


class FaultStore:
    """Parked faults in one DynamoDB table. The client is created on first use (never at import)
    and can be injected, so tests hand in moto's and Lambda's cold start makes none it won't use."""

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._clock = clock

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    def park(self, fault: FaultEvent, *, envelope: str | None = None) -> None:
        """Park a fault, or count it on the fault already parked under its id.

        `envelope` is the fault event as it arrived, when the caller has it verbatim."""
        details = fault.fault
        error = {"type": details.error_type, "message": details.message}
        self._update(
            fault.id,
            "SET #function = :function, #source = :source, eventSource = :eventSource,"
            " recordId = :recordId, eventId = :eventId, eventType = :eventType,"
            " partitionKey = :partitionKey, #status = :parked, lastError = :error,"
            " lastSeenAt = :seenAt, envelope = :envelope,"
            " firstError = if_not_exists(firstError, :error),"
            " firstSeenAt = if_not_exists(firstSeenAt, :seenAt)"
            " ADD attempts :attempts",
            {
                ":function": fault.tags.function_name,
                ":source": fault.tags.source,
                ":eventSource": details.event_source,
                ":recordId": details.record_id,
                ":eventId": details.event_id,
                ":eventType": details.event_type,
                ":partitionKey": fault.partition_key,
                ":parked": PARKED,
                ":error": error,
                ":seenAt": fault.timestamp,
                ":envelope": envelope if envelope is not None else fault.to_json(),
                ":attempts": details.attempts,
            },
        )

    def mark_resubmitted(self, fault_id: str, *, even_if_resubmitted: bool = False) -> bool:
        """Mark a parked fault resubmitted; False when it is not parked (another resubmission
        took it, or it is gone), so one fault is never resubmitted twice by accident."""
        condition = "attribute_exists(faultId)" + (
            "" if even_if_resubmitted else " AND #status = :parked"
        )
        try:
            self._update(
                fault_id,
                "SET #status = :resubmitted, resubmittedAt = :now",
                {":resubmitted": RESUBMITTED, ":now": self._clock()}
                | ({} if even_if_resubmitted else {":parked": PARKED}),
                condition=condition,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def failed_again(self, fault_id: str, error_type: str, message: str) -> None:
        """A resubmission that failed: parked again, one attempt more, its error the last."""
        self._update(
            fault_id,
            "SET #status = :parked, lastError = :error, lastSeenAt = :now ADD attempts :one",
            {
                ":parked": PARKED,
                ":error": {"type": error_type, "message": message},
                ":now": self._clock(),
                ":one": 1,
            },
            condition="attribute_exists(faultId)",
        )

    def get(self, fault_id: str) -> ParkedFault | None:
        item = self.client.get_item(
            TableName=self.table_name, Key={HASH_KEY: {"S": fault_id}}, ConsistentRead=True
        ).get("Item")
        return ParkedFault.from_item(item) if item else None

    def pages(self, *, page_size: int | None = None) -> Iterator[list[ParkedFault]]:
        """Every parked fault, one Scan page at a time, to the last page."""
        config: PaginatorConfigTypeDef = {"PageSize": page_size} if page_size else {}
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table_name, PaginationConfig=config):
            yield [ParkedFault.from_item(item) for item in page.get("Items", [])]

    def all(self, *, page_size: int | None = None) -> list[ParkedFault]:
        """Every parked fault, oldest first."""
        faults = [fault for page in self.pages(page_size=page_size) for fault in page]
        return sorted(faults, key=lambda fault: (fault.first_seen_at, fault.fault_id))

    def _update(
        self,
        fault_id: str,
        expression: str,
        values: Mapping[str, Any],
        *,
        condition: str | None = None,
    ) -> None:
        # Only the placeholders an expression uses may be passed: DynamoDB rejects unused ones.
        text = expression + (condition or "")
        names = {
            placeholder: name
            for placeholder, name in (
                ("#function", "function"),
                ("#source", "source"),
                ("#status", "status"),
            )
            if placeholder in text
        }
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {HASH_KEY: {"S": fault_id}},
            "UpdateExpression": expression,
            "ExpressionAttributeValues": {
                name: _serializer.serialize(value) for name, value in values.items()
            },
        }
        if names:
            request["ExpressionAttributeNames"] = names
        if condition:
            request["ConditionExpression"] = condition
        self.client.update_item(**request)


def _int_or_none(value: Decimal | None) -> int | None:
    return None if value is None else int(value)
