"""The domain event envelope: one shape for every event, typed payloads, and a registry that
turns raw data into typed events or typed errors."""

from shop_envelope.envelope import (
    EVENT_TYPE_PATTERN,
    WIRE_CONFIG,
    DomainEvent,
    Envelope,
    Tags,
    WireModel,
)
from shop_envelope.errors import (
    EventError,
    InvalidEnvelope,
    InvalidEvent,
    UnknownEventType,
    describe,
)
from shop_envelope.factory import EventFactory
from shop_envelope.faults import FAULT, Fault, FaultEvent
from shop_envelope.ids import deterministic_id, now_ms, random_id
from shop_envelope.registry import EventRegistry, RawEvent

__all__ = [
    "EVENT_TYPE_PATTERN",
    "FAULT",
    "WIRE_CONFIG",
    "DomainEvent",
    "Envelope",
    "EventError",
    "EventFactory",
    "EventRegistry",
    "Fault",
    "FaultEvent",
    "InvalidEnvelope",
    "InvalidEvent",
    "RawEvent",
    "Tags",
    "UnknownEventType",
    "WireModel",
    "describe",
    "deterministic_id",
    "now_ms",
    "random_id",
]
