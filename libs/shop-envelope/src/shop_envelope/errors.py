"""Typed errors for events that cannot be trusted: each names what was wrong and with which event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from shop_envelope.envelope import Envelope


def describe(
    error: ValidationError | Sequence[Mapping[str, Any]], *, limit: int = 5, root: str = ""
) -> str:
    """Pydantic's errors as one line people read: `order.lines.0.quantity: Input should be greater
    than 0; ...`, the first `limit` of them and how many more. `root` names an error at the top."""
    errors: Sequence[Mapping[str, Any]] = (
        error.errors(include_url=False) if isinstance(error, ValidationError) else error
    )
    where = "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or root}: {e['msg']}" for e in errors[:limit]
    )
    more = f" (+{len(errors) - limit} more)" if len(errors) > limit else ""
    return where + more


class EventError(Exception):
    """Base of every error about the shape or content of a domain event."""


class InvalidEnvelope(EventError):
    """The data is not a domain event at all: not JSON, or missing/invalid envelope fields."""

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        self.errors = errors or []
        super().__init__(f"not a valid event envelope: {detail}")


class UnknownEventType(EventError):
    """A well-formed envelope whose type no model is registered for."""

    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope
        super().__init__(
            f"no model is registered for event type {envelope.type!r} (id {envelope.id})"
        )


class InvalidEvent(EventError):
    """A well-formed envelope of a known type whose payload does not match the registered model.

    `envelope` is the event read as a bare envelope, when it was: what it is about (its partition
    key and correlation id) is known even though its payload is not valid."""

    def __init__(
        self,
        event_type: str,
        event_id: str,
        errors: list[dict[str, Any]],
        envelope: Envelope | None = None,
    ) -> None:
        self.event_type = event_type
        self.event_id = event_id
        self.errors = errors
        self.envelope = envelope
        super().__init__(f"event {event_id} of type {event_type!r} is invalid: {describe(errors)}")
