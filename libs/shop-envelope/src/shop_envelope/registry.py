"""Maps event types to their models and turns raw data into typed events, or typed errors."""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, cast

from pydantic import Field, TypeAdapter, ValidationError

from shop_envelope.envelope import DomainEvent, Envelope
from shop_envelope.errors import InvalidEnvelope, InvalidEvent, UnknownEventType, describe

RawEvent = bytes | str | Mapping[str, Any]


class EventRegistry:
    """The event types a function understands.

    `parse` validates envelope and payload in one pass (a tagged union on `type`, resolved inside
    pydantic-core), and only on failure works out which of the typed errors it is.
    """

    def __init__(self, event_classes: Iterable[type[DomainEvent]] = ()) -> None:
        self._classes: dict[str, type[DomainEvent]] = {}
        self._adapter: TypeAdapter[DomainEvent] | None = None
        for event_class in event_classes:
            self.register(event_class)

    def register(self, event_class: type[DomainEvent]) -> None:
        known = self._classes.get(event_class.event_type)
        if known is not None and known is not event_class:
            raise ValueError(
                f"event type {event_class.event_type!r} is already registered to {known.__name__}"
            )
        self._classes[event_class.event_type] = event_class
        self._adapter = None

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._classes

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self._classes)

    def model_for(self, event_type: str) -> type[DomainEvent]:
        try:
            return self._classes[event_type]
        except KeyError:
            raise KeyError(f"no model is registered for event type {event_type!r}") from None

    def parse(self, data: RawEvent) -> DomainEvent:
        """A typed event, or `InvalidEnvelope`, `UnknownEventType` or `InvalidEvent`."""
        adapter = self._adapter or self._build_adapter()
        try:
            # Concrete types first: an isinstance check against the Mapping ABC costs more.
            if isinstance(data, bytes | str):
                return adapter.validate_json(data)
            return adapter.validate_python(data)
        except ValidationError as error:
            raise self._explain(data, error) from error

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        """The JSON Schema of every registered event, by type: the contract a producer publishes."""
        return {
            event_type: event_class.model_json_schema(by_alias=True)
            for event_type, event_class in sorted(self._classes.items())
        }

    def _build_adapter(self) -> TypeAdapter[DomainEvent]:
        if not self._classes:
            raise LookupError(
                "the registry is empty: register the event types this function handles"
            )
        classes = list(self._classes.values())
        if len(classes) == 1:
            self._adapter = TypeAdapter(classes[0])
        else:
            # Built at run time from the registered classes, which a static checker cannot follow.
            annotated: Any = Annotated
            union = functools.reduce(operator.or_, classes)
            tagged_union = annotated[union, Field(discriminator="type")]
            self._adapter = cast("TypeAdapter[DomainEvent]", TypeAdapter(tagged_union))
        return self._adapter

    def _explain(self, data: RawEvent, error: ValidationError) -> Exception:
        """Only the slow path: re-read the data as a bare envelope to say what is wrong with it."""
        try:
            envelope = (
                Envelope.model_validate(data)
                if isinstance(data, Mapping)
                else Envelope.model_validate_json(data)
            )
        except ValidationError as envelope_error:
            errors = envelope_error.errors(include_url=False, include_input=False)
            detail = describe(errors, root="(root)")
            return InvalidEnvelope(detail, [dict(e) for e in errors])
        if envelope.type not in self._classes:
            return UnknownEventType(envelope)
        errors = error.errors(include_url=False, include_input=False)
        # A tagged union prefixes each location with the tag; the event type is said separately.
        located = [
            dict(e, loc=e["loc"][1:] if e["loc"][:1] == (envelope.type,) else e["loc"])
            for e in errors
        ]
        return InvalidEvent(envelope.type, envelope.id, located, envelope)
