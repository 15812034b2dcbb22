"""The DynamoDB adapter of the event store: one partition per order, every item written once.

- Collecting is a PutItem conditional on the item not existing: a duplicate event (same id) is
  the same item and changes nothing, so it puts nothing on the table's stream either.
- Deciding is a PutItem of the order's one `OUTCOME` item, conditional on there being none; the
  outcome already there is returned when the condition fails, so of two racing evaluations the
  first stands and the second learns it.
- Reading an order is one strongly consistent Query of its partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from fulfillment_control.domain import Collected, Fact, OrderRecord
from fulfillment_control.model import DEFAULT_RETENTION_SECONDS
from fulfillment_control.table import (
    event_item,
    event_of,
    fact_item,
    fact_of,
    is_event,
    order_key,
    outcome_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_NEW = "attribute_not_exists(pk)"


def _to_dynamodb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _from_dynamodb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


class DynamoDBEventStore:
    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        retention_seconds: int = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._retention = retention_seconds

    @property
    def client(self) -> DynamoDBClient:
        # Created on first use: importing or building the store never touches AWS.
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    def collect(self, event: Collected) -> bool:
        return self._put_new(event_item(event, retention_seconds=self._retention)) is None

    def record_of(self, order_id: str) -> OrderRecord:
        events: list[Collected] = []
        facts: list[Fact] = []
        outcome: Fact | None = None
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": order_key(order_id)}},
            ConsistentRead=True,
        )
        for page in pages:
            for raw in page.get("Items", []):
                item = _from_dynamodb(raw)
                if is_event(item):
                    events.append(event_of(item))
                elif item["sk"] == outcome_key(order_id)["sk"]:
                    outcome = fact_of(item)
                else:
                    facts.append(fact_of(item))
        return OrderRecord(
            order_id, frozenset(events), outcome, frozenset(fact.rule for fact in facts)
        )

    def decide(self, outcome: Fact) -> Fact:
        if not outcome.terminal:
            raise ValueError("only a terminal fact is an order's outcome")
        existing = self._put_new(fact_item(outcome, retention_seconds=self._retention))
        return outcome if existing is None else fact_of(existing)

    def record(self, fact: Fact) -> bool:
        if fact.terminal:
            raise ValueError("a terminal fact is recorded with decide()")
        return self._put_new(fact_item(fact, retention_seconds=self._retention)) is None

    def _put_new(self, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """Put the item unless its key exists: None when it was put, else the item there."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_to_dynamodb(item),
                ConditionExpression=_NEW,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # ALL_OLD: a failed condition returns the item that failed it.
            existing: Any = error.response.get("Item", {})
            return _from_dynamodb(existing)
        return None
