"""Change data capture: a service's own DynamoDB stream, one change at a time.

The functions on a table stream come in two kinds, registered the same way, by predicate:

- a **trigger** maps each change to the domain events it means, and this module publishes them
  (the table is the source of truth, its stream the outbox);
- an **actor** does something about a change (the inventory's expiry releases a reservation whose
  timer DynamoDB deleted) and returns nothing: what it writes is published by the trigger.

    trigger = ChangeDataCapture(events=events, publisher=publisher)

    @trigger.on(lambda change: change.keys["sk"] == "RESERVATION")
    def reservation_events(change: Change) -> list[Envelope]: ...

The first route whose predicate holds handles a change; a change no route wants is skipped.
Failures are those of `shop_streams.failures`, as in `EventProcessor`.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from shop_envelope import Envelope, EventFactory
from shop_publisher import EventPublisher

from shop_streams.batch import BatchReport, PartialBatchResponse, failure, publish
from shop_streams.failures import FailurePolicy
from shop_streams.records import DYNAMODB, TTL_USER_IDENTITY, Record, records_of, source_of

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer

ChangeName = Literal["INSERT", "MODIFY", "REMOVE"]


@dataclass(frozen=True)
class Change:
    """One item-level change, with images as plain Python values (numbers as `Decimal`, binary as
    boto3's `Binary`), as boto3's resource layer gives items."""

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


ChangeHandler = Callable[[Change], Iterable[Envelope] | None]
ChangePredicate = Callable[[Change], bool]


@functools.cache
def _deserializer() -> TypeDeserializer:
    """boto3's own DynamoDB JSON reader (imported on first use, not with every listener), reading
    binary as a Lambda event carries it: base64 text, where botocore would have decoded it."""
    from boto3.dynamodb.types import Binary, TypeDeserializer

    class LambdaEventDeserializer(TypeDeserializer):
        def _deserialize_b(self, value: str) -> Binary:
            return Binary(base64.b64decode(value))

    return LambdaEventDeserializer()


def _image(attributes: Mapping[str, Any]) -> dict[str, Any]:
    deserialize = _deserializer().deserialize
    return {name: deserialize(value) for name, value in attributes.items()}


def change_of(record: Mapping[str, Any]) -> Change:
    """The `Change` a DynamoDB stream record describes."""
    dynamodb = record["dynamodb"]
    new, old = dynamodb.get("NewImage"), dynamodb.get("OldImage")
    return Change(
        name=record["eventName"],
        keys=_image(dynamodb["Keys"]),
        new=_image(new) if new else None,
        old=_image(old) if old else None,
        sequence_number=dynamodb["SequenceNumber"],
        timestamp_ms=int(Decimal(str(dynamodb.get("ApproximateCreationDateTime", 0))) * 1000),
        expired_by_ttl=record.get("userIdentity") == TTL_USER_IDENTITY,
    )


class ChangeDataCapture:
    """The engine of a function on its service's own table stream (a trigger or an actor).

    Events are published together, after the batch (batched by the publisher), with the faults of
    the changes that can never succeed. A change whose events could not all be published is named
    in the partial batch response, so the stream redelivers it and its handler, whose event ids
    are deterministic, publishes the same events again."""

    def __init__(
        self,
        *,
        events: EventFactory,
        publisher: EventPublisher,
        permanent_errors: Iterable[type[BaseException]] = (),
        on_event: Callable[[Envelope], None] | None = None,
    ) -> None:
        """The same parameters as `EventProcessor`'s: `events` stamps the faults, `publisher`
        publishes the events and faults, `permanent_errors` are parked at once, and `on_event`
        sees every event a change produced (to bind the log context to its business flow)."""
        self._events = events
        self._publisher = publisher
        self._policy = FailurePolicy(permanent_errors)
        self._on_event = on_event
        self._routes: list[tuple[ChangePredicate, ChangeHandler]] = []

    def on(self, predicate: ChangePredicate) -> Callable[[ChangeHandler], ChangeHandler]:
        """Register the handler of the changes `predicate` holds for (a decorator)."""

        def register(handler: ChangeHandler) -> ChangeHandler:
            self._routes.append((predicate, handler))
            return handler

        return register

    def process(self, event: Mapping[str, Any]) -> PartialBatchResponse:
        if not self._routes:
            raise LookupError("no handlers are registered: register one per kind of change")
        if source_of(event) not in ("", DYNAMODB):
            raise TypeError("ChangeDataCapture processes DynamoDB stream events only")
        report = BatchReport()
        produced_by: dict[str, Record] = {}
        outgoing: list[Envelope] = []
        for record in records_of(event):
            try:
                change = change_of(record.raw)
            except Exception as unreadable:
                failed = failure(
                    record, unreadable, self._policy.of_reading(unreadable), self._events
                )
            else:
                handler = self._handler_of(change)
                if handler is None:
                    report.skipped += 1
                    continue
                try:
                    produced = list(handler(change) or ())
                except Exception as error:
                    failed = failure(record, error, self._policy.of_handling(error), self._events)
                else:
                    for domain_event in produced:
                        if self._on_event is not None:
                            self._on_event(domain_event)
                        produced_by[domain_event.id] = record
                    outgoing.extend(produced)
                    report.handled += 1
                    continue
            if failed.fault is None:
                report.failed_items.append(record.item_identifier)
            else:
                report.faults.append(failed.fault)
                produced_by[failed.fault.id] = record
                outgoing.append(failed.fault)
        unpublished = publish(self._publisher, outgoing, produced_by)
        report.produced = len(outgoing) - len(report.faults)
        report.failed_items.extend(unpublished)
        report.log()
        return report.response()

    def _handler_of(self, change: Change) -> ChangeHandler | None:
        for predicate, handler in self._routes:
            if predicate(change):
                return handler
        return None
