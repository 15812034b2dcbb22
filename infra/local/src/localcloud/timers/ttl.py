"""DynamoDB TTL expiry, which moto never does: `TtlSweeper` deletes expired items as DynamoDB's TTL
does, and `TtlDeletes` lets the stream pollers mark their REMOVE records as TTL deletes."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from localcloud.aws import Aws
from localcloud.lifecycle import LoopPart

logger = logging.getLogger(__name__)

# DynamoDB leaves alone items whose TTL is more than five years in the past: such a value is
# taken for a mistake (milliseconds, a date of birth), not an expiry.
TTL_MAX_PAST_SECONDS = 5 * 365 * 24 * 3600
# A stream record's creation time comes back in milliseconds: allow for the rounding.
_CLOCK_SLACK_SECONDS = 0.01
# How long the sweeper trusts what it read of a table's TTL setting and key: asking every table
# every second was most of what an idle local cloud cost. DynamoDB itself may take up to an hour
# to act on a TTL setting enabled.
SETTINGS_SECONDS = 10.0


@dataclass
class _ExpectedDelete:
    at: float  # epoch seconds, just before the delete was sent
    claims: dict[int, str] = field(default_factory=dict)  # id(consumer) -> sequence number


class TtlDeletes:
    """The deletes the TTL sweeper made, so stream pollers can tell a TTL delete's REMOVE record
    from a caller's delete of the same item, as DynamoDB marks it (`userIdentity`).

    The sweeper calls `expect` before it deletes (and `forget` if the delete did not happen); a
    poller calls `claim` for each REMOVE record it reads. Each poller claims each delete once,
    with the first REMOVE of the item it reads that is not older than the delete, and gets the
    same answer when it reads that record again for a retry. Entries are kept for
    `retention_seconds` (a stream keeps records for 24 hours; a local run is shorter)."""

    def __init__(self, *, retention_seconds: float = 3600.0) -> None:
        self._retention = retention_seconds
        self._expected: dict[tuple[str, str], list[_ExpectedDelete]] = {}
        self._lock = threading.Lock()

    def expect(self, table: str, keys: Mapping[str, Any], *, at: float | None = None) -> None:
        moment = time.time() if at is None else at
        with self._lock:
            self._expected.setdefault(_key(table, keys), []).append(_ExpectedDelete(moment))
            self._prune(moment)

    def forget(self, table: str, keys: Mapping[str, Any]) -> None:
        with self._lock:
            entries = self._expected.get(_key(table, keys))
            if entries:
                entries.pop()
                if not entries:
                    del self._expected[_key(table, keys)]

    def claim(
        self,
        table: str,
        keys: Mapping[str, Any],
        *,
        consumer: object,
        sequence_number: str,
        deleted_at: float,
    ) -> bool:
        """Whether the REMOVE record `sequence_number` of `keys`, created at `deleted_at` (epoch
        seconds), is a TTL delete for the poller `consumer`."""
        with self._lock:
            for entry in self._expected.get(_key(table, keys), ()):
                claimed = entry.claims.get(id(consumer))
                if claimed == sequence_number:
                    return True
                if claimed is None and deleted_at >= entry.at - _CLOCK_SLACK_SECONDS:
                    entry.claims[id(consumer)] = sequence_number
                    return True
        return False

    def _prune(self, now: float) -> None:
        horizon = now - self._retention
        for key in [key for key, entries in self._expected.items() if entries[-1].at < horizon]:
            del self._expected[key]


def _key(table: str, keys: Mapping[str, Any]) -> tuple[str, str]:
    # Keys arrive as attribute values, from a scan (binary as bytes) or a Lambda record (base64).
    def plain(value: Any) -> Any:
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode()
        if isinstance(value, Mapping):
            return {name: plain(item) for name, item in value.items()}
        return value

    return table, json.dumps(plain(keys), sort_keys=True)


class TtlSweeper(LoopPart):
    """Deletes expired items, as DynamoDB's TTL does: in every table whose TTL is enabled, the
    items whose TTL attribute (a number, epoch seconds) is at or before now, and not more than
    five years before. Each delete is conditional on the TTL value it saw, so an item updated in
    the meantime stays. The REMOVE records these deletes put on the table's stream reach functions
    marked as TTL deletes through `deletes`, shared with the event source runner."""

    def __init__(
        self, aws: Aws, *, interval_seconds: float = 1.0, deletes: TtlDeletes | None = None
    ) -> None:
        self.deletes = deletes if deletes is not None else TtlDeletes()
        self._aws = aws
        # table -> (its TTL attribute, or None when TTL is off; its key's names; when read)
        self._settings: dict[str, tuple[str | None, list[str], float]] = {}
        super().__init__(self.sweep_once, name="ttl-sweeper", interval_seconds=interval_seconds)

    def sweep_once(self, now: float | None = None) -> int:
        """Delete what has expired at `now` (epoch seconds; default: the clock); how many."""
        moment = time.time() if now is None else now
        dynamodb = self._aws.client("dynamodb")
        deleted = 0
        tables: set[str] = set()
        for page in dynamodb.get_paginator("list_tables").paginate():
            for table in page["TableNames"]:
                tables.add(table)
                try:
                    deleted += self._sweep_table(table, moment)
                except ClientError as error:
                    # A table deleted while the sweep runs is no longer anyone's concern.
                    if error.response["Error"]["Code"] != "ResourceNotFoundException":
                        raise
        self._settings = {
            table: known for table, known in self._settings.items() if table in tables
        }
        return deleted

    def _settings_of(self, table: str) -> tuple[str | None, list[str]]:
        """The table's TTL attribute (None: TTL is off) and its key's names, read again once
        they are `SETTINGS_SECONDS` old."""
        known = self._settings.get(table)
        if known is not None and time.monotonic() - known[2] < SETTINGS_SECONDS:
            return known[0], known[1]
        dynamodb = self._aws.client("dynamodb")
        ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        enabled = ttl.get("TimeToLiveStatus") == "ENABLED" and ttl.get("AttributeName")
        attribute = str(ttl["AttributeName"]) if enabled else None
        key_names = [
            key["AttributeName"]
            for key in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
        ]
        self._settings[table] = (attribute, key_names, time.monotonic())
        return attribute, key_names

    def _sweep_table(self, table: str, now: float) -> int:
        attribute, key_names = self._settings_of(table)
        if attribute is None:
            return 0
        names = {f"#k{index}": name for index, name in enumerate(key_names)} | {"#ttl": attribute}
        deleted = 0
        dynamodb = self._aws.client("dynamodb")
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table,
            ProjectionExpression=", ".join(names),
            # Only what has expired comes back; the five-year rule is checked below.
            FilterExpression="attribute_type(#ttl, :number) AND #ttl <= :now",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":number": {"S": "N"}, ":now": {"N": repr(now)}},
        )
        for page in pages:
            for item in page["Items"]:
                expires = float(item[attribute]["N"])
                if not now - TTL_MAX_PAST_SECONDS <= expires <= now:
                    continue
                keys = {name: item[name] for name in key_names}
                if self._delete(table, keys, attribute, item[attribute]):
                    deleted += 1
        return deleted

    def _delete(self, table: str, keys: dict[str, Any], attribute: str, seen: Any) -> bool:
        self.deletes.expect(table, keys)
        try:
            self._aws.client("dynamodb").delete_item(
                TableName=table,
                Key=keys,
                ConditionExpression="#ttl = :seen",
                ExpressionAttributeNames={"#ttl": attribute},
                ExpressionAttributeValues={":seen": seen},
            )
        except ClientError as error:
            self.deletes.forget(table, keys)
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        logger.debug("expired item deleted", extra={"table": table})
        return True
