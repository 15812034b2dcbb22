"""How stripe-esg keeps its state, as items of its one DynamoDB table, keyed `pk`/`sk`:

| item | pk | sk | holds |
| --- | --- | --- | --- |
| payment | `ORDER#<order id>` | `PAYMENT` | `intent_id`, `amount`, `currency`, `status`, `moved_by`, `order_ended`, `refund_id` |
| ingested Stripe event | `STRIPE_EVENT#<evt id>` | `INGESTED` | `ttl`: DynamoDB forgets it after the deduplication window |

The payment item is the intent's record: written once with the intent's id (a conditional
write), checked before any create, and moved forward by conditional writes on its status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_esg.domain import Money, Payment, PaymentStatus

PAYMENT_SK = "PAYMENT"
INGESTED_SK = "INGESTED"
TTL_ATTRIBUTE = "ttl"

KEY_SCHEMA = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
]


def table_definition(name: str) -> dict[str, Any]:
    """The arguments of CreateTable for a table like the deployed one (TTL is set apart)."""
    return {
        "TableName": name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "BillingMode": "PAY_PER_REQUEST",
    }


def payment_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": PAYMENT_SK}


def ingested_key(stripe_event_id: str) -> dict[str, str]:
    return {"pk": f"STRIPE_EVENT#{stripe_event_id}", "sk": INGESTED_SK}


def payment_of(item: Mapping[str, Any]) -> Payment:
    intent_id = item.get("intent_id")
    amount = item.get("amount")
    return Payment(
        order_id=str(item["order_id"]),
        intent_id=str(intent_id) if intent_id else None,
        amount=Money(int(amount), str(item["currency"])) if amount is not None else None,
        status=PaymentStatus(item.get("status", PaymentStatus.CREATED)),
        order_ended=bool(item.get("order_ended", False)),
        refund_id=str(item["refund_id"]) if item.get("refund_id") else None,
        moved_by=str(item["moved_by"]) if item.get("moved_by") else None,
    )
