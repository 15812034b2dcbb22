"""The DynamoDB adapter of the stock ledger: conditional writes and transactions keep the rules.

- Reserving is one transaction: the reservation is created only if the order has none, its expiry
  timer is set, and each line is held only if "available >= quantity". Any failed condition
  cancels all of it; the cancellation reasons say which line was short and how many were left.
- Settling (release or commit) is one transaction conditional on the reservation still being
  RESERVED, so two deliveries of the same event, or a release racing a commit, settle it once.
- Transactions that conflict with concurrent ones on the same items are retried with jittered
  backoff; past that, `StockContention` lets the event source retry the record later.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from shop_envelope import now_ms

from inventory.domain import (
    InsufficientStock,
    InventoryError,
    Product,
    ReleaseReason,
    Reservation,
    ReservationExists,
    ReservationNotFound,
    ReservationSettled,
    ReservationStatus,
    Shortage,
    StockContention,
    StockLevel,
    UnknownProduct,
)
from inventory.ports import Settlement
from inventory.table import (
    expiry_item,
    expiry_key,
    product_key,
    reservation_item,
    reservation_key,
    reservation_of,
    stock_of,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Expressions name every attribute through a placeholder: several (status, name, ttl) are words
# DynamoDB reserves, and one rule for all is easier to read than a list of exceptions.
_NAMES = {
    f"#{name}": name
    for name in (
        "pk",
        "kind",
        "sku",
        "name",
        "price_amount",
        "currency",
        "on_hand",
        "reserved",
        "available",
        "version",
        "changed_at",
        "status",
        "reason",
    )
}


# Every write moves `version` on and stamps `changed_at`, which the trigger turns into event
# versions and timestamps.
_STAMP = "#changed_at = :now ADD #version :one"
# The stock movements, each a conditional update of one product item: the condition is the rule.
_HOLD = f"SET #available = #available - :quantity, #reserved = #reserved + :quantity, {_STAMP}"
_ENOUGH_AVAILABLE = "#available >= :quantity"
_GIVE_BACK = f"SET #reserved = #reserved - :quantity, #available = #available + :quantity, {_STAMP}"
_HELD = "#reserved >= :quantity"
_TAKE_OFF_SHELF = (
    f"SET #reserved = #reserved - :quantity, #on_hand = #on_hand - :quantity, {_STAMP}"
)
_HELD_AND_ON_HAND = "#reserved >= :quantity AND #on_hand >= :quantity"
_RESTOCK = f"SET #on_hand = #on_hand + :quantity, #available = #available + :quantity, {_STAMP}"
# A reservation is created once and settled once.
_NEW = "attribute_not_exists(#pk)"
_STILL_RESERVED = "#status = :reserved"


class LedgerInconsistent(InventoryError):
    """A settlement found a product holding fewer units than the reservation says it holds."""


def _to_dynamodb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _from_dynamodb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _names(*expressions: str) -> dict[str, str]:
    """The placeholders the expressions use, and only those (DynamoDB rejects unused ones)."""
    text = " ".join(expressions)
    return {placeholder: name for placeholder, name in _NAMES.items() if placeholder in text}


def _values(**values: Any) -> dict[str, Any]:
    return {f":{name}": _serializer.serialize(value) for name, value in values.items()}


class DynamoDBStockLedger:
    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        clock: Callable[[], int] = now_ms,
        max_attempts: int = 5,
        backoff_base_seconds: float = 0.02,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._sleep = sleep

    @property
    def client(self) -> DynamoDBClient:
        # Created on first use: importing or building the ledger never touches AWS.
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    # ---- reservations --------------------------------------------------------------------------

    def reserve(self, reservation: Reservation) -> None:
        now = self._clock()
        operations: list[Any] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _to_dynamodb(reservation_item(reservation, changed_at=now)),
                    "ConditionExpression": _NEW,
                    "ExpressionAttributeNames": _names(_NEW),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {"Put": {"TableName": self.table_name, "Item": _to_dynamodb(expiry_item(reservation))}},
            *(
                self._update(
                    product_key(line.sku),
                    _HOLD,
                    _ENOUGH_AVAILABLE,
                    {"quantity": line.quantity, "now": now, "one": 1},
                    return_old=True,
                )
                for line in reservation.lines
            ),
        ]
        reasons = self._transact(operations)
        if reasons is None:
            return
        if _failed_condition(reasons[0]):
            existing = _old_item(reasons[0])
            status = ReservationStatus(existing["status"]) if existing else None
            raise ReservationExists(
                reservation.order_id, status or self._status(reservation.order_id)
            )
        shortages = [
            Shortage(line.sku, line.quantity, int((_old_item(reason) or {}).get("available", 0)))
            for line, reason in zip(reservation.lines, reasons[2:], strict=True)
            if _failed_condition(reason)
        ]
        if not shortages:
            raise _unexpected(reasons)
        raise InsufficientStock(shortages)

    def record(self, reservation: Reservation) -> None:
        if reservation.holding():
            raise ValueError("a reservation that holds stock is made with reserve()")
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_to_dynamodb(reservation_item(reservation, changed_at=self._clock())),
                ConditionExpression=_NEW,
                ExpressionAttributeNames=_names(_NEW),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            existing: Any = error.response.get("Item")
            status = (
                ReservationStatus(_from_dynamodb(existing)["status"])
                if existing
                else self._status(reservation.order_id)
            )
            raise ReservationExists(reservation.order_id, status) from None

    def settle(
        self, order_id: str, outcome: Settlement, reason: ReleaseReason | None = None
    ) -> Reservation:
        reservation = self.reservation(order_id)
        if reservation is None:
            raise ReservationNotFound(order_id)
        if reservation.is_settled:
            raise ReservationSettled(order_id, reservation.status)
        now = self._clock()
        settle, values = f"SET #status = :outcome, {_STAMP}", {"outcome": str(outcome)}
        if reason is not None:
            settle, values = (
                f"SET #status = :outcome, #reason = :reason, {_STAMP}",
                {
                    "outcome": str(outcome),
                    "reason": str(reason),
                },
            )
        movement, condition = (
            (_GIVE_BACK, _HELD)
            if outcome is ReservationStatus.RELEASED
            else (_TAKE_OFF_SHELF, _HELD_AND_ON_HAND)
        )
        operations: list[Any] = [
            self._update(
                reservation_key(order_id),
                settle,
                _STILL_RESERVED,
                {**values, "reserved": str(ReservationStatus.RESERVED), "now": now, "one": 1},
                return_old=True,
            ),
            {"Delete": {"TableName": self.table_name, "Key": _to_dynamodb(expiry_key(order_id))}},
            *(
                self._update(
                    product_key(line.sku),
                    movement,
                    condition,
                    {"quantity": line.quantity, "now": now, "one": 1},
                )
                for line in reservation.lines
            ),
        ]
        reasons = self._transact(operations)
        if reasons is None:
            return Reservation(
                order_id, outcome, reservation.lines, reservation.expires_at, reason=reason
            )
        if _failed_condition(reasons[0]):
            existing = _old_item(reasons[0])
            status = ReservationStatus(existing["status"]) if existing else self._status(order_id)
            raise ReservationSettled(order_id, status)
        if any(_failed_condition(r) for r in reasons[2:]):
            raise LedgerInconsistent(
                f"order {order_id}: a product holds fewer units than its reservation"
            )
        raise _unexpected(reasons)

    def reservation(self, order_id: str) -> Reservation | None:
        item = self._get(reservation_key(order_id))
        return reservation_of(item) if item else None

    # ---- the catalog ---------------------------------------------------------------------------

    def stock(self, sku: str) -> StockLevel | None:
        item = self._get(product_key(sku))
        return stock_of(item) if item else None

    def list_product(self, product: Product, *, initial_stock: int) -> bool:
        update = (
            "SET #kind = :kind, #sku = :sku, #name = :name, #price_amount = :amount, "
            "#currency = :currency, #on_hand = if_not_exists(#on_hand, :stock), "
            "#reserved = if_not_exists(#reserved, :zero), "
            f"#available = if_not_exists(#available, :stock), {_STAMP}"
        )
        # Unchanged products are not written: a write would publish events that say nothing.
        changed = (
            "attribute_not_exists(#pk) OR #name <> :name OR #price_amount <> :amount "
            "OR #currency <> :currency"
        )
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_to_dynamodb(product_key(product.sku)),
                UpdateExpression=update,
                ConditionExpression=changed,
                ExpressionAttributeNames=_names(update, changed),
                ExpressionAttributeValues=_values(
                    kind="product",
                    sku=product.sku,
                    name=product.name,
                    amount=product.price.amount,
                    currency=product.price.currency,
                    stock=initial_stock,
                    zero=0,
                    now=self._clock(),
                    one=1,
                ),
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def restock(self, sku: str, quantity: int) -> StockLevel:
        update, exists = _RESTOCK, "attribute_exists(#pk)"
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=_to_dynamodb(product_key(sku)),
                UpdateExpression=update,
                ConditionExpression=exists,
                ExpressionAttributeNames=_names(update, exists),
                ExpressionAttributeValues=_values(quantity=quantity, now=self._clock(), one=1),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise UnknownProduct(sku) from None
            raise
        return stock_of(_from_dynamodb(response["Attributes"]))

    # ---- plumbing ------------------------------------------------------------------------------

    def _update(
        self,
        key: Mapping[str, str],
        update: str,
        condition: str,
        values: Mapping[str, Any],
        *,
        return_old: bool = False,
    ) -> dict[str, Any]:
        """One conditional Update of a transaction; with `return_old`, a failed condition returns
        the item as it was (the reservation's status, the product's available units)."""
        operation: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": _to_dynamodb(key),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": _names(update, condition),
            "ExpressionAttributeValues": _values(**values),
        }
        if return_old:
            operation["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": operation}

    def _get(self, key: Mapping[str, str]) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=_to_dynamodb(key), ConsistentRead=True
        )
        item = response.get("Item")
        return _from_dynamodb(item) if item else None

    def _status(self, order_id: str) -> ReservationStatus:
        reservation = self.reservation(order_id)
        if reservation is None:  # pragma: no cover - a failed condition means it existed
            raise ReservationNotFound(order_id)
        return reservation.status

    def _transact(self, operations: Sequence[Any]) -> list[dict[str, Any]] | None:
        """None when the transaction committed; its cancellation reasons, one per operation, when
        a condition failed. Conflicts with concurrent transactions are retried."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                self.client.transact_write_items(TransactItems=list(operations))
            except ClientError as error:
                if _code(error) != "TransactionCanceledException":
                    raise
                cancelled: Any = error.response.get("CancellationReasons", [])
                reasons: list[dict[str, Any]] = list(cancelled)
                if not any(r.get("Code") == "TransactionConflict" for r in reasons):
                    return reasons
                logger.info("transaction conflict", extra={"attempt": attempt})
                # Full jitter spreads the retries of many racing reservations.
                self._sleep(random.random() * self._backoff_base * 2 ** (attempt - 1))
            else:
                return None
        raise StockContention(f"transaction kept conflicting after {self._max_attempts} attempts")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _failed_condition(reason: Mapping[str, Any]) -> bool:
    return reason.get("Code") == "ConditionalCheckFailed"


def _old_item(reason: Mapping[str, Any]) -> dict[str, Any] | None:
    item = reason.get("Item")
    return _from_dynamodb(item) if item else None


def _unexpected(reasons: Sequence[Mapping[str, Any]]) -> Exception:
    codes = [str(reason.get("Code")) for reason in reasons]
    return RuntimeError(f"transaction cancelled for an unexpected reason: {codes}")
