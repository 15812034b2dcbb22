"""What an event source gave up on, parked as faults that carry the records themselves.

When a transient failure outlasts a stream mapping's retries (`MaximumRetryAttempts`,
`MaximumRecordAgeInSeconds`), Lambda sends the mapping's on-failure destination an invocation
record: a pointer to the records (stream, shard, first and last sequence numbers), not the records,
and no error. A service deploys one more function on its own failure queue, with the handler
`shop_streams.handlers.unprocessed`; it reads the records back from the stream while the stream
retains them and publishes one fault per record, under the id the failed function would have given
it (`fault_id`), so every record that could not be processed ends as exactly one parked fault.

The on-failure record of an asynchronous invocation (an EventBridge rule's Lambda target) carries
the event itself and the function's last error, and is parked the same way. A message that is no
on-failure record, or whose records the stream no longer holds, is parked as it is, so nothing is
dropped: it can still be read, and resubmitted to this function.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from shop_envelope import Envelope, EventFactory, Fault, FaultEvent
from shop_publisher import EventPublisher, PublishError

from shop_streams.batch import PartialBatchResponse
from shop_streams.faults import MAX_MESSAGE_CHARS, fault_id
from shop_streams.records import DYNAMODB, EVENTBRIDGE, KINESIS, SQS, Record, records_of

logger = logging.getLogger(__name__)

# The batch descriptions of Lambda's on-failure records, by the stream they point into.
_BATCH_INFO = {"KinesisBatchInfo": KINESIS, "DDBStreamBatchInfo": DYNAMODB}


class NotAnOnFailureRecord(ValueError):
    """A message on the failure queue that is not one of Lambda's on-failure records."""


class RecordsGone(LookupError):
    """The stream no longer holds the records an on-failure record points to."""


@dataclass(frozen=True)
class OnFailureRecord:
    """Lambda's invocation record for what it gave up on (the documented `version` 1.0 shape)."""

    condition: str  # RetryAttemptsExhausted, RecordAgeExceeded, RetriesExhausted, EventAgeExceeded
    function_name: str
    invocations: int
    function_error: str | None
    batch: Mapping[str, Any] | None  # a stream's batch info
    event_source: str  # where the records came from: aws:kinesis, aws:dynamodb, aws:events
    request: Mapping[str, Any] | None = None  # an asynchronous invocation's event
    response: Mapping[str, Any] | None = None  # and the function's error payload

    @classmethod
    def parse(cls, body: str) -> OnFailureRecord:
        try:
            document = json.loads(body)
            context = document["requestContext"]
            function_arn = str(context["functionArn"])
        except (ValueError, TypeError, KeyError) as error:
            raise NotAnOnFailureRecord(f"not an on-failure record of Lambda ({error})") from None
        response = document.get("responseContext") or {}
        common: dict[str, Any] = {
            "condition": str(context.get("condition", "Unknown")),
            # arn:aws:lambda:region:account:function:name[:qualifier]
            "function_name": function_arn.split(":")[6] if ":function:" in function_arn else "",
            "invocations": max(1, int(context.get("approximateInvokeCount") or 1)),
            "function_error": response.get("functionError"),
        }
        for key, event_source in _BATCH_INFO.items():
            if isinstance(document.get(key), dict):
                return cls(**common, batch=document[key], event_source=event_source)
        if isinstance(document.get("requestPayload"), dict):
            payload = document.get("responsePayload")
            return cls(
                **common,
                batch=None,
                event_source=EVENTBRIDGE,
                request=document["requestPayload"],
                response=payload if isinstance(payload, dict) else None,
            )
        raise NotAnOnFailureRecord("an on-failure record with neither batch info nor payload")

    def error(self) -> tuple[str, str]:
        """The last error known: the function's own for an asynchronous invocation, otherwise
        what Lambda says (its details are in the function's log, under the record's id)."""
        if self.response and self.response.get("errorType"):
            return str(self.response["errorType"]), str(self.response.get("errorMessage", ""))
        cause = (
            f"the function failed ({self.function_error})"
            if self.function_error
            else "the function reported the record as failed"
        )
        return (
            self.condition,
            f"gave up after {self.invocations} invocation(s): {cause};"
            " the function's log says why, under the record's id",
        )


class StreamRecords(Protocol):
    """Reads records back from a stream, as Lambda delivers them to a function."""

    def read(
        self, event_source: str, stream_arn: str, shard_id: str, first: str, last: str
    ) -> list[dict[str, Any]]:
        """The records from sequence number `first` through `last`; `RecordsGone` when the
        stream no longer holds them."""
        ...


class UnprocessedRecords:
    """The failure-queue function's engine: SQS batch of on-failure records in, faults out.

    `events` names the service (its tags stamp the faults; each fault names the function that
    failed the record, so a resubmission goes back to it)."""

    def __init__(
        self, *, events: EventFactory, publisher: EventPublisher, streams: StreamRecords
    ) -> None:
        self._events = events
        self._publisher = publisher
        self._streams = streams

    def process(self, event: Mapping[str, Any]) -> PartialBatchResponse:
        faults_of: dict[str, list[FaultEvent]] = {}
        failed: list[str] = []
        for message in records_of(event):
            if message.event_source != SQS:
                raise TypeError("UnprocessedRecords reads an SQS failure queue")
            try:
                faults_of[message.item_identifier] = self._faults(message)
            except Exception as error:  # the stream could not be read now: SQS retries
                logger.warning(
                    "unprocessed records not read",
                    extra={"message_id": message.record_id, "error": str(error)},
                )
                failed.append(message.item_identifier)
        faults = [fault for message_faults in faults_of.values() for fault in message_faults]
        unpublished: set[str] = set()
        if faults:
            try:
                self._publisher.publish(faults)
            except PublishError as error:
                unpublished = {entry.event.id for entry in error.failed}
                logger.error("fault events not published", extra={"unpublished": len(unpublished)})
        failed.extend(
            item
            for item, message_faults in faults_of.items()
            if any(fault.id in unpublished for fault in message_faults)
        )
        logger.info(
            "unprocessed records parked",
            extra={"parked": len(faults) - len(unpublished), "failed": len(failed)},
        )
        return {"batchItemFailures": [{"itemIdentifier": item} for item in failed]}

    def _faults(self, message: Record) -> list[FaultEvent]:
        try:
            pointer = OnFailureRecord.parse(str(message.raw["body"]))
        except NotAnOnFailureRecord as error:
            return [self._parked_as_is(message, type(error).__name__, str(error))]
        if pointer.request is not None:
            event = dict(pointer.request)
            return [self._fault(pointer, event, record_id=str(event["id"]))]
        batch = pointer.batch or {}
        try:
            records = self._streams.read(
                pointer.event_source,
                str(batch["streamArn"]),
                str(batch["shardId"]),
                str(batch["startSequenceNumber"]),
                str(batch["endSequenceNumber"]),
            )
        except RecordsGone as gone:
            return [self._parked_as_is(message, type(gone).__name__, str(gone))]
        return [self._fault(pointer, record, record_id=_record_id(record)) for record in records]

    def _fault(
        self, pointer: OnFailureRecord, record: dict[str, Any], *, record_id: str
    ) -> FaultEvent:
        error_type, message = pointer.error()
        envelope = _envelope_of(pointer.event_source, record)
        events = replace(self._events, function_name=pointer.function_name)
        fault = Fault(
            error_type=error_type,
            message=message[:MAX_MESSAGE_CHARS],
            event_source=pointer.event_source,
            record_id=record_id,
            event_id=envelope.id if envelope else None,
            event_type=envelope.type if envelope else None,
            record=record,
            attempts=pointer.invocations,
        )
        return events.create(
            FaultEvent,
            fault,
            partition_key=envelope.partition_key if envelope else record_id,
            correlation_id=envelope.correlation_id if envelope else None,
            id=fault_id(pointer.function_name, pointer.event_source, record_id),
        )

    def _parked_as_is(self, message: Record, error_type: str, error: str) -> FaultEvent:
        function = self._events.function_name or self._events.source
        fault = Fault(
            error_type=error_type,
            message=error[:MAX_MESSAGE_CHARS],
            event_source=SQS,
            record_id=message.record_id,
            record=dict(message.raw),
        )
        return self._events.create(
            FaultEvent,
            fault,
            partition_key=message.record_id,
            id=fault_id(function, SQS, message.record_id),
        )


def _record_id(record: Mapping[str, Any]) -> str:
    """The id `records.record_of` gives the same record when the function received it."""
    return str(record["eventID"])


def _envelope_of(event_source: str, record: Mapping[str, Any]) -> Envelope | None:
    """The domain event a record carries, when it is one (a table's change is not)."""
    try:
        if event_source == KINESIS:
            return Envelope.model_validate_json(base64.b64decode(record["kinesis"]["data"]))
        if event_source == EVENTBRIDGE:
            return Envelope.model_validate(record["detail"])
    except Exception:  # a record that never was an event is parked all the same
        return None
    return None


class AwsStreamRecords:
    """`StreamRecords` over the Kinesis and DynamoDB Streams APIs (clients created on first use)."""

    def __init__(
        self,
        *,
        kinesis: Any | None = None,
        dynamodbstreams: Any | None = None,
        region: str | None = None,
    ) -> None:
        self._kinesis = kinesis
        self._dynamodbstreams = dynamodbstreams
        self._region = region

    def read(
        self, event_source: str, stream_arn: str, shard_id: str, first: str, last: str
    ) -> list[dict[str, Any]]:
        import boto3

        region = self._region or stream_arn.split(":")[3]
        if event_source == KINESIS:
            kinesis = self._kinesis = self._kinesis or boto3.client("kinesis")
            iterator = _iterator(
                kinesis, stream_arn, shard_id, StreamARN=stream_arn, StartingSequenceNumber=first
            )
            # moto's iterators name the stream only when given its name: pass the ARN again.
            pages = _pages(kinesis, iterator, StreamARN=stream_arn)
            found = [
                _kinesis_record(raw, stream_arn, shard_id, region)
                for raw in _through(pages, last, lambda raw: raw["SequenceNumber"])
            ]
        elif event_source == DYNAMODB:
            streams = self._dynamodbstreams = self._dynamodbstreams or boto3.client(
                "dynamodbstreams"
            )
            iterator = _iterator(
                streams, stream_arn, shard_id, StreamArn=stream_arn, SequenceNumber=first
            )
            pages = _pages(streams, iterator)
            found = [
                _dynamodb_record(raw, stream_arn, region)
                for raw in _through(pages, last, lambda raw: raw["dynamodb"]["SequenceNumber"])
            ]
        else:
            raise ValueError(f"records of {event_source} are not read back from a stream")
        if not found:
            raise RecordsGone(f"{stream_arn} shard {shard_id} holds no record from {first}")
        return found


# The errors that say the records are gone for good (trimmed, the stream or shard deleted).
_GONE = {"ResourceNotFoundException", "TrimmedDataAccessException", "InvalidArgumentException"}


def _iterator(client: Any, stream_arn: str, shard_id: str, **position: str) -> str:
    from botocore.exceptions import ClientError

    try:
        iterator: str = client.get_shard_iterator(
            ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER", **position
        )["ShardIterator"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in _GONE:
            raise RecordsGone(f"{stream_arn} shard {shard_id}: {code}") from error
        raise
    return iterator


def _pages(client: Any, iterator: str | None, **extra: str) -> Iterator[list[dict[str, Any]]]:
    """The records of a shard from `iterator` on, a GetRecords page at a time, until one is empty."""
    while iterator:
        page = client.get_records(ShardIterator=iterator, **extra)
        if not page["Records"]:
            return
        yield page["Records"]
        iterator = page.get("NextShardIterator")


def _through(
    pages: Iterator[list[dict[str, Any]]], last: str, sequence_of: Callable[[Any], str]
) -> Iterator[dict[str, Any]]:
    for records in pages:
        for raw in records:
            if int(sequence_of(raw)) > int(last):
                return
            yield raw


def _kinesis_record(
    raw: Mapping[str, Any], stream_arn: str, shard_id: str, region: str
) -> dict[str, Any]:
    """A record from GetRecords in the shape a Lambda function receives it."""
    arrival = raw["ApproximateArrivalTimestamp"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": raw["PartitionKey"],
            "sequenceNumber": raw["SequenceNumber"],
            "data": base64.b64encode(raw["Data"]).decode(),
            "approximateArrivalTimestamp": round(_epoch(arrival), 3),
        },
        "eventSource": KINESIS,
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{raw['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def _dynamodb_record(raw: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A DynamoDB stream record from GetRecords in the shape a Lambda function receives it."""
    record: dict[str, Any] = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": DYNAMODB,
        "awsRegion": raw.get("awsRegion", region),
        "dynamodb": _jsonable(raw["dynamodb"]),
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in raw:
        record["userIdentity"] = _jsonable(raw["userIdentity"])
    return record


def _jsonable(value: Any) -> Any:
    """A boto3 value as it travels in a Lambda event: binary as base64, times as epoch seconds."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    return value


def _epoch(value: datetime | float | int) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)
