"""How the BFF's views are kept as items of its one DynamoDB table.

Single-table design, keyed `pk`/`sk`:

| item | pk | sk | holds |
| --- | --- | --- | --- |
| order view | `ORDER#<order id>` | `ORDER` | the placement (customer, lines, `placed_at`), status, payment (its client secret sealed), history |
| product view | `CATALOG` | `PRODUCT#<sku>` | name, price, available, the versions of each |

An order appears in the index `by-customer` (`customer_id`, `placed_at`) once it is placed: a view
made by an event that came before its placement has no customer, so no customer can list it.
Products share one partition so that the catalog reads in sku order with one query.
Every write moves `revision` on; the adapter writes conditionally on the revision it read.

Images here are plain Python values, as boto3's deserializer and the stream's `Change` give them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from order_bff.domain import (
    CancellationReason,
    HistoryEntry,
    Money,
    OrderLine,
    OrderStatus,
    OrderView,
    Payment,
    PaymentStatus,
    Placement,
    Product,
)

ORDER_PREFIX = "ORDER#"
ORDER_SK = "ORDER"
CATALOG_PK = "CATALOG"
PRODUCT_PREFIX = "PRODUCT#"
BY_CUSTOMER = "by-customer"
REVISION = "revision"

KEY_SCHEMA = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
    {"AttributeName": "customer_id", "AttributeType": "S"},
    {"AttributeName": "placed_at", "AttributeType": "N"},
]
GLOBAL_SECONDARY_INDEXES = [
    {
        "IndexName": BY_CUSTOMER,
        "KeySchema": [
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "placed_at", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
]
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


def table_definition(name: str) -> dict[str, Any]:
    """The arguments of CreateTable for a table like the deployed one."""
    return {
        "TableName": name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }


def order_key(order_id: str) -> dict[str, str]:
    return {"pk": ORDER_PREFIX + order_id, "sk": ORDER_SK}


def product_key(sku: str) -> dict[str, str]:
    return {"pk": CATALOG_PK, "sk": PRODUCT_PREFIX + sku}


def is_order(keys: Mapping[str, Any]) -> bool:
    return keys.get("sk") == ORDER_SK


def revision_of(item: Mapping[str, Any] | None) -> int:
    return int(item.get(REVISION, 0)) if item else 0


# ---- orders ------------------------------------------------------------------------------------


def _money(amount: Any, currency: Any) -> Money:
    return Money(int(amount), str(currency))


def order_item(order: OrderView, *, revision: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        **order_key(order.id),
        "kind": "order",
        "order_id": order.id,
        "status": order.status.value,
        "history": [{"id": e.event_id, "type": e.type, "at": e.at} for e in order.history],
        REVISION: revision,
    }
    if order.placement is not None:
        placement = order.placement
        item.update(
            customer_id=placement.customer_id,
            placed_at=placement.placed_at,
            lines=[
                {
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price.amount,
                    "currency": line.unit_price.currency,
                }
                for line in placement.lines
            ],
            total_amount=placement.total.amount,
            currency=placement.total.currency,
        )
    if order.closed_by is not None:
        item["closed_at"], item["closed_by"] = order.closed_by
    if order.cancellation_reason is not None:
        item["cancellation_reason"] = order.cancellation_reason.value
    if order.cancellation_requested_at is not None:
        item["cancellation_requested_at"] = order.cancellation_requested_at
    if order.payment is not None:
        item["payment_status"] = order.payment.status.value
        if order.payment.sealed_client_secret is not None:
            item["sealed_client_secret"] = order.payment.sealed_client_secret
    return item


def order_of(item: Mapping[str, Any]) -> OrderView:
    placement = None
    if item.get("placed_at") is not None:
        placement = Placement(
            customer_id=str(item["customer_id"]),
            lines=tuple(
                OrderLine(
                    sku=str(line["sku"]),
                    name=str(line["name"]),
                    quantity=int(line["quantity"]),
                    unit_price=_money(line["unit_price"], line["currency"]),
                )
                for line in item["lines"]
            ),
            placed_at=int(item["placed_at"]),
        )
    payment = None
    if item.get("payment_status") is not None:
        payment = Payment(PaymentStatus(item["payment_status"]), item.get("sealed_client_secret"))
    reason = item.get("cancellation_reason")
    requested_at = item.get("cancellation_requested_at")
    return OrderView(
        id=str(item["order_id"]),
        placement=placement,
        status=OrderStatus(item["status"]),
        closed_by=(int(item["closed_at"]), str(item["closed_by"]))
        if item.get("closed_at") is not None
        else None,
        cancellation_reason=CancellationReason(reason) if reason else None,
        payment=payment,
        cancellation_requested_at=int(requested_at) if requested_at is not None else None,
        history=tuple(
            HistoryEntry(str(e["id"]), str(e["type"]), int(e["at"])) for e in item["history"]
        ),
    )


# ---- products ----------------------------------------------------------------------------------


def product_item(product: Product, *, revision: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        **product_key(product.sku),
        "kind": "product",
        "sku": product.sku,
        "available": product.available,
        "product_version": product.product_version,
        "stock_version": product.stock_version,
        REVISION: revision,
    }
    if product.name is not None:
        item["name"] = product.name
    if product.price is not None:
        item["price_amount"] = product.price.amount
        item["currency"] = product.price.currency
    return item


def product_of(item: Mapping[str, Any]) -> Product:
    price_amount = item.get("price_amount")
    return Product(
        sku=str(item["sku"]),
        name=str(item["name"]) if item.get("name") is not None else None,
        price=_money(price_amount, item["currency"]) if price_amount is not None else None,
        available=int(item.get("available", 0)),
        product_version=int(item.get("product_version", 0)),
        stock_version=int(item.get("stock_version", 0)),
    )
