"""Lambda event source mappings, driven as the Lambda service drives them.

moto's own mappings are removed from the templates (they wipe DynamoDB stream records and eat SQS
messages), so the runner reads each source through the AWS API and invokes the function itself:

- Kinesis and DynamoDB streams: one poller per shard, in order, one batch in flight at a time, with
  filter criteria, partial batch responses, retries, record age, bisection and on-failure
  destinations (`EventSourceMapping` says what each setting does);
- SQS: one poller per queue; messages a batch did not process stay on the queue and come back after
  their visibility timeout, and the queue's own redrive policy moves them to its dead-letter queue
  (moto does that on receive, as SQS does).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from botocore.exceptions import ClientError
from shop_streams import TTL_USER_IDENTITY

from localcloud.aws import ACCOUNT_ID, Aws
from localcloud.lambda_.functions import Invocation, Invoker
from localcloud.lifecycle import Part

if TYPE_CHECKING:
    from moto.events.models import EventPattern

    from localcloud.timers import TtlDeletes

logger = logging.getLogger(__name__)

SourceKind = Literal["kinesis", "dynamodb", "sqs"]

# Lambda's defaults when a mapping names no batch size.
DEFAULT_STREAM_BATCH_SIZE = 100
DEFAULT_QUEUE_BATCH_SIZE = 10
# The most records one GetRecords call returns: 10,000 for Kinesis, 1,000 for DynamoDB Streams.
_READ_LIMIT: dict[SourceKind, int] = {"kinesis": 10_000, "dynamodb": 1_000, "sqs": 10}
# A failed batch is retried after a backoff that doubles from the poll interval up to this.
MAX_RETRY_BACKOFF_SECONDS = 1.0
# A role ARN for the record's invokeIdentityArn: locally nothing assumes it.
INVOKE_IDENTITY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/localcloud-event-source-mapping"


def source_kind(arn: str) -> SourceKind:
    """Which kind of event source an ARN names (Kinesis stream, DynamoDB stream or SQS queue)."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        service, resource = parts[2], parts[5]
        if service == "kinesis" and resource.startswith("stream/"):
            return "kinesis"
        if service == "dynamodb" and "/stream/" in resource:
            return "dynamodb"
        if service == "sqs":
            return "sqs"
    raise ValueError(f"not a Kinesis stream, DynamoDB stream or SQS queue ARN: {arn!r}")


class FilterCriteria:
    """Lambda event filtering: a record passes when it matches any of the patterns (EventBridge
    pattern syntax: exact values, prefix, suffix, anything-but, numeric, exists,
    equals-ignore-case, wildcard, $or); no patterns let every record through.

    The matching is moto's own EventBridge pattern matcher, the one moto's rules use, so the local
    cloud has one implementation of the syntax; it is imported when the first filter is built
    because importing moto's models is slow."""

    def __init__(self, patterns: Sequence[Mapping[str, Any]] = ()) -> None:
        self._patterns: list[EventPattern] = [_event_pattern(pattern) for pattern in patterns]

    def matches(self, view: Mapping[str, Any]) -> bool:
        if not self._patterns:
            return True
        event: Any = view
        return any(pattern.matches_event(event) for pattern in self._patterns)


def _event_pattern(pattern: Mapping[str, Any]) -> EventPattern:
    from moto.core.exceptions import JsonRESTError
    from moto.events.models import EventPattern

    try:
        return EventPattern.load(json.dumps(pattern))
    except JsonRESTError as error:
        raise ValueError(f"invalid filter pattern {pattern!r}: {error.message}") from error


@dataclass(frozen=True)
class EventSourceMapping:
    """One AWS::Lambda::EventSourceMapping: which function reads which source, and how.

    - `batch_size`: the most records per invocation; `batching_window_seconds`: how long a poller
      waits for a batch to fill before it invokes with fewer.
    - `starting_position` (streams): TRIM_HORIZON reads the shard from its oldest record; LATEST
      reads the records put after `EventSourceRunner.add` returned.
    - `filters`: Lambda event filtering patterns; records matching none are dropped without an
      invocation (stream records are checkpointed past, SQS messages deleted).
    - `report_batch_item_failures`: the function may answer
      {"batchItemFailures": [{"itemIdentifier": ...}]}: a stream retries from the lowest failed
      record, a queue keeps only the failed messages.
    - `maximum_retry_attempts`, `maximum_record_age_seconds` (streams; -1: unbounded): when to
      give up on a failing batch; `bisect_on_error`: split a failing batch in two and retry the
      halves; `on_failure_arn`: an SQS queue that receives what was given up on.
    """

    function: str
    source_arn: str
    batch_size: int
    batching_window_seconds: float = 0.0
    starting_position: str = "LATEST"
    filters: tuple[dict[str, Any], ...] = ()
    report_batch_item_failures: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    bisect_on_error: bool = False
    on_failure_arn: str | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        source_kind(self.source_arn)
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, not {self.batch_size}")
        if self.kind != "sqs" and self.starting_position not in ("LATEST", "TRIM_HORIZON"):
            raise ValueError(f"unsupported starting position {self.starting_position!r}")
        FilterCriteria(self.filters)

    @property
    def kind(self) -> SourceKind:
        return source_kind(self.source_arn)

    @classmethod
    def from_properties(
        cls,
        properties: Mapping[str, Any],
        *,
        function: str,
        source_arn: str,
        on_failure_arn: str | None = None,
    ) -> EventSourceMapping:
        """A mapping from the properties of its CloudFormation resource (values already resolved;
        numbers and booleans may arrive as strings, as templates often carry them)."""
        kind = source_kind(source_arn)
        default_batch = DEFAULT_QUEUE_BATCH_SIZE if kind == "sqs" else DEFAULT_STREAM_BATCH_SIZE
        criteria = properties.get("FilterCriteria") or {}
        filters = tuple(_pattern(entry.get("Pattern")) for entry in criteria.get("Filters") or ())
        return cls(
            function=function,
            source_arn=source_arn,
            batch_size=int(properties.get("BatchSize", default_batch)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            starting_position=str(properties.get("StartingPosition", "LATEST")),
            filters=filters,
            report_batch_item_failures="ReportBatchItemFailures"
            in (properties.get("FunctionResponseTypes") or ()),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(properties.get("MaximumRecordAgeInSeconds", -1)),
            bisect_on_error=_flag(properties.get("BisectBatchOnFunctionError", False)),
            on_failure_arn=on_failure_arn,
            enabled=_flag(properties.get("Enabled", True)),
        )


def _pattern(raw: Any) -> dict[str, Any]:
    pattern = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(pattern, dict):
        raise ValueError(f"a filter pattern must be a JSON object, not {raw!r}")
    return pattern


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


class EventSourceRunner(Part):
    """Polls the source of every mapping added and invokes its function, until `stop`.

    Each shard and each queue has a thread of its own, so one slow function holds back only its
    own source. An idle poller backs off from `poll_interval_seconds` to
    `max_poll_interval_seconds` and returns to the short interval as soon as records arrive.
    `ttl_deletes` (from the TTL sweeper) tells which REMOVE records of DynamoDB streams are TTL
    deletes: those reach the function with the `userIdentity` Lambda gives them."""

    def __init__(
        self,
        aws: Aws,
        invoke: Invoker,
        *,
        poll_interval_seconds: float = 0.02,
        max_poll_interval_seconds: float = 0.2,
        ttl_deletes: TtlDeletes | None = None,
    ) -> None:
        self._context = _Context(
            aws=aws,
            invoke=invoke,
            stopping=threading.Event(),
            poll_interval=poll_interval_seconds,
            max_poll_interval=max(max_poll_interval_seconds, poll_interval_seconds),
            ttl_deletes=ttl_deletes,
        )
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def add(self, mapping: EventSourceMapping) -> None:
        """Start polling the mapping's source: a disabled mapping is kept idle, as Lambda does.
        The starting position is fixed before this returns."""
        if not mapping.enabled:
            logger.info("event source mapping disabled", extra=_fields(mapping))
            return
        pollers: list[_Poller] = []
        if mapping.kind == "sqs":
            pollers.append(_QueuePoller(self._context, mapping))
        else:
            for shard in _shards(self._context, mapping):
                pollers.append(_ShardPoller(self._context, mapping, shard))
        with self._lock:
            if self._context.stopping.is_set():
                raise RuntimeError("the event source runner is stopped")
            for poller in pollers:
                thread = threading.Thread(
                    target=_loop,
                    args=(self._context, poller),
                    name=f"event-source-{mapping.function}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        logger.info(
            "event source mapping started", extra={**_fields(mapping), "pollers": len(pollers)}
        )

    def stop(self, *, timeout_seconds: float = 10.0) -> None:
        """Stop every poller; an invocation in flight is waited for up to `timeout_seconds`."""
        with self._lock:
            self._context.stopping.set()
            threads, self._threads = self._threads, []
        deadline = time.monotonic() + timeout_seconds
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("event source poller still busy", extra={"poller": thread.name})


@dataclass
class _Context:
    aws: Aws
    invoke: Invoker
    stopping: threading.Event
    poll_interval: float
    max_poll_interval: float
    ttl_deletes: TtlDeletes | None

    def queue_url(self, arn: str) -> str:
        return _queue_url(self.aws, arn)

    def call(self, mapping: EventSourceMapping, payload: dict[str, Any]) -> Invocation | None:
        """Invoke the mapping's function; None when it could not be invoked at all (counted as
        a function error, as Lambda counts a throttled or missing function)."""
        try:
            return self.invoke(mapping.function, json.dumps(payload).encode())
        except Exception as error:
            logger.warning(
                "event source invocation failed", extra={**_fields(mapping), "error": str(error)}
            )
            return None


_queue_urls: dict[tuple[str, str], str] = {}
_queue_urls_lock = threading.Lock()


def _queue_url(aws: Aws, arn: str) -> str:
    with _queue_urls_lock:
        known = _queue_urls.get((aws.endpoint, arn))
    if known:
        return known
    _, _, _, _, account, name = arn.split(":", 5)
    url: str = aws.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
        "QueueUrl"
    ]
    with _queue_urls_lock:
        _queue_urls[(aws.endpoint, arn)] = url
    return url


class _Poller(Protocol):
    def poll_once(self) -> float | None:
        """Do one round of work: None when there was work (poll again soon), else how long the
        poller may wait at most before its next round (0: its own backoff decides)."""

    def describe(self) -> dict[str, Any]: ...


def _loop(context: _Context, poller: _Poller) -> None:
    idle = context.poll_interval
    last_error: str | None = None
    while not context.stopping.is_set():
        try:
            wait_at_most = poller.poll_once()
            last_error = None
        except Exception as error:
            # The source may be gone (a stack deleted, the account reset) or moto busy: keep
            # polling, and say so once per kind of error rather than every round.
            wait_at_most = 0.0
            if str(error) != last_error:
                last_error = str(error)
                logger.warning(
                    "event source poll failed", extra={**poller.describe(), "error": last_error}
                )
        if wait_at_most is None:
            idle = context.poll_interval
            continue
        wait = idle if wait_at_most <= 0 else min(idle, wait_at_most)
        context.stopping.wait(wait)
        idle = min(idle * 2, context.max_poll_interval)


# -- streams ---------------------------------------------------------------------------------


@dataclass
class _Record:
    """One stream record as the poller handles it."""

    sequence_number: str
    arrival: float  # epoch seconds
    event: dict[str, Any]  # the record as the function receives it
    keep: bool  # False: dropped by the filter criteria or as a moto no-op MODIFY


class _Shard(Protocol):
    shard_id: str

    def read(self, after: str | None, limit: int) -> list[dict[str, Any]]:
        """Records after the sequence number `after` (None: from the oldest record)."""

    def sequence_number(self, raw: dict[str, Any]) -> str: ...

    def record(self, raw: dict[str, Any], filters: FilterCriteria, consumer: object) -> _Record:
        """The record as the poller handles it, the function's view built and filtered;
        `consumer` is the poller, for the TTL deletes it has claimed."""


def _shards(context: _Context, mapping: EventSourceMapping) -> list[_Shard]:
    shards: list[_Shard] = []
    if mapping.kind == "kinesis":
        kinesis = context.aws.client("kinesis")
        for page in kinesis.get_paginator("list_shards").paginate(StreamARN=mapping.source_arn):
            for shard in page["Shards"]:
                shards.append(_KinesisShard(context, mapping.source_arn, shard["ShardId"]))
    else:
        streams = context.aws.client("dynamodbstreams")
        description = streams.describe_stream(StreamArn=mapping.source_arn)["StreamDescription"]
        for shard in description["Shards"]:
            shards.append(_DynamoDBShard(context, mapping.source_arn, shard["ShardId"]))
    return shards


class _KinesisShard:
    def __init__(self, context: _Context, stream_arn: str, shard_id: str) -> None:
        self._context = context
        self._stream_arn = stream_arn
        self.shard_id = shard_id
        # Where the last read left off, and the iterator that continues from there: reading on
        # from the same place (the common case) then costs one call instead of two.
        self._continue_from: tuple[str | None, str] | None = None

    def read(self, after: str | None, limit: int) -> list[dict[str, Any]]:
        kinesis = self._context.aws.client("kinesis")
        iterator = None
        if self._continue_from is not None and self._continue_from[0] == after:
            iterator = self._continue_from[1]
        if iterator is None:
            position: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = kinesis.get_shard_iterator(
                StreamARN=self._stream_arn, ShardId=self.shard_id, **position
            )["ShardIterator"]
        try:
            # moto's iterators only name the stream when given its name: pass the ARN again.
            response = kinesis.get_records(
                ShardIterator=iterator, Limit=limit, StreamARN=self._stream_arn
            )
        except ClientError:
            self._continue_from = None  # an expired or unknown iterator: start afresh next time
            raise
        records: list[dict[str, Any]] = response["Records"]
        next_iterator = response.get("NextShardIterator")
        last = records[-1]["SequenceNumber"] if records else after
        self._continue_from = (last, next_iterator) if next_iterator else None
        return records

    def sequence_number(self, raw: dict[str, Any]) -> str:
        return str(raw["SequenceNumber"])

    def record(
        self,
        raw: dict[str, Any],
        filters: FilterCriteria,
        consumer: object,  # noqa: ARG002 - only DynamoDB streams carry TTL deletes
    ) -> _Record:
        sequence_number = self.sequence_number(raw)
        arrival = _epoch(raw["ApproximateArrivalTimestamp"])
        data: bytes = raw["Data"]
        event = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": raw["PartitionKey"],
                "sequenceNumber": sequence_number,
                "data": base64.b64encode(data).decode(),
                "approximateArrivalTimestamp": round(arrival, 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{self.shard_id}:{sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": INVOKE_IDENTITY_ARN,
            "awsRegion": self._context.aws.region,
            "eventSourceARN": self._stream_arn,
        }
        # Kinesis filtering sees only the data, parsed when it is JSON.
        view = {"data": _maybe_json(data.decode(errors="replace"))}
        return _Record(sequence_number, arrival, event, filters.matches(view))


class _DynamoDBShard:
    def __init__(self, context: _Context, stream_arn: str, shard_id: str) -> None:
        self._context = context
        self._stream_arn = stream_arn
        self._table = stream_arn.split(":", 5)[5].split("/")[1]
        self.shard_id = shard_id

    def read(self, after: str | None, limit: int) -> list[dict[str, Any]]:
        # A fresh iterator every time: after a failed TransactWriteItems moto replaces the table
        # (and its stream) with a copy, and an iterator kept from before would read the old one.
        streams = self._context.aws.client("dynamodbstreams")
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = streams.get_shard_iterator(
            StreamArn=self._stream_arn, ShardId=self.shard_id, **position
        )["ShardIterator"]
        records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator, Limit=limit)[
            "Records"
        ]
        return records

    def sequence_number(self, raw: dict[str, Any]) -> str:
        return str(raw["dynamodb"]["SequenceNumber"])

    def record(self, raw: dict[str, Any], filters: FilterCriteria, consumer: object) -> _Record:
        change: dict[str, Any] = _jsonable(raw["dynamodb"])
        sequence_number = self.sequence_number(raw)
        arrival = _epoch(raw["dynamodb"]["ApproximateCreationDateTime"])
        change["ApproximateCreationDateTime"] = int(arrival)
        event: dict[str, Any] = {
            "eventID": raw["eventID"],
            "eventName": raw["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self._context.aws.region,
            "dynamodb": change,
            "eventSourceARN": self._stream_arn,
        }
        deletes = self._context.ttl_deletes
        if (
            raw["eventName"] == "REMOVE"
            and deletes is not None
            and deletes.claim(
                self._table,
                change["Keys"],
                consumer=consumer,
                sequence_number=sequence_number,
                deleted_at=arrival,
            )
        ):
            event["userIdentity"] = dict(TTL_USER_IDENTITY)
        # moto records a MODIFY for a write that changed nothing; DynamoDB records none.
        no_op = (
            raw["eventName"] == "MODIFY"
            and "NewImage" in change
            and change.get("OldImage") == change["NewImage"]
        )
        keep = not no_op and filters.matches(event)
        return _Record(sequence_number, arrival, event, keep)


class _ShardPoller:
    """One shard of one mapping: reads from its checkpoint (the last record done with) on every
    round, so a retried batch is read again and the order within the shard is kept.

    - A batch is the next records after the checkpoint, at most `batch_size`; when fewer are there
      and a batching window is set, the poller waits for more until the window has passed since
      it first saw the oldest of them.
    - Records no filter matches (and moto's no-op MODIFY records) are dropped, never invoked.
    - A function error fails the whole batch. With ReportBatchItemFailures, a successful response
      naming failed records makes the records before the lowest one done and retries from it; an
      empty one is a success, and a malformed one (or one naming a record not in the batch) fails
      the whole batch, as Lambda does.
    - A failed batch is retried with a doubling backoff until `maximum_retry_attempts` retries
      have failed or its oldest record is older than `maximum_record_age_seconds`; it is then
      sent to the on-failure destination (or logged as an error without one) and skipped.
    - With `bisect_on_error` a failed batch is split in two halves retried in order, each with the
      whole retry budget, down to single records.
    """

    def __init__(self, context: _Context, mapping: EventSourceMapping, shard: _Shard) -> None:
        self._context = context
        self._mapping = mapping
        self._shard = shard
        self._filters = FilterCriteria(mapping.filters)
        self._limit = min(mapping.batch_size, _READ_LIMIT[mapping.kind])
        self._checkpoint = self._start_after(mapping.starting_position)
        self._window_start: tuple[str, float] | None = None  # (first sequence number, monotonic)
        self._attempts: tuple[str, int] = ("", 0)  # (sequence number of batch start, invocations)
        self._splits: list[int] = []  # bisection: sizes of the batches still to retry, in order
        self._retry_at = 0.0  # monotonic
        self._last_invocation: Invocation | None = None

    def describe(self) -> dict[str, Any]:
        return {**_fields(self._mapping), "shard": self._shard.shard_id}

    def _start_after(self, starting_position: str) -> str | None:
        if starting_position == "TRIM_HORIZON":
            return None
        # LATEST, as a position the poller can come back to: after the newest record now there.
        newest: str | None = None
        while True:
            raws = self._shard.read(newest, _READ_LIMIT[self._mapping.kind])
            if not raws:
                return newest
            newest = self._shard.sequence_number(raws[-1])

    def poll_once(self) -> float | None:
        now = time.monotonic()
        if now < self._retry_at:
            return self._retry_at - now
        limit = min(self._splits[0], self._limit) if self._splits else self._limit
        raws = self._shard.read(self._checkpoint, self._limit)
        records = [self._shard.record(raw, self._filters, self) for raw in raws]
        if not records:
            return 0.0
        wait = self._batching_wait(records, now)
        if wait > 0:
            return wait
        window = _take_kept(records, limit)
        batch = [record for record in window if record.keep]
        if not batch:
            self._done_through(window[-1])
            return None
        expired = self._expired(batch)
        if expired:
            self._give_up(expired, "RecordAgeExceeded")
            self._done_through(expired[-1])
            return None
        self._invoke(records, window, batch)
        return None

    def _batching_wait(self, records: list[_Record], now: float) -> float:
        window = self._mapping.batching_window_seconds
        if window <= 0 or len(records) >= self._limit or self._splits:
            return 0.0
        first = records[0].sequence_number
        if self._window_start is None or self._window_start[0] != first:
            self._window_start = (first, now)
        return max(0.0, self._window_start[1] + window - now)

    def _expired(self, batch: list[_Record]) -> list[_Record]:
        max_age = self._mapping.maximum_record_age_seconds
        if max_age < 0:
            return []
        now = time.time()
        # Records arrive in order, so the expired ones are the oldest: a prefix of the batch.
        return [record for record in batch if now - record.arrival > max_age]

    def _invoke(self, records: list[_Record], window: list[_Record], batch: list[_Record]) -> None:
        start, invocations = self._attempts
        if start != batch[0].sequence_number:
            start, invocations = batch[0].sequence_number, 0
        invocations += 1
        self._attempts = (start, invocations)
        invocation = self._context.call(self._mapping, {"Records": [r.event for r in batch]})
        self._last_invocation = invocation
        failed = _failed_items(
            invocation,
            [record.sequence_number for record in batch],
            report=self._mapping.report_batch_item_failures,
        )
        if failed is not None and not failed:
            self._done_through(window[-1])
            if self._splits:
                self._splits.pop(0)
            return
        if failed:
            lowest = min(
                batch.index(record) for record in batch if record.sequence_number in failed
            )
            if lowest > 0:
                # The records before the lowest failure are done; the retry starts at it, and its
                # invocations so far count towards the retry limit.
                logger.warning(
                    "event source batch failed",
                    extra={
                        **self.describe(),
                        "records": len(batch),
                        "invocations": invocations,
                        "error": _batch_error(invocation, failed),
                    },
                )
                self._done_through(records[records.index(batch[lowest]) - 1])
                self._attempts = (batch[lowest].sequence_number, invocations)
                if self._splits:
                    self._splits[0] -= lowest
                self._schedule_retry(invocations)
                return
        self._batch_failed(batch, invocations, _batch_error(invocation, failed))

    def _batch_failed(self, batch: list[_Record], invocations: int, error: str) -> None:
        logger.warning(
            "event source batch failed",
            extra={
                **self.describe(),
                "records": len(batch),
                "invocations": invocations,
                "error": error,
            },
        )
        if self._mapping.bisect_on_error and len(batch) > 1:
            half = len(batch) // 2
            halves = [half, len(batch) - half]
            self._splits[:1] = halves
            self._attempts = ("", 0)
            return
        retries = self._mapping.maximum_retry_attempts
        if 0 <= retries < invocations:
            self._give_up(batch, "RetryAttemptsExhausted")
            self._done_through(batch[-1])
            if self._splits:
                self._splits.pop(0)
            return
        self._schedule_retry(invocations)

    def _schedule_retry(self, invocations: int) -> None:
        backoff = self._context.poll_interval * 2 ** (invocations - 1)
        self._retry_at = time.monotonic() + min(backoff, MAX_RETRY_BACKOFF_SECONDS)

    def _done_through(self, record: _Record) -> None:
        self._checkpoint = record.sequence_number
        self._window_start = None

    def _give_up(self, batch: list[_Record], condition: str) -> None:
        invocations = self._attempts[1] if self._attempts[0] == batch[0].sequence_number else 0
        invocation = self._last_invocation if invocations else None
        self._attempts = ("", 0)
        info_key = "KinesisBatchInfo" if self._mapping.kind == "kinesis" else "DDBStreamBatchInfo"
        batch_info = {
            "shardId": self._shard.shard_id,
            "startSequenceNumber": batch[0].sequence_number,
            "endSequenceNumber": batch[-1].sequence_number,
            "approximateArrivalOfFirstRecord": _iso(batch[0].arrival),
            "approximateArrivalOfLastRecord": _iso(batch[-1].arrival),
            "batchSize": len(batch),
            "streamArn": self._mapping.source_arn,
        }
        _discard(
            self._context,
            self._mapping,
            condition=condition,
            invocations=invocations,
            invocation=invocation,
            batch_info=(info_key, batch_info),
        )


def _take_kept(records: list[_Record], limit: int) -> list[_Record]:
    """The records up to and including the `limit`-th one kept (all when fewer are kept)."""
    kept = 0
    for index, record in enumerate(records):
        kept += record.keep
        if kept == limit:
            return records[: index + 1]
    return records


def _discard(
    context: _Context,
    mapping: EventSourceMapping,
    *,
    condition: str,
    invocations: int,
    invocation: Invocation | None,
    batch_info: tuple[str, dict[str, Any]],
) -> None:
    """Give up on a batch: the on-failure destination gets Lambda's invocation record (what was
    given up on, not the records themselves); without one, an error is logged."""
    fields = {
        **_fields(mapping),
        "condition": condition,
        "records": batch_info[1]["batchSize"],
        "start": batch_info[1]["startSequenceNumber"],
    }
    if not mapping.on_failure_arn:
        logger.error("event source records discarded", extra=fields)
        return
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if invocation is None or not invocation.ok:
        response["functionError"] = "Unhandled"
    document = {
        "requestContext": {
            "requestId": invocation.request_id if invocation else str(uuid.uuid4()),
            "functionArn": _function_arn(context.aws, mapping.function),
            "condition": condition,
            "approximateInvokeCount": invocations,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(time.time()),
        batch_info[0]: batch_info[1],
    }
    if source_kind(mapping.on_failure_arn) != "sqs":
        logger.error(
            "event source records discarded",
            extra={**fields, "destination": mapping.on_failure_arn, "error": "not an SQS queue"},
        )
        return
    try:
        context.aws.client("sqs").send_message(
            QueueUrl=context.queue_url(mapping.on_failure_arn), MessageBody=json.dumps(document)
        )
    except Exception as error:
        logger.error(
            "event source records discarded",
            extra={**fields, "destination": mapping.on_failure_arn, "error": str(error)},
        )
        return
    logger.warning(
        "event source records sent to on-failure destination",
        extra={**fields, "destination": mapping.on_failure_arn},
    )


# -- queues ----------------------------------------------------------------------------------


class _QueuePoller:
    """One SQS queue of one mapping.

    Receives up to 10 messages a call without long polling, gathers up to `batch_size` within the
    batching window, and invokes with the SQS event. Success deletes the batch; with
    ReportBatchItemFailures only the messages not reported failed are deleted (a malformed
    response, or one naming a message not in the batch, keeps them all); a function error deletes
    none. What is kept becomes visible again after the queue's visibility timeout, and after the
    redrive policy's maxReceiveCount receives moto moves it to the dead-letter queue, as SQS does.
    Messages no filter matches are deleted without an invocation."""

    def __init__(self, context: _Context, mapping: EventSourceMapping) -> None:
        self._context = context
        self._mapping = mapping
        self._filters = FilterCriteria(mapping.filters)
        self._pending: list[dict[str, Any]] = []
        self._pending_since = 0.0  # monotonic

    def describe(self) -> dict[str, Any]:
        return _fields(self._mapping)

    def poll_once(self) -> float | None:
        sqs = self._context.aws.client("sqs")
        url = self._context.queue_url(self._mapping.source_arn)
        room = self._mapping.batch_size - len(self._pending)
        received: list[dict[str, Any]] = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(10, room)),
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        now = time.monotonic()
        if received and not self._pending:
            self._pending_since = now
        self._pending.extend(received)
        if not self._pending:
            return 0.0
        window_left = self._pending_since + self._mapping.batching_window_seconds - now
        if len(self._pending) < self._mapping.batch_size and window_left > 0:
            return None if received else window_left
        batch, self._pending = self._pending, []
        self._process(url, batch)
        return None

    def _process(self, url: str, messages: list[dict[str, Any]]) -> None:
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        for record in map(self._record, messages):
            matches = self._filters.matches({**record, "body": _maybe_json(record["body"])})
            (kept if matches else dropped).append(record)
        self._delete(url, dropped)
        if not kept:
            return
        invocation = self._context.call(self._mapping, {"Records": kept})
        failed = _failed_items(
            invocation,
            [record["messageId"] for record in kept],
            report=self._mapping.report_batch_item_failures,
        )
        if failed is None or failed:
            logger.warning(
                "event source batch failed",
                extra={
                    **self.describe(),
                    "records": len(kept),
                    "error": _batch_error(invocation, failed),
                },
            )
        if failed is None:
            return
        self._delete(url, [record for record in kept if record["messageId"] not in failed])

    def _delete(self, url: str, records: list[dict[str, Any]]) -> None:
        sqs = self._context.aws.client("sqs")
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            response = sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(chunk)
                ],
            )
            if response.get("Failed"):
                logger.warning(
                    "event source messages not deleted",
                    extra={**self.describe(), "failed": len(response["Failed"])},
                )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: _message_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._mapping.source_arn,
            "awsRegion": self._context.aws.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [_b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    return attribute


# -- shared ----------------------------------------------------------------------------------


def _failed_items(
    invocation: Invocation | None, identifiers: Sequence[str], *, report: bool
) -> list[str] | None:
    """The identifiers of the records a batch failed on ([]: none), or None when the whole batch
    failed: a function error, or with ReportBatchItemFailures a response Lambda cannot use."""
    if invocation is None or not invocation.ok:
        return None
    if not report:
        return []
    try:
        response = invocation.json()
    except ValueError:
        return None
    if response is None:
        return []
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    failed: list[str] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in identifiers:
            return None
        failed.append(identifier)
    return failed


def _batch_error(invocation: Invocation | None, failed: list[str] | None) -> str:
    """Why a batch failed, for its log line: what `_failed_items` made of the invocation."""
    if invocation is None:
        return "the function could not be invoked"
    if not invocation.ok:
        return f"{invocation.error_type}: {invocation.error_message or '(no message)'}"
    if failed is None:
        return "the function's batchItemFailures are malformed or name a record not in the batch"
    count = len(failed)
    return f"the function reported {count} record{'' if count == 1 else 's'} as failed"


def _fields(mapping: EventSourceMapping) -> dict[str, Any]:
    return {"function": mapping.function, "source": mapping.source_arn}


def _function_arn(aws: Aws, function: str) -> str:
    return function if function.startswith("arn:") else aws.arn("lambda", f"function:{function}")


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()


def _jsonable(value: Any) -> Any:
    """A value from a boto3 response as it travels in a Lambda event: binary as base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    return value


def _epoch(value: datetime | float | int | str) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


__all__ = [
    "DEFAULT_QUEUE_BATCH_SIZE",
    "DEFAULT_STREAM_BATCH_SIZE",
    "EventSourceMapping",
    "EventSourceRunner",
    "FilterCriteria",
    "source_kind",
]
