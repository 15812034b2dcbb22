"""Turning a failed record into a `fault` event that carries it, so it can be resubmitted."""

from __future__ import annotations

import traceback

from shop_envelope import Envelope, EventFactory, Fault, FaultEvent, deterministic_id

from shop_streams.records import Record

MAX_STACK_CHARS = 4_000
MAX_MESSAGE_CHARS = 2_000


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
        id=deterministic_id(
            "fault", events.function_name or events.source, record.event_source, record.record_id
        ),
    )
