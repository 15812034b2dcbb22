"""Dispatching domain events to handlers by type, one record at a time.

Every record gets one of three outcomes: handled, skipped (an event this service produced itself,
or one of a type it does not handle), or failed. A failure is of one of two kinds
(`shop_streams.failures` decides which):

- permanent (the record can never succeed as it is): published as a `fault` event carrying the
  record and the error, parked once by the event hub where it can be resubmitted, and counted as
  handled, so the source moves on;
- transient (anything else): named in the partial batch response, so the event source's own policy
  applies to it (bounded retries, bisecting, the on-failure destination or DLQ), with no fault per
  attempt.

The records behind a failed one are still handled in the same invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

from shop_envelope import (
    DomainEvent,
    Envelope,
    EventFactory,
    EventRegistry,
    InvalidEvent,
    UnknownEventType,
)
from shop_publisher import EventPublisher

from shop_streams.batch import BatchReport, Failure, PartialBatchResponse, failure, publish
from shop_streams.errors import RecordFailed
from shop_streams.failures import FailureKind, FailurePolicy
from shop_streams.records import (
    DYNAMODB,
    EVENTBRIDGE,
    Body,
    Record,
    body_reader,
    is_fifo,
    raw_records,
    record_of,
    source_of,
)

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[E], None]
UnknownTypes = Literal["skip", "fault"]


class EventProcessor:
    """Routes the events of a Kinesis, SQS or EventBridge Lambda event to handlers by type.

    >>> listener = EventProcessor(events=EventFactory(source="inventory"), publisher=publisher)
    >>> @listener.on(OrderPlaced)
    ... def reserve(event: OrderPlaced) -> None: ...
    >>> def handle(event, context):
    ...     return listener.process(event)
    """

    def __init__(
        self,
        *,
        events: EventFactory,
        publisher: EventPublisher,
        unknown_types: UnknownTypes = "skip",
        permanent_errors: Iterable[type[BaseException]] = (),
        on_event: Callable[[Envelope], None] | None = None,
    ) -> None:
        """`events` stamps the fault events and names this service: events whose source is the
        same service are skipped; `publisher` publishes the faults. `unknown_types="fault"` treats
        an event of a type no handler is registered for as a permanent failure, for functions
        whose subscription filter should never let one through. `permanent_errors` are the
        handler errors no retry can mend: they are parked at once instead of retried. `on_event`
        is called with every event before its handler (to bind log context)."""
        self._events = events
        self._publisher = publisher
        self._unknown_types = unknown_types
        self._policy = FailurePolicy(permanent_errors)
        self._on_event = on_event
        self._registry = EventRegistry()
        self._routes: dict[str, Callable[[Any], None]] = {}

    def on(self, event_class: type[E]) -> Callable[[Handler[E]], Handler[E]]:
        """Register the handler of one event type (a decorator)."""

        def register(handler: Handler[E]) -> Handler[E]:
            if event_class.event_type in self._routes:
                raise ValueError(f"{event_class.event_type!r} already has a handler")
            self._registry.register(event_class)
            self._routes[event_class.event_type] = handler
            return handler

        return register

    @property
    def event_types(self) -> frozenset[str]:
        """The types this processor handles: what its subscription filter should let through."""
        return self._registry.types

    def process(self, event: Mapping[str, Any]) -> PartialBatchResponse:
        """Process a Lambda event and return its partial batch response (which Lambda ignores
        for an EventBridge target: a failed EventBridge event raises `RecordFailed` instead)."""
        if not self._routes:
            raise LookupError("no handlers are registered: register one per event type with `on`")
        source = source_of(event)
        if not source:  # an empty batch: nothing to do, nothing to report
            return BatchReport().response()
        if source == DYNAMODB:
            raise TypeError(
                "DynamoDB stream records are changes, not events: use ChangeDataCapture"
            )
        records = raw_records(event, source)
        if source == EVENTBRIDGE:
            self._process_single(source, records[0])
            return BatchReport().response()
        report = self._process_batch(source, records, stop_at_first_failure=is_fifo(event))
        return report.response()

    def _process_batch(
        self, source: str, records: list[Mapping[str, Any]], *, stop_at_first_failure: bool
    ) -> BatchReport:
        report = BatchReport()
        read_body = body_reader(source)
        parked: list[Failure] = []
        for raw in records:
            if stop_at_first_failure and report.failed_items:
                # A FIFO queue keeps order only if nothing behind a failed message is handled.
                report.failed_items.append(record_of(source, raw).item_identifier)
                continue
            failed = self._dispatch(source, raw, read_body, report)
            if failed is None:
                continue
            if failed.fault is None:
                report.failed_items.append(failed.record.item_identifier)
                continue
            report.faults.append(failed.fault)
            if stop_at_first_failure:
                # Parked before the next message is handled, or not at all: order is kept.
                report.failed_items.extend(self._park([failed]))
            else:
                parked.append(failed)
        report.failed_items.extend(self._park(parked))
        report.log()
        return report

    def _process_single(self, source: str, raw: Mapping[str, Any]) -> None:
        failed = self._dispatch(source, raw, body_reader(source), BatchReport())
        if failed is None:
            return
        if failed.kind is FailureKind.TRANSIENT or self._park([failed]):
            raise RecordFailed(failed.record.record_id, failed.error) from failed.error

    def _dispatch(
        self,
        source: str,
        raw: Mapping[str, Any],
        read_body: Callable[[Mapping[str, Any]], Body],
        report: BatchReport,
    ) -> Failure | None:
        """Handle one record; the failure, with its fault event if it is permanent."""
        try:
            event = self._registry.parse(read_body(raw))
        except UnknownEventType as unknown:
            if self._unknown_types == "skip" or self._is_own(unknown.envelope):
                report.skipped += 1
                return None
            return self._failed(
                record_of(source, raw), unknown, self._policy.of_reading(unknown), unknown.envelope
            )
        except InvalidEvent as invalid:
            # The envelope is valid, so the fault names the event and its order, not just the record.
            return self._failed(
                record_of(source, raw), invalid, self._policy.of_reading(invalid), invalid.envelope
            )
        except Exception as unreadable:  # not an event: invalid envelope or payload, bad encoding
            return self._failed(
                record_of(source, raw), unreadable, self._policy.of_reading(unreadable)
            )

        if self._is_own(event):
            report.skipped += 1
            return None
        if self._on_event is not None:
            self._on_event(event)
        try:
            self._routes[event.type](event)
        except Exception as error:
            return self._failed(
                record_of(source, raw), error, self._policy.of_handling(error), event
            )
        report.handled += 1
        return None

    def _failed(
        self,
        record: Record,
        error: BaseException,
        kind: FailureKind,
        event: Envelope | None = None,
    ) -> Failure:
        # The record is built only here, where it must be named: most records never fail.
        return failure(record, error, kind, self._events, event)

    def _is_own(self, event: Envelope) -> bool:
        return event.tags.source == self._events.source

    def _park(self, failures: list[Failure]) -> list[str]:
        """Publish the faults of permanent failures; the records whose fault could not be
        published, which the source must then retry."""
        faults = {f.fault.id: f for f in failures if f.fault is not None}
        return publish(
            self._publisher,
            [f.fault for f in faults.values() if f.fault is not None],
            {fault_id: f.record for fault_id, f in faults.items()},
        )
