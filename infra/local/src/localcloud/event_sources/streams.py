"""Kinesis and DynamoDB stream event sources: one `ShardPoller` per shard, reading each shard
through the AWS API (`_KinesisShard`, `_DynamoDBShard`) and invoking the function as Lambda does."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError
from shop_streams import TTL_USER_IDENTITY

from localcloud.aws import ACCOUNT_ID
from localcloud.backoff import backoff_seconds
from localcloud.event_sources.context import (
    PollContext,
    batch_error,
    failed_items,
    function_arn,
    iso,
    maybe_json,
)
from localcloud.event_sources.mapping import (
    EventSourceMapping,
    FilterCriteria,
    SourceKind,
    mapping_fields,
    source_kind,
)
from localcloud.lambda_.functions import Invocation
from localcloud.patterns import FlatEvent, flatten

logger = logging.getLogger(__name__)

# The most records one GetRecords call returns: 10,000 for Kinesis, 1,000 for DynamoDB Streams.
_READ_LIMIT: dict[SourceKind, int] = {"kinesis": 10_000, "dynamodb": 1_000, "sqs": 10}
# A failed batch is retried after the local cloud's backoff (full jitter), from the poll interval
# doubling up to this.
MAX_RETRY_BACKOFF_SECONDS = 1.0
# A role ARN for the record's invokeIdentityArn: locally nothing assumes it.
INVOKE_IDENTITY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/localcloud-event-source-mapping"


@dataclass(slots=True)
class _Read:
    """One record of a shard as every reader of it (each mapping and lane) shares it: decoded
    once from the wire, however many read it."""

    sequence_number: str
    arrival: float  # epoch seconds
    event: dict[str, Any]  # the record as the function receives it; shared, so never changed
    view: dict[str, Any]  # what the filter criteria see
    partition_key: str | None  # None until the shard has worked it out
    no_op: bool = False  # a moto MODIFY that changed nothing (DynamoDB records none)
    flat_view: FlatEvent | None = None  # `view` flattened, the first time a filter needs it
    lane_digest: int | None = None  # the partition key's hash, the first time a lane needs it

    def matches(self, filters: FilterCriteria) -> bool:
        if not filters:
            return True
        if self.flat_view is None:
            self.flat_view = flatten(self.view)
        return filters.matches_flat(self.flat_view)


@dataclass
class _Record:
    """One stream record as one poller handles it."""

    read: _Read
    event: dict[str, Any]  # the record as this poller's function receives it
    keep: bool  # False: dropped by the filter criteria or as a moto no-op MODIFY

    @property
    def sequence_number(self) -> str:
        return self.read.sequence_number

    @property
    def arrival(self) -> float:
        return self.read.arrival


class _Shard(Protocol):
    shard_id: str

    def read(self, after: str | None, limit: int) -> list[_Read]:
        """Records after the sequence number `after` (None: from the oldest record)."""

    def partition_key(self, read: _Read) -> str:
        """What Lambda keeps in order when a shard's batches run in parallel."""

    def record(self, read: _Read, filters: FilterCriteria, consumer: object) -> _Record:
        """The record as one poller handles it, filtered; `consumer` is the poller, for the TTL
        deletes it has claimed."""


def shards_of(context: PollContext, mapping: EventSourceMapping) -> list[_Shard]:
    """The shards of the mapping's stream, each one object for every mapping and lane reading it,
    so that one read of it serves them all (`_SharedReads`)."""
    shards: list[_Shard] = []
    if mapping.kind == "kinesis":
        kinesis = context.aws.client("kinesis")
        for page in kinesis.get_paginator("list_shards").paginate(StreamARN=mapping.source_arn):
            for shard in page["Shards"]:
                key = (mapping.source_arn, shard["ShardId"])
                shards.append(context.shards.setdefault(key, _KinesisShard(context, *key)))
    else:
        streams = context.aws.client("dynamodbstreams")
        description = streams.describe_stream(StreamArn=mapping.source_arn)["StreamDescription"]
        for shard in description["Shards"]:
            key = (mapping.source_arn, shard["ShardId"])
            shards.append(context.shards.setdefault(key, _DynamoDBShard(context, *key)))
    return shards


def _position(after: str | None, sequence_number_field: str) -> dict[str, str]:
    """Where a fresh shard iterator starts: after the sequence number `after`, else at the oldest
    record; Kinesis and DynamoDB Streams name the sequence number's field differently."""
    if after:
        return {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", sequence_number_field: after}
    return {"ShardIteratorType": "TRIM_HORIZON"}


# How many of a shard's latest records its readers share (`_SharedReads`); older ones are read
# from the stream again by whoever still needs them.
SHARED_RECORDS = 10_000
# How long a read that found a shard's end stands for the shard's end, if no news came since:
# long enough for the readers one put woke to share one read, short enough that a record no
# wake-up told of (one put straight into moto) is read at the next round after it.
SHARED_END_SECONDS = 0.05


class _SharedReads:
    """What a shard's readers (every lane of every mapping on it) have read of it lately: one run
    of consecutive records, and the iterator that reads on from its end. A put wakes every reader
    of the shard at once; the first one's read serves the others, where each used to make a call
    of its own for the same records.

    - A read after a record in the run (or at its end) is answered from the run. If the run holds
      fewer records than the reader asked for, it reads on from the run's end with the kept
      iterator (one call), unless the run's last read found the shard's end less than
      `SHARED_END_SECONDS` ago and the shard has had no news (`news`, its wake-ups) since: then
      the run is all the shard holds, as a read of the stream would have said.
    - A read from anywhere else (a reader far behind, or the first read of all) takes a fresh
      iterator: two calls. The first one starts the run.

    Reads of one shard take turns, so those woken together make one call."""

    def __init__(self, news: Callable[[], int]) -> None:
        self._lock = threading.Lock()
        self._news = news
        self._started = False
        self._records: list[_Read] = []
        self._next: dict[str | None, int] = {}  # a sequence number: the index of the record after
        self._reading_on: str | None = None  # the iterator at the run's end
        # When a read last found the shard's end: the news count then, and the monotonic time.
        self._whole_as_of: tuple[int, float] | None = None

    def read(
        self,
        after: str | None,
        limit: int,
        iterator_at: Callable[[str | None], str],
        records_from: Callable[[str, int], tuple[list[_Read], str | None]],
    ) -> list[_Read]:
        with self._lock:
            start = self._next.get(after) if self._started else None
            if start is None:
                return self._read_elsewhere(after, limit, iterator_at, records_from)
            shared = self._records[start : start + limit]
            if len(shared) == limit or self._still_whole():
                return shared
            end = self._records[-1].sequence_number if self._records else after
            asked = self._news(), time.monotonic()
            try:
                read, reading_on = records_from(
                    self._reading_on or iterator_at(end), limit - len(shared)
                )
            except ClientError:
                self._reading_on = None  # an expired or unknown iterator: start afresh next time
                raise
            self._extend(read, reading_on)
            self._whole_as_of = asked if len(read) < limit - len(shared) else None
            return shared + read

    def _read_elsewhere(
        self,
        after: str | None,
        limit: int,
        iterator_at: Callable[[str | None], str],
        records_from: Callable[[str, int], tuple[list[_Read], str | None]],
    ) -> list[_Read]:
        asked = self._news(), time.monotonic()
        read, reading_on = records_from(iterator_at(after), limit)
        if not self._started:
            self._started, self._next = True, {after: 0}
            self._extend(read, reading_on)
            self._whole_as_of = asked if len(read) < limit else None
        return read

    def _still_whole(self) -> bool:
        """Whether the run's last read found the shard's end so lately, and with no news since,
        that the run is all the shard holds."""
        if self._whole_as_of is None:
            return False
        news, asked_at = self._whole_as_of
        return news == self._news() and time.monotonic() - asked_at < SHARED_END_SECONDS

    def _extend(self, read: list[_Read], reading_on: str | None) -> None:
        for record in read:
            self._records.append(record)
            self._next[record.sequence_number] = len(self._records)
        self._reading_on = reading_on
        if len(self._records) > SHARED_RECORDS + SHARED_RECORDS // 10:
            # Keep the latest SHARED_RECORDS: the run now starts after the last record dropped.
            dropped = len(self._records) - SHARED_RECORDS
            starts_after = self._records[dropped - 1].sequence_number
            self._records = self._records[dropped:]
            self._next = {starts_after: 0}
            for index, record in enumerate(self._records, start=1):
                self._next[record.sequence_number] = index


class _KinesisShard:
    def __init__(self, context: PollContext, stream_arn: str, shard_id: str) -> None:
        self._context = context
        self._stream_arn = stream_arn
        self.shard_id = shard_id
        self._reads = _SharedReads(lambda: context.wake_ups.news(stream_arn))

    def read(self, after: str | None, limit: int) -> list[_Read]:
        kinesis = self._context.aws.records_client("kinesis")

        def iterator_at(after: str | None) -> str:
            iterator: str = kinesis.get_shard_iterator(
                StreamARN=self._stream_arn,
                ShardId=self.shard_id,
                **_position(after, "StartingSequenceNumber"),
            )["ShardIterator"]
            return iterator

        def records_from(iterator: str, limit: int) -> tuple[list[_Read], str | None]:
            # moto's iterators only name the stream when given its name: pass the ARN again.
            response = kinesis.get_records(
                ShardIterator=iterator, Limit=limit, StreamARN=self._stream_arn
            )
            return [self._decoded(raw) for raw in response["Records"]], response.get(
                "NextShardIterator"
            )

        return self._reads.read(after, limit, iterator_at, records_from)

    def _decoded(self, raw: dict[str, Any]) -> _Read:
        """A record as the wire has it (`Aws.records_client`): its data in base64."""
        sequence_number = str(raw["SequenceNumber"])
        arrival = float(raw["ApproximateArrivalTimestamp"])
        event = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": raw["PartitionKey"],
                "sequenceNumber": sequence_number,
                "data": raw["Data"],
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
        data = base64.b64decode(raw["Data"]).decode(errors="replace")
        view = {"data": maybe_json(data)}
        return _Read(sequence_number, arrival, event, view, partition_key=raw["PartitionKey"])

    def partition_key(self, read: _Read) -> str:
        return str(read.partition_key)

    def record(
        self,
        read: _Read,
        filters: FilterCriteria,
        consumer: object,  # noqa: ARG002 - only DynamoDB streams carry TTL deletes
    ) -> _Record:
        return _Record(read, read.event, read.matches(filters))


class _DynamoDBShard:
    def __init__(self, context: PollContext, stream_arn: str, shard_id: str) -> None:
        self._context = context
        self._stream_arn = stream_arn
        self._table = stream_arn.split(":", 5)[5].split("/")[1]
        self._hash_key: str | None = None
        self.shard_id = shard_id
        # A kept iterator reads on in the same table, and a record once read stays: a cancelled
        # transaction puts back what it wrote in place, its stream cut back to where it was,
        # under the lock that every DynamoDB and Streams call takes (`localcloud.moto.process`).
        self._reads = _SharedReads(lambda: context.wake_ups.news(stream_arn))

    def read(self, after: str | None, limit: int) -> list[_Read]:
        streams = self._context.aws.records_client("dynamodbstreams")

        def iterator_at(after: str | None) -> str:
            iterator: str = streams.get_shard_iterator(
                StreamArn=self._stream_arn,
                ShardId=self.shard_id,
                **_position(after, "SequenceNumber"),
            )["ShardIterator"]
            return iterator

        def records_from(iterator: str, limit: int) -> tuple[list[_Read], str | None]:
            response = streams.get_records(ShardIterator=iterator, Limit=limit)
            return [self._decoded(raw) for raw in response["Records"]], response.get(
                "NextShardIterator"
            )

        return self._reads.read(after, limit, iterator_at, records_from)

    def _decoded(self, raw: dict[str, Any]) -> _Read:
        """A record as the wire has it (`Aws.records_client`): typed attribute values, binary in
        base64, its creation time in epoch seconds."""
        change: dict[str, Any] = dict(raw["dynamodb"])
        arrival = float(change["ApproximateCreationDateTime"])
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
        # moto records a MODIFY for a write that changed nothing; DynamoDB records none.
        no_op = (
            raw["eventName"] == "MODIFY"
            and "NewImage" in change
            and change.get("OldImage") == change["NewImage"]
        )
        sequence_number = str(change["SequenceNumber"])
        return _Read(sequence_number, arrival, event, event, partition_key=None, no_op=no_op)

    def partition_key(self, read: _Read) -> str:
        """The item's partition (hash) key, whatever its sort key: the table's key schema says
        which attribute it is."""
        if read.partition_key is None:
            if self._hash_key is None:
                table = self._context.aws.client("dynamodb").describe_table(TableName=self._table)
                schema = table["Table"]["KeySchema"]
                self._hash_key = next(
                    key["AttributeName"] for key in schema if key["KeyType"] == "HASH"
                )
            keys = read.event["dynamodb"]["Keys"]
            read.partition_key = json.dumps(keys.get(self._hash_key), sort_keys=True)
        return read.partition_key

    def record(self, read: _Read, filters: FilterCriteria, consumer: object) -> _Record:
        if read.no_op:
            return _Record(read, read.event, keep=False)
        deletes = self._context.ttl_deletes
        if (
            read.event["eventName"] == "REMOVE"
            and deletes is not None
            and deletes.claim(
                self._table,
                read.event["dynamodb"]["Keys"],
                consumer=consumer,
                sequence_number=read.sequence_number,
                deleted_at=read.arrival,
            )
        ):
            # This poller's view of it: the record shared by every reader stays as it is.
            event = {**read.event, "userIdentity": dict(TTL_USER_IDENTITY)}
            return _Record(read, event, keep=filters.matches(event))
        return _Record(read, read.event, read.matches(filters))


class ShardPoller:
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
    - With a `parallelization_factor` above 1, the shard has that many pollers, its lanes: each
      reads the whole shard from a checkpoint of its own and keeps only the records whose
      partition key hashes to its `lane`, so the batches of one shard run side by side while the
      records of one key stay in order in one lane, and a failing lane holds back only its own
      keys (as Lambda's concurrent batches per shard do).
    """

    def __init__(
        self, context: PollContext, mapping: EventSourceMapping, shard: _Shard, *, lane: int = 0
    ) -> None:
        self._context = context
        self._mapping = mapping
        self._shard = shard
        self._lane = lane
        self._filters = FilterCriteria(mapping.filters)
        self._limit = min(mapping.batch_size, _READ_LIMIT[mapping.kind])
        self._checkpoint = self._start_after(mapping.starting_position)
        self._window_start: tuple[str, float] | None = None  # (first sequence number, monotonic)
        self._attempts: tuple[str, int] = ("", 0)  # (sequence number of batch start, invocations)
        self._splits: list[int] = []  # bisection: sizes of the batches still to retry, in order
        self._retry_at = 0.0  # monotonic
        self._last_invocation: Invocation | None = None

    def describe(self) -> dict[str, Any]:
        lane = {"lane": self._lane} if self._mapping.parallelization_factor > 1 else {}
        return {**mapping_fields(self._mapping), "shard": self._shard.shard_id, **lane}

    def finish(self) -> None:
        """Nothing to wait for: a shard's one batch in flight is invoked on the polling thread."""

    def _start_after(self, starting_position: str) -> str | None:
        if starting_position == "TRIM_HORIZON":
            return None
        # LATEST, as a position the poller can come back to: after the newest record now there.
        newest: str | None = None
        while True:
            reads = self._shard.read(newest, _READ_LIMIT[self._mapping.kind])
            if not reads:
                return newest
            newest = reads[-1].sequence_number

    def poll_once(self) -> float | None:
        now = time.monotonic()
        if now < self._retry_at:
            return self._retry_at - now
        limit = min(self._splits[0], self._limit) if self._splits else self._limit
        reads = self._shard.read(self._checkpoint, self._limit)
        records = [self._shard.record(read, self._filters, self) for read in reads]
        if not records:
            return 0.0
        # A read of fewer records than it asked for took all the shard had: once they are all
        # handled, the poller waits for news (a wake-up) instead of reading again at once.
        drained = len(reads) < self._limit
        if self._mapping.parallelization_factor > 1:
            for record in records:
                record.keep = record.keep and self._in_lane(record)
        wait = self._batching_wait(records, now)
        if wait > 0:
            return wait
        window = _take_kept(records, limit)
        batch = [record for record in window if record.keep]
        if not batch:
            self._done_through(window[-1])
            return 0.0 if drained and window[-1] is records[-1] else None
        expired = self._expired(batch)
        if expired:
            self._give_up(expired, "RecordAgeExceeded")
            self._done_through(expired[-1])
            return None
        self._invoke(records, window, batch)
        handled = self._checkpoint == records[-1].sequence_number and not self._splits
        return 0.0 if drained and handled else None

    def _in_lane(self, record: _Record) -> bool:
        read = record.read
        if read.lane_digest is None:
            key = self._shard.partition_key(read).encode()
            # A hash that is the same in every process and run (Python's hash() of a str is not).
            read.lane_digest = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
        return read.lane_digest % self._mapping.parallelization_factor == self._lane

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
        failed = failed_items(
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
                        "error": batch_error(invocation, failed),
                    },
                )
                self._done_through(records[records.index(batch[lowest]) - 1])
                self._attempts = (batch[lowest].sequence_number, invocations)
                if self._splits:
                    self._splits[0] -= lowest
                self._schedule_retry(invocations)
                return
        self._batch_failed(batch, invocations, batch_error(invocation, failed))

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
        self._retry_at = time.monotonic() + backoff_seconds(
            invocations - 1,
            base_seconds=self._context.poll_interval,
            cap_seconds=MAX_RETRY_BACKOFF_SECONDS,
        )

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
            "approximateArrivalOfFirstRecord": iso(batch[0].arrival),
            "approximateArrivalOfLastRecord": iso(batch[-1].arrival),
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
    context: PollContext,
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
        **mapping_fields(mapping),
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
            "functionArn": function_arn(context.aws, mapping.function),
            "condition": condition,
            "approximateInvokeCount": invocations,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": iso(time.time()),
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
