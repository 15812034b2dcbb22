"""How the micro event store keeps an order as items of its one DynamoDB table.

Keyed `pk`/`sk`, one partition per order, so one Query reads everything the rules need:

| item | pk | sk | holds |
| --- | --- | --- | --- |
| collected event | `ORDER#<order id>` | `EVENT#<event id>` | `type`, `occurred_at` (the envelope's timestamp) |
| outcome | `ORDER#<order id>` | `OUTCOME` | the terminal fact: `rule`, `type`, `reason`, `decided_at` |
| follow-up fact | `ORDER#<order id>` | `FACT#<rule id>` | the same, for a fact that is not the outcome |

Each is written once, conditionally (a duplicate event is the same item; an order has one
outcome), and every item carries `ttl`: DynamoDB deletes it long after the order ended, which
cleans the store up and decides nothing. The trigger evaluates on every collected event's INSERT
and publishes every fact's INSERT: the table is the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fulfillment_control.domain import CancellationReason, Collected, EventType, Fact, FactType

ORDER_PREFIX = "ORDER#"
EVENT_PREFIX = "EVENT#"
FACT_PREFIX = "FACT#"
OUTCOME_SK = "OUTCOME"
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
STREAM_VIEW_TYPE = "NEW_IMAGE"


def table_definition(name: str) -> dict[str, Any]:
    """The arguments of CreateTable for a table like the deployed one (TTL is set apart)."""
    return {
        "TableName": name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }


def order_key(order_id: str) -> str:
    return ORDER_PREFIX + order_id


def event_key(event: Collected) -> dict[str, str]:
    return {"pk": order_key(event.order_id), "sk": EVENT_PREFIX + event.event_id}


def outcome_key(order_id: str) -> dict[str, str]:
    return {"pk": order_key(order_id), "sk": OUTCOME_SK}


def fact_key(fact: Fact) -> dict[str, str]:
    if fact.terminal:
        return outcome_key(fact.order_id)
    return {"pk": order_key(fact.order_id), "sk": FACT_PREFIX + fact.rule}


def is_event(keys: Mapping[str, Any]) -> bool:
    return str(keys.get("sk", "")).startswith(EVENT_PREFIX)


def is_fact(keys: Mapping[str, Any]) -> bool:
    sk = str(keys.get("sk", ""))
    return sk == OUTCOME_SK or sk.startswith(FACT_PREFIX)


def order_id_of(keys: Mapping[str, Any]) -> str:
    return str(keys["pk"]).removeprefix(ORDER_PREFIX)


def expires_at(moment_ms: int, retention_seconds: int) -> int:
    """The item's `ttl` (epoch seconds, as DynamoDB's TTL wants): `retention_seconds` after it."""
    return moment_ms // 1000 + retention_seconds


def event_item(event: Collected, *, retention_seconds: int) -> dict[str, Any]:
    return {
        **event_key(event),
        "kind": "event",
        "order_id": event.order_id,
        "event_id": event.event_id,
        "type": str(event.type),
        "occurred_at": event.occurred_at,
        TTL_ATTRIBUTE: expires_at(event.occurred_at, retention_seconds),
    }


def event_of(item: Mapping[str, Any]) -> Collected:
    return Collected(
        occurred_at=int(item["occurred_at"]),
        event_id=str(item["event_id"]),
        type=EventType(item["type"]),
        order_id=str(item["order_id"]),
    )


def fact_item(fact: Fact, *, retention_seconds: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        **fact_key(fact),
        "kind": "fact",
        "order_id": fact.order_id,
        "rule": fact.rule,
        "type": str(fact.type),
        "decided_at": fact.decided_at,
        TTL_ATTRIBUTE: expires_at(fact.decided_at, retention_seconds),
    }
    if fact.reason is not None:
        item["reason"] = str(fact.reason)
    return item


def fact_of(item: Mapping[str, Any]) -> Fact:
    reason = item.get("reason")
    return Fact(
        order_id=str(item["order_id"]),
        rule=str(item["rule"]),
        type=FactType(item["type"]),
        decided_at=int(item["decided_at"]),
        reason=CancellationReason(reason) if reason else None,
    )
