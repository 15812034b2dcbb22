"""Change data capture: a service's own DynamoDB stream turned into the domain events it publishes.

The service provides a mapper from one `Change` (an item inserted, modified or removed) to the
events that change means; this module does the rest: decode, map, publish, partial batch response.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from shop_envelope import Envelope, EventFactory
from shop_publisher import EventPublisher, PublishError

from shop_streams.failures import FailureKind, FailurePolicy
from shop_streams.faults import fault_for
from shop_streams.processor import PartialBatchResponse
from shop_streams.records import DYNAMODB, Record, records_of, source_of

logger = logging.getLogger(__name__)

ChangeName = Literal["INSERT", "MODIFY", "REMOVE"]
# The identity DynamoDB documents on a REMOVE record made by TTL expiry rather than by a caller.
TTL_PRINCIPAL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@dataclass(frozen=True)
class Change:
    """One item-level change, with images as plain Python values (numbers as `Decimal`)."""

    name: ChangeName
    keys: dict[str, Any]
    new: dict[str, Any] | None
    old: dict[str, Any] | None
    sequence_number: str
    timestamp_ms: int
    expired_by_ttl: bool = False

    @property
    def image(self) -> dict[str, Any]:
        """The item as it is now, or as it was before it was removed."""
        image = self.new if self.new is not None else self.old
        return image or {}


ChangeMapper = Callable[[Change], Iterable[Envelope]]


def from_dynamodb(value: Mapping[str, Any]) -> Any:
    """One DynamoDB JSON attribute value (`{"S": "x"}`, `{"N": "1"}`, ...) as a Python value."""
    ((tag, inner),) = value.items()
    if tag == "S":
        return inner
    if tag == "N":
        return Decimal(inner)
    if tag == "BOOL":
        return bool(inner)
    if tag == "NULL":
        return None
    if tag == "M":
        return {key: from_dynamodb(item) for key, item in inner.items()}
    if tag == "L":
        return [from_dynamodb(item) for item in inner]
    if tag == "B":
        return base64.b64decode(inner)
    if tag == "SS":
        return set(inner)
    if tag == "NS":
        return {Decimal(number) for number in inner}
    if tag == "BS":
        return {base64.b64decode(item) for item in inner}
    raise ValueError(f"unknown DynamoDB attribute type {tag!r}")


def change_of(record: Mapping[str, Any]) -> Change:
    """The `Change` a DynamoDB stream record describes."""
    dynamodb = record["dynamodb"]
    new, old = dynamodb.get("NewImage"), dynamodb.get("OldImage")
    return Change(
        name=record["eventName"],
        keys={name: from_dynamodb(value) for name, value in dynamodb["Keys"].items()},
        new={name: from_dynamodb(value) for name, value in new.items()} if new else None,
        old={name: from_dynamodb(value) for name, value in old.items()} if old else None,
        sequence_number=dynamodb["SequenceNumber"],
        timestamp_ms=int(Decimal(str(dynamodb.get("ApproximateCreationDateTime", 0))) * 1000),
        expired_by_ttl=record.get("userIdentity") == TTL_PRINCIPAL,
    )


class ChangeDataCapture:
    """The `trigger` function's engine: DynamoDB stream batch in, domain events out.

    Events are published together (batched by the publisher). A record that fails is handled as
    `shop_streams.failures` says: a record that cannot be read, or whose mapper raises one of
    `permanent_errors`, is parked as a fault (published with the events) and counts as handled; any
    other error names the record in the partial batch response, for the stream to retry. A record
    whose events (or fault) could not all be published is named as well, so the stream redelivers
    it and the mapper, whose event ids are deterministic, publishes the same events again.
    """

    def __init__(
        self,
        mapper: ChangeMapper,
        *,
        publisher: EventPublisher,
        events: EventFactory,
        permanent_errors: Iterable[type[BaseException]] = (),
    ) -> None:
        self._mapper = mapper
        self._publisher = publisher
        self._events = events
        self._policy = FailurePolicy(permanent_errors)

    def process(self, event: Mapping[str, Any]) -> PartialBatchResponse:
        if source_of(event) not in ("", DYNAMODB):
            raise TypeError("ChangeDataCapture processes DynamoDB stream events only")
        produced_by: dict[str, Record] = {}
        outgoing: list[Envelope] = []
        failed: list[Record] = []
        for record in records_of(event):
            try:
                change = change_of(record.raw)
            except Exception as unreadable:
                kind = self._policy.of_reading(unreadable)
                self._failed(record, unreadable, kind, produced_by, outgoing, failed)
                continue
            try:
                produced = list(self._mapper(change))
            except Exception as error:
                kind = self._policy.of_handling(error)
                self._failed(record, error, kind, produced_by, outgoing, failed)
                continue
            for domain_event in produced:
                produced_by[domain_event.id] = record
            outgoing.extend(produced)

        unpublished: set[str] = set()
        if outgoing:
            try:
                self._publisher.publish(outgoing)
            except PublishError as error:
                unpublished = {entry.event.id for entry in error.failed}
                logger.error("events not published", extra={"unpublished": len(unpublished)})

        failed_items = [record.item_identifier for record in failed]
        failed_items.extend(
            produced_by[event_id].item_identifier
            for event_id in unpublished
            if event_id in produced_by
        )
        logger.info(
            "changes captured",
            extra={"published": len(outgoing) - len(unpublished), "failed": len(failed_items)},
        )
        return {
            "batchItemFailures": [{"itemIdentifier": item} for item in dict.fromkeys(failed_items)]
        }

    def _failed(
        self,
        record: Record,
        error: BaseException,
        kind: FailureKind,
        produced_by: dict[str, Record],
        outgoing: list[Envelope],
        failed: list[Record],
    ) -> None:
        logger.warning(
            "change not mapped",
            extra={
                "record_id": record.record_id,
                "failure": kind.value,
                "error_type": type(error).__name__,
                "error": str(error),
            },
        )
        if kind is FailureKind.TRANSIENT:
            failed.append(record)
            return
        fault = fault_for(record, error, self._events)
        produced_by[fault.id] = record
        outgoing.append(fault)
