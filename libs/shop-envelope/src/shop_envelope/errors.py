"""Typed errors for events that cannot be trusted: each names what was wrong and with which event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shop_envelope.envelope import Envelope


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
        where = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in errors[:5]
        )
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"event {event_id} of type {event_type!r} is invalid: {where}{more}")
