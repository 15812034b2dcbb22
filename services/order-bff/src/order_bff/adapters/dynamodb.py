"""The DynamoDB adapter of the view store.

A change is read-compute-write: the item is read (consistently), the change computed by the model,
and the result written on the condition that nobody wrote the item in between (its `revision` is
still the one read, or it still does not exist). A conflict reads again and recomputes, with
jittered backoff; past a few attempts `ViewContention` lets the caller's event source retry later.
A change that returns the view as it was writes nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from order_bff.domain import OrderView, Product
from order_bff.ports import OrderKey, Page
from order_bff.table import (
    BY_CUSTOMER,
    CATALOG_PK,
    PRODUCT_PREFIX,
    REVISION,
    order_item,
    order_key,
    order_of,
    product_item,
    product_key,
    product_of,
    revision_of,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
# BatchGetItem reads at most 100 keys a call.
_BATCH_GET_LIMIT = 100


class ViewContention(Exception):
    """Writers kept changing the item between this one's read and write; try again later."""


def _to_dynamodb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _from_dynamodb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


class DynamoDBViewStore:
    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        max_attempts: int = 6,
        backoff_base_seconds: float = 0.02,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._max_attempts = max_attempts
        self._backoff_base_seconds = backoff_base_seconds
        self._sleep = sleep

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    # ---- orders --------------------------------------------------------------------------------

    def change_order(
        self, order_id: str, change: Callable[[OrderView | None], OrderView]
    ) -> OrderView:
        return self._change(order_key(order_id), order_of, order_item, change)

    def order(self, order_id: str) -> OrderView | None:
        item = self._get(order_key(order_id))
        return order_of(item) if item is not None else None

    def orders_of(
        self, customer_id: str, *, first: int, after: OrderKey | None = None
    ) -> Page[OrderView, OrderKey]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_CUSTOMER,
            "KeyConditionExpression": "customer_id = :customer",
            "ExpressionAttributeValues": {":customer": {"S": customer_id}},
            "ScanIndexForward": False,
            # One more than asked for tells whether there is a next page.
            "Limit": first + 1,
        }
        if after is not None:
            request["ExclusiveStartKey"] = _to_dynamodb(
                {
                    **order_key(after.order_id),
                    "customer_id": customer_id,
                    "placed_at": after.placed_at,
                }
            )
        items = [_from_dynamodb(item) for item in self.client.query(**request)["Items"]]
        orders = [order_of(item) for item in items[:first]]
        return Page(
            tuple(orders),
            tuple(OrderKey(order.created_at, order.id) for order in orders),
            len(items) > first,
        )

    # ---- products ------------------------------------------------------------------------------

    def change_product(self, sku: str, change: Callable[[Product | None], Product]) -> Product:
        return self._change(product_key(sku), product_of, product_item, change)

    def products(self, skus: Iterable[str]) -> dict[str, Product]:
        keys = [product_key(sku) for sku in dict.fromkeys(skus)]
        found: dict[str, Product] = {}
        for start in range(0, len(keys), _BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                self.table_name: {
                    "Keys": [_to_dynamodb(key) for key in keys[start : start + _BATCH_GET_LIMIT]],
                    "ConsistentRead": True,
                }
            }
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                for item in response["Responses"].get(self.table_name, []):
                    product = product_of(_from_dynamodb(item))
                    found[product.sku] = product
                pending = response.get("UnprocessedKeys") or {}
        return found

    def catalog(self, *, first: int, after: str | None = None) -> Page[Product, str]:
        # Products known only by their stock level are not listed: a page is read on until it has
        # `first` listed ones and one more, or the catalog ends.
        listed: list[Product] = []
        start: dict[str, Any] | None = (
            _to_dynamodb(product_key(after)) if after is not None else None
        )
        while len(listed) <= first:
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :catalog AND begins_with(sk, :product)",
                "ExpressionAttributeValues": {
                    ":catalog": {"S": CATALOG_PK},
                    ":product": {"S": PRODUCT_PREFIX},
                },
                "Limit": first + 1,
            }
            if start is not None:
                request["ExclusiveStartKey"] = start
            response = self.client.query(**request)
            listed.extend(
                product
                for item in response["Items"]
                if (product := product_of(_from_dynamodb(item))).is_listed
            )
            start = response.get("LastEvaluatedKey")
            if start is None:
                break
        page = listed[:first]
        return Page(tuple(page), tuple(p.sku for p in page), len(listed) > first)

    # ---- one item, changed atomically ----------------------------------------------------------

    def _get(self, key: Mapping[str, str]) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=_to_dynamodb(key), ConsistentRead=True
        )
        item = response.get("Item")
        return _from_dynamodb(item) if item else None

    def _change[V](
        self,
        key: Mapping[str, str],
        read: Callable[[Mapping[str, Any]], V],
        write: Callable[..., dict[str, Any]],
        change: Callable[[V | None], V],
    ) -> V:
        for attempt in range(self._max_attempts):
            item = self._get(key)
            current = read(item) if item is not None else None
            changed = change(current)
            if current is not None and changed == current:
                return current
            revision = revision_of(item)
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(pk)"}
                if item is None
                else {
                    "ConditionExpression": "#revision = :revision",
                    "ExpressionAttributeNames": {"#revision": REVISION},
                    "ExpressionAttributeValues": {":revision": {"N": str(revision)}},
                }
            )
            try:
                self.client.put_item(
                    TableName=self.table_name,
                    Item=_to_dynamodb(write(changed, revision=revision + 1)),
                    **condition,
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                self._sleep(random.uniform(0, self._backoff_base_seconds * 2**attempt))
                continue
            return changed
        raise ViewContention(f"{key}: changed by others {self._max_attempts} times in a row")
