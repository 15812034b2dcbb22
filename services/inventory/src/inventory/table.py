"""How the inventory's entities are kept as items of its one DynamoDB table.

Single-table design, keyed `pk`/`sk`:

| item | pk | sk | holds |
| --- | --- | --- | --- |
| product | `PRODUCT#<sku>` | `PRODUCT` | name, price, `on_hand`, `reserved`, `available`, `version` |
| reservation | `RESERVATION#<order id>` | `RESERVATION` | status, lines, shortages, reason, `version` |
| expiry timer | `RESERVATION#<order id>` | `EXPIRY` | `ttl`: when DynamoDB deletes it, the reservation is released |

`available` is kept beside `on_hand` and `reserved` because a condition expression cannot do
arithmetic: "available >= :quantity" is the whole never-oversell rule. Every write sets
`changed_at` (epoch ms), which becomes the timestamp of the events the change publishes.

Images here are plain Python values, as boto3's deserializer and the stream's `Change` give them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from inventory.domain import (
    Line,
    Money,
    Product,
    ReleaseReason,
    Reservation,
    ReservationStatus,
    Shortage,
    StockLevel,
)

PRODUCT_PREFIX = "PRODUCT#"
RESERVATION_PREFIX = "RESERVATION#"
PRODUCT_SK = "PRODUCT"
RESERVATION_SK = "RESERVATION"
EXPIRY_SK = "EXPIRY"
TTL_ATTRIBUTE = "ttl"

# The table as serverless.yml declares it (a test holds the two together): for tests and
# benchmarks that make one in moto, `create_table(**table_definition(name))`.
KEY_SCHEMA = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
]
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


def table_definition(name: str) -> dict[str, Any]:
    """The arguments of CreateTable for a table like the deployed one (TTL is set apart)."""
    return {
        "TableName": name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }


def product_key(sku: str) -> dict[str, str]:
    return {"pk": PRODUCT_PREFIX + sku, "sk": PRODUCT_SK}


def reservation_key(order_id: str) -> dict[str, str]:
    return {"pk": RESERVATION_PREFIX + order_id, "sk": RESERVATION_SK}


def expiry_key(order_id: str) -> dict[str, str]:
    return {"pk": RESERVATION_PREFIX + order_id, "sk": EXPIRY_SK}


def is_product(keys: Mapping[str, Any]) -> bool:
    return keys.get("sk") == PRODUCT_SK


def is_reservation(keys: Mapping[str, Any]) -> bool:
    return keys.get("sk") == RESERVATION_SK


def is_expiry(keys: Mapping[str, Any]) -> bool:
    return keys.get("sk") == EXPIRY_SK


def order_id_of(keys: Mapping[str, Any]) -> str:
    return str(keys["pk"]).removeprefix(RESERVATION_PREFIX)


# ---- reservations ------------------------------------------------------------------------------


def reservation_item(reservation: Reservation, *, changed_at: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        **reservation_key(reservation.order_id),
        "kind": "reservation",
        "order_id": reservation.order_id,
        "reservation_id": reservation.id,
        "status": str(reservation.status),
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in reservation.lines],
        "version": 1,
        "changed_at": changed_at,
    }
    if reservation.expires_at is not None:
        item["expires_at"] = reservation.expires_at
    if reservation.shortages:
        item["shortages"] = [
            {"sku": s.sku, "requested": s.requested, "available": s.available}
            for s in reservation.shortages
        ]
    if reservation.reason is not None:
        item["reason"] = str(reservation.reason)
    return item


def expiry_item(reservation: Reservation) -> dict[str, Any]:
    if reservation.expires_at is None:
        raise ValueError("only a reservation that expires has an expiry timer")
    return {
        **expiry_key(reservation.order_id),
        "kind": "reservation-expiry",
        "order_id": reservation.order_id,
        TTL_ATTRIBUTE: reservation.expires_at,
    }


def reservation_of(item: Mapping[str, Any]) -> Reservation:
    reason = item.get("reason")
    expires_at = item.get("expires_at")
    return Reservation(
        order_id=str(item["order_id"]),
        status=ReservationStatus(item["status"]),
        lines=tuple(Line(str(line["sku"]), int(line["quantity"])) for line in item["lines"]),
        expires_at=int(expires_at) if expires_at is not None else None,
        shortages=tuple(
            Shortage(str(s["sku"]), int(s["requested"]), int(s["available"]))
            for s in item.get("shortages", ())
        ),
        reason=ReleaseReason(reason) if reason else None,
    )


# ---- products ----------------------------------------------------------------------------------


def product_of(item: Mapping[str, Any]) -> Product:
    return Product(
        sku=str(item["sku"]),
        name=str(item["name"]),
        price=Money(int(item["price_amount"]), str(item["currency"])),
    )


def stock_of(item: Mapping[str, Any]) -> StockLevel:
    return StockLevel(
        sku=str(item["sku"]), on_hand=int(item["on_hand"]), reserved=int(item["reserved"])
    )


def version_of(item: Mapping[str, Any]) -> int:
    return int(item.get("version", 0))


def changed_at_of(item: Mapping[str, Any]) -> int | None:
    changed_at = item.get("changed_at")
    return int(changed_at) if isinstance(changed_at, int | Decimal) else None
