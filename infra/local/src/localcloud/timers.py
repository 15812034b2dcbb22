"""What AWS does when time passes and moto does not: DynamoDB TTL expiry (moto never expires an
item) and EventBridge Scheduler one-shot schedules (moto stores them and never fires one)."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import ClientError

from localcloud.aws import Aws
from localcloud.lambda_.functions import Invoker

logger = logging.getLogger(__name__)

# DynamoDB leaves alone items whose TTL is more than five years in the past: such a value is
# taken for a mistake (milliseconds, a date of birth), not an expiry.
TTL_MAX_PAST_SECONDS = 5 * 365 * 24 * 3600
# A stream record's creation time comes back in milliseconds: allow for the rounding.
_CLOCK_SLACK_SECONDS = 0.01


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


class TtlSweeper:
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
        self._interval = interval_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> TtlSweeper:
        if self._thread is not None and self._thread.is_alive():
            return self
        self._thread = _start(self._stopping, self._interval, self.sweep_once, name="ttl-sweeper")
        return self

    def stop(self) -> None:
        _stop(self._stopping, self._thread)

    def sweep_once(self, now: float | None = None) -> int:
        """Delete what has expired at `now` (epoch seconds; default: the clock); how many."""
        moment = time.time() if now is None else now
        dynamodb = self._aws.client("dynamodb")
        deleted = 0
        for page in dynamodb.get_paginator("list_tables").paginate():
            for table in page["TableNames"]:
                try:
                    deleted += self._sweep_table(table, moment)
                except ClientError as error:
                    # A table deleted while the sweep runs is no longer anyone's concern.
                    if error.response["Error"]["Code"] != "ResourceNotFoundException":
                        raise
        return deleted

    def _sweep_table(self, table: str, now: float) -> int:
        dynamodb = self._aws.client("dynamodb")
        ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") != "ENABLED" or not ttl.get("AttributeName"):
            return 0
        attribute = ttl["AttributeName"]
        key_names = [
            key["AttributeName"]
            for key in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
        ]
        names = {f"#k{index}": name for index, name in enumerate(key_names)} | {"#ttl": attribute}
        deleted = 0
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table,
            ProjectionExpression=", ".join(names),
            FilterExpression="attribute_type(#ttl, :number)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":number": {"S": "N"}},
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


_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")

PutEvents = Callable[[Sequence[Mapping[str, Any]]], None]


@dataclass
class _Schedule:
    arn: str
    name: str
    group: str
    due: datetime | None  # None: not a one-shot at() schedule
    target: dict[str, Any]
    delete_after: bool


class ScheduleRunner:
    """Fires EventBridge Scheduler one-shot schedules, `at(yyyy-mm-ddThh:mm:ss)` in the schedule's
    `ScheduleExpressionTimezone` (UTC by default), once each when they come due, if enabled.

    Targets: a Lambda function is invoked with the target's Input (as Scheduler invokes
    asynchronously, a function error does not make the schedule fire again); an event bus gets
    one event, `Detail` = Input, with the DetailType and Source of its EventBridgeParameters (by
    `put_events` when given, e.g. the local cloud's own rule delivery, else moto's PutEvents); an
    SQS queue gets Input as a message. A schedule with ActionAfterCompletion DELETE is then
    deleted; any other is remembered as fired (until it is updated). A target that cannot be
    reached is tried again each round until the RetryPolicy's MaximumEventAgeInSeconds has passed.
    rate() and cron() schedules are left alone."""

    def __init__(
        self,
        aws: Aws,
        invoke: Invoker,
        *,
        interval_seconds: float = 0.5,
        put_events: PutEvents | None = None,
    ) -> None:
        self._aws = aws
        self._invoke = invoke
        self._interval = interval_seconds
        self._put_events = put_events
        self._known: dict[tuple[str, datetime], _Schedule] = {}  # (arn, last modified)
        self._fired: set[tuple[str, datetime]] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> ScheduleRunner:
        if self._thread is not None and self._thread.is_alive():
            return self
        self._thread = _start(
            self._stopping, self._interval, lambda: self.run_due_once(), name="schedules"
        )
        return self

    def stop(self) -> None:
        _stop(self._stopping, self._thread)

    def run_due_once(self, now: datetime | None = None) -> list[str]:
        """Fire every schedule due at `now` (default: the clock; naive means UTC) that has not
        fired yet; the ARNs of those fired."""
        moment = datetime.now(UTC) if now is None else _aware(now)
        scheduler = self._aws.client("scheduler")
        fired: list[str] = []
        with self._lock:
            listed: set[tuple[str, datetime]] = set()
            for page in scheduler.get_paginator("list_schedules").paginate(State="ENABLED"):
                for summary in page["Schedules"]:
                    version = (summary["Arn"], summary["LastModificationDate"])
                    listed.add(version)
                    if version in self._fired:
                        continue
                    schedule = self._known.get(version) or self._describe(summary)
                    self._known[version] = schedule
                    if schedule.due is None or schedule.due > moment:
                        continue
                    if self._fire(schedule, moment):
                        fired.append(schedule.arn)
                        self._fired.add(version)
            # Forget deleted and updated schedules: an updated one is a new version.
            self._known = {version: s for version, s in self._known.items() if version in listed}
            self._fired &= listed
        return fired

    def _describe(self, summary: Mapping[str, Any]) -> _Schedule:
        detail = self._aws.client("scheduler").get_schedule(
            Name=summary["Name"], GroupName=summary["GroupName"]
        )
        return _Schedule(
            arn=detail["Arn"],
            name=detail["Name"],
            group=detail["GroupName"],
            due=_due(detail["ScheduleExpression"], detail.get("ScheduleExpressionTimezone")),
            target=dict(detail["Target"]),
            delete_after=detail.get("ActionAfterCompletion") == "DELETE",
        )

    def _fire(self, schedule: _Schedule, now: datetime) -> bool:
        """Deliver to the target; False when it should be tried again next round."""
        fields = {"schedule": schedule.arn, "target": schedule.target["Arn"]}
        try:
            self._deliver(schedule.target)
        except Exception as error:
            max_age = schedule.target.get("RetryPolicy", {}).get("MaximumEventAgeInSeconds", 86400)
            if (now - (schedule.due or now)).total_seconds() <= max_age:
                logger.warning("schedule target failed", extra={**fields, "error": str(error)})
                return False
            logger.error("schedule given up", extra={**fields, "error": str(error)})
        else:
            logger.info("schedule fired", extra=fields)
        if schedule.delete_after:
            try:
                self._aws.client("scheduler").delete_schedule(
                    Name=schedule.name, GroupName=schedule.group
                )
            except ClientError as error:
                logger.warning("fired schedule not deleted", extra={**fields, "error": str(error)})
        return True

    def _deliver(self, target: Mapping[str, Any]) -> None:
        arn: str = target["Arn"]
        payload: str = target.get("Input") or "{}"
        service, resource = arn.split(":")[2], arn.split(":", 5)[5]
        if service == "lambda" and resource.startswith("function:"):
            invocation = self._invoke(resource.split(":")[1], payload.encode())
            if not invocation.ok:
                logger.warning(
                    "scheduled invocation failed",
                    extra={"target": arn, "error": invocation.error_type},
                )
        elif service == "events" and resource.startswith("event-bus/"):
            parameters = target.get("EventBridgeParameters") or {}
            entry = {
                "EventBusName": arn,
                "Source": parameters.get("Source", "aws.scheduler"),
                "DetailType": parameters.get("DetailType", "Scheduled Event"),
                "Detail": payload,
            }
            self._send_events([entry])
        elif service == "sqs":
            _, _, _, _, account, name = arn.split(":", 5)
            sqs = self._aws.client("sqs")
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            message: dict[str, Any] = {"QueueUrl": url, "MessageBody": payload}
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group:
                message["MessageGroupId"] = group
            sqs.send_message(**message)
        else:
            raise ValueError(f"unsupported schedule target {arn}")

    def _send_events(self, entries: Sequence[Mapping[str, Any]]) -> None:
        if self._put_events is not None:
            self._put_events(entries)
            return
        response = self._aws.client("events").put_events(Entries=list(entries))
        if response.get("FailedEntryCount"):
            raise ValueError(f"event not put: {response['Entries']}")


def _due(expression: str, timezone: str | None) -> datetime | None:
    match = _AT.fullmatch(expression.strip())
    if match is None:
        return None
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        logger.error("schedule timezone unknown", extra={"timezone": timezone})
        return None
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _start(
    stopping: threading.Event, interval: float, work: Callable[[], object], *, name: str
) -> threading.Thread:
    def loop() -> None:
        while not stopping.is_set():
            try:
                work()
            except Exception:
                # moto may be restarting or busy: the next round tries again.
                logger.exception("timer round failed", extra={"timer": name})
            stopping.wait(interval)

    stopping.clear()
    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def _stop(stopping: threading.Event, thread: threading.Thread | None) -> None:
    stopping.set()
    if thread is not None:
        thread.join(timeout=10)
