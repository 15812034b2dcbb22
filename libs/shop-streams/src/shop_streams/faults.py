"""Turning a failed record into a `fault` event that carries it, so it can be resubmitted."""

from __future__ import annotations

import traceback

from shop_envelope import Envelope, EventFactory, Fault, FaultEvent, deterministic_id

from shop_streams.records import Record

MAX_STACK_CHARS = 4_000
MAX_MESSAGE_CHARS = 2_000


def fault_id(function: str, event_source: str, record_id: str) -> str:
    """The one id of a record's fault: the same record failing in the same function, however
    often and through whichever path (its handler, or its event source giving up), is parked
    once."""
    return deterministic_id("fault", function, event_source, record_id)


def fault_for(
    record: Record, error: BaseException, events: EventFactory, event: Envelope | None = None
) -> FaultEvent:
    """The same record failing again in the same function gives the same fault id, so a retried
    record is parked once however many times it fails."""
    stack = "".join(traceback.format_exception(error))[-MAX_STACK_CHARS:]
    fault = Fault(
        error_type=type(error).__name__,
        message=str(error)[:MAX_MESSAGE_CHARS],
        stack=stack,
        event_source=record.event_source,
        record_id=record.record_id,
        event_id=event.id if event else None,
        event_type=event.type if event else None,
        record=dict(record.raw),
    )
    return events.create(
        FaultEvent,
        fault,
        partition_key=event.partition_key if event else record.record_id,
        correlation_id=event.correlation_id if event else None,
        id=fault_id(events.function_name or events.source, record.event_source, record.record_id),
    )
