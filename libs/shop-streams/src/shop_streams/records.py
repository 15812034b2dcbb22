"""One delivered record, whatever the event source, reduced to what dispatching needs."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shop_envelope import InvalidEnvelope

from shop_streams.errors import UnsupportedEvent

KINESIS = "aws:kinesis"
SQS = "aws:sqs"
DYNAMODB = "aws:dynamodb"
EVENTBRIDGE = "aws:events"
# The identity DynamoDB documents on a stream's REMOVE record made by TTL expiry rather than by a
# caller: how a function tells the two apart.
TTL_USER_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@dataclass(frozen=True, slots=True)
class Record:
    """`item_identifier` is what a partial batch response names; `record_id` identifies the record
    uniquely at its source (a Kinesis sequence number alone repeats across shards)."""

    event_source: str
    item_identifier: str
    record_id: str
    raw: Mapping[str, Any]

    def body(self) -> bytes | Mapping[str, Any]:
        """The domain event this record carries: JSON bytes, or an already decoded mapping."""
        return body_reader(self.event_source)(self.raw)


Body = bytes | Mapping[str, Any]


def kinesis_body(raw: Mapping[str, Any]) -> Body:
    return base64.b64decode(raw["kinesis"]["data"])


def sqs_body(raw: Mapping[str, Any]) -> Body:
    return _unwrap_eventbridge(raw["body"])


def eventbridge_body(raw: Mapping[str, Any]) -> Body:
    detail: Mapping[str, Any] = raw["detail"]
    return detail


_BODY_READERS: dict[str, Callable[[Mapping[str, Any]], Body]] = {
    KINESIS: kinesis_body,
    SQS: sqs_body,
    EVENTBRIDGE: eventbridge_body,
}


def body_reader(event_source: str) -> Callable[[Mapping[str, Any]], Body]:
    """How to read the domain event out of one record of this source."""
    try:
        return _BODY_READERS[event_source]
    except KeyError:
        raise UnsupportedEvent(f"records from {event_source} carry no domain event body") from None


def _unwrap_eventbridge(body: str) -> Mapping[str, Any]:
    # An SQS message is either a bare envelope or, from an EventBridge rule target, the whole
    # EventBridge event with the envelope as its `detail`.
    try:
        message = json.loads(body)
    except ValueError as error:
        raise InvalidEnvelope(f"the message body is not JSON ({error})") from error
    if not isinstance(message, dict):
        raise InvalidEnvelope("the message body is not a JSON object")
    if "detail-type" in message and isinstance(message.get("detail"), dict):
        detail: dict[str, Any] = message["detail"]
        return detail
    return message


def source_of(event: Mapping[str, Any]) -> str:
    """Which AWS event source a Lambda event comes from, by its documented shape."""
    records = event.get("Records")
    if isinstance(records, list):
        if not records:
            return ""
        first = records[0]
        source = first.get("eventSource") or first.get("EventSource")
        if source in (KINESIS, SQS, DYNAMODB):
            return str(source)
    elif "detail-type" in event and "detail" in event:
        return EVENTBRIDGE
    raise UnsupportedEvent(
        "not a Kinesis, SQS, DynamoDB stream or EventBridge Lambda event "
        f"(top-level keys: {sorted(event)[:8]})"
    )


def raw_records(event: Mapping[str, Any], event_source: str) -> list[Mapping[str, Any]]:
    """The records of a Lambda event as delivered; an EventBridge event is its own one record."""
    if event_source == EVENTBRIDGE:
        return [event]
    records: list[Mapping[str, Any]] = event.get("Records") or []
    return records


def record_of(event_source: str, raw: Mapping[str, Any]) -> Record:
    """A record with its identifiers: built only where a record must be named (it failed)."""
    if event_source == KINESIS:
        sequence = raw["kinesis"]["sequenceNumber"]
        return Record(KINESIS, sequence, raw.get("eventID") or sequence, raw)
    if event_source == SQS:
        return Record(SQS, raw["messageId"], raw["messageId"], raw)
    if event_source == DYNAMODB:
        sequence = raw["dynamodb"]["SequenceNumber"]
        return Record(DYNAMODB, sequence, raw.get("eventID") or sequence, raw)
    return Record(event_source, str(raw["id"]), str(raw["id"]), raw)


def records_of(event: Mapping[str, Any]) -> Iterator[Record]:
    source = source_of(event)
    for raw in raw_records(event, source):
        yield record_of(source, raw)


def is_fifo(event: Mapping[str, Any]) -> bool:
    records: list[Mapping[str, Any]] = event.get("Records") or []
    return bool(records) and str(records[0].get("eventSourceARN", "")).endswith(".fifo")
