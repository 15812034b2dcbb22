"""The `fault` event: a record a function could not handle, parked with its error for resubmission."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from shop_envelope.envelope import WIRE_CONFIG, DomainEvent

FAULT = "fault"


class Fault(BaseModel):
    """What failed, why, and the record exactly as it was delivered, so it can be resubmitted."""

    model_config = WIRE_CONFIG

    error_type: str = Field(description="The exception's class name, e.g. `InvalidEvent`.")
    message: str
    stack: str | None = Field(default=None, description="The traceback, cut to a bounded length.")
    event_source: str = Field(
        description="Where the record came from: `aws:kinesis`, `aws:sqs`, ..."
    )
    record_id: str = Field(
        description="The record's id at its source (sequence number, message id)."
    )
    event_id: str | None = Field(default=None, description="The failed event's id, when it parsed.")
    event_type: str | None = Field(
        default=None, description="The failed event's type, when it parsed."
    )
    record: dict[str, Any] = Field(description="The record as the function received it.")
    attempts: int = Field(
        default=1,
        ge=1,
        description=(
            "How many times the function tried the record before this fault: 1 for a record "
            "that can never succeed (parked at its first failure), the event source's "
            "invocations for one whose retries ran out."
        ),
    )


class FaultEvent(DomainEvent):
    type: Literal["fault"] = "fault"
    fault: Fault
