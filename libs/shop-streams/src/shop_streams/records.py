"""One delivered record, whatever the event source, reduced to what dispatching needs."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shop_envelope import InvalidEnvelope

from shop_streams.errors import UnsupportedEvent

KINESIS = "aws:kinesis"
SQS = "aws:sqs"
DYNAMODB = "aws:dynamodb"
EVENTBRIDGE = "aws:events"


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
        if self.event_source == KINESIS:
            return base64.b64decode(self.raw["kinesis"]["data"])
        if self.event_source == SQS:
            return _unwrap_eventbridge(self.raw["body"])
        if self.event_source == EVENTBRIDGE:
            detail: Mapping[str, Any] = self.raw["detail"]
            return detail
        raise UnsupportedEvent(f"records from {self.event_source} carry no domain event body")


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


def records_of(event: Mapping[str, Any]) -> Iterator[Record]:
    source = source_of(event)
    if source == EVENTBRIDGE:
        yield Record(EVENTBRIDGE, str(event["id"]), str(event["id"]), event)
        return
    for raw in event.get("Records", ()):
        if source == KINESIS:
            kinesis = raw["kinesis"]
            yield Record(
                KINESIS,
                kinesis["sequenceNumber"],
                raw.get("eventID") or kinesis["sequenceNumber"],
                raw,
            )
        elif source == SQS:
            yield Record(SQS, raw["messageId"], raw["messageId"], raw)
        else:
            sequence = raw["dynamodb"]["SequenceNumber"]
            yield Record(DYNAMODB, sequence, raw.get("eventID") or sequence, raw)


def is_fifo(event: Mapping[str, Any]) -> bool:
    records: list[Mapping[str, Any]] = event.get("Records") or []
    return bool(records) and str(records[0].get("eventSourceARN", "")).endswith(".fifo")
