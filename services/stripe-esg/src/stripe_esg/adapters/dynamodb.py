"""The payment ledger on DynamoDB: conditional writes make "one intent per order", "forward
only" and "ingested once" hold under concurrent deliveries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from stripe_esg.domain import Money, Payment, PaymentStatus
from stripe_esg.table import TTL_ATTRIBUTE, ingested_key, payment_key, payment_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
# A conflicting writer moved the status between our read and our write: read again, decide again.
_ADVANCE_ATTEMPTS = 5


def _dump(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _SERIALIZER.serialize(value) for key, value in values.items()}


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _DESERIALIZER.deserialize(value) for key, value in item.items()}


def _conditional_failed(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoDBPaymentLedger:
    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = boto3.client("dynamodb")
        return self._client

    def payment(self, order_id: str) -> Payment | None:
        item = self.client.get_item(
            TableName=self._table, Key=_dump(payment_key(order_id)), ConsistentRead=True
        ).get("Item")
        return payment_of(_load(item)) if item else None

    def record_intent(self, order_id: str, intent_id: str, amount: Money) -> Payment:
        try:
            item = self.client.update_item(
                TableName=self._table,
                Key=_dump(payment_key(order_id)),
                UpdateExpression=(
                    "SET order_id = :order, intent_id = :intent, amount = :amount, "
                    "currency = :currency, #status = if_not_exists(#status, :created)"
                ),
                ConditionExpression="attribute_not_exists(intent_id)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_dump(
                    {
                        ":order": order_id,
                        ":intent": intent_id,
                        ":amount": amount.amount,
                        ":currency": amount.currency,
                        ":created": str(PaymentStatus.CREATED),
                    }
                ),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            kept = self.payment(order_id)
            assert kept is not None, "the condition failed on an item that exists"
            return kept
        return payment_of(_load(item))

    def end_order(self, order_id: str) -> Payment:
        item = self.client.update_item(
            TableName=self._table,
            Key=_dump(payment_key(order_id)),
            UpdateExpression="SET order_id = :order, order_ended = :true",
            ExpressionAttributeValues=_dump({":order": order_id, ":true": True}),
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return payment_of(_load(item))

    def advance(
        self, order_id: str, status: PaymentStatus, *, cause: str, refund_id: str | None = None
    ) -> Payment:
        for _ in range(_ADVANCE_ATTEMPTS):
            kept = self.payment(order_id)
            if kept is None or kept.intent_id is None:
                raise LookupError(f"order {order_id} has no intent")
            if not kept.status.moves_to(status):
                return kept
            values: dict[str, Any] = {
                ":status": str(status),
                ":read": str(kept.status),
                ":cause": cause,
            }
            update = "SET #status = :status, moved_by = :cause"
            if refund_id is not None:
                update += ", refund_id = :refund"
                values[":refund"] = refund_id
            try:
                item = self.client.update_item(
                    TableName=self._table,
                    Key=_dump(payment_key(order_id)),
                    UpdateExpression=update,
                    ConditionExpression="#status = :read",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=_dump(values),
                    ReturnValues="ALL_NEW",
                )["Attributes"]
            except ClientError as error:
                if not _conditional_failed(error):
                    raise
                continue
            return payment_of(_load(item))
        raise RuntimeError(f"order {order_id}'s payment kept changing under {status}")

    def seen(self, stripe_event_id: str) -> bool:
        return "Item" in self.client.get_item(
            TableName=self._table, Key=_dump(ingested_key(stripe_event_id)), ConsistentRead=True
        )

    def remember(self, stripe_event_id: str, *, expires_at: int) -> None:
        try:
            self.client.put_item(
                TableName=self._table,
                Item=_dump({**ingested_key(stripe_event_id), TTL_ATTRIBUTE: expires_at}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
