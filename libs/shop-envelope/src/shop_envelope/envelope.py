"""The one shape every domain event has, on the bus, on the stream and in the event lake.

A concrete event is a subclass of `DomainEvent` that fixes its `type` with a `Literal` and carries
its entity under the entity's own name:

    class OrderPlaced(DomainEvent):
        type: Literal["order-placed"] = "order-placed"
        order: Order

On the wire the fields are camelCase (`partitionKey`, `functionName`); in Python they are snake_case.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"

# Shared by every model that goes on the wire: camelCase JSON, snake_case Python, immutable facts.
# Schemas are built on first use rather than at import: a function pays only for the models it
# actually validates (most never build the fault or the bare envelope's), and cold start stays low.
WIRE_CONFIG = ConfigDict(
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
    frozen=True,
    defer_build=True,
)


class WireModel(BaseModel):
    """The base of every entity that travels inside an event: camelCase on the wire, immutable."""

    model_config = WIRE_CONFIG


class Tags(BaseModel):
    """Where an event came from, for routing, filtering and tracing."""

    model_config = WIRE_CONFIG | ConfigDict(extra="allow")

    source: str = Field(min_length=1, description="The producing service, e.g. `inventory`.")
    stage: str | None = None
    region: str | None = None
    function_name: str | None = None
    correlation_id: str | None = Field(
        default=None, description="Ties every event of one business flow together (the order id)."
    )


class Envelope(BaseModel):
    """Any domain event, typed or not. Unknown fields, the payload among them, are kept."""

    model_config = WIRE_CONFIG | ConfigDict(extra="allow")

    id: str = Field(min_length=1, description="Deterministic where a retry could re-emit it.")
    type: str = Field(pattern=EVENT_TYPE_PATTERN, description="kebab-case, e.g. `order-placed`.")
    timestamp: int = Field(ge=0, description="When the fact happened, in epoch milliseconds.")
    partition_key: str = Field(
        min_length=1, description="Keeps one entity's events in order on the stream (the order id)."
    )
    tags: Tags
    raw: dict[str, Any] | None = Field(
        default=None,
        description="The external message this event was made from, when there is one.",
    )

    @property
    def correlation_id(self) -> str:
        return self.tags.correlation_id or self.partition_key

    def to_json(self) -> str:
        """The envelope as it goes on the wire."""
        return self.model_dump_json(exclude_none=True)


class DomainEvent(Envelope):
    """A typed event: a fixed `type` and at most one payload field, validated by its model.

    Unknown fields are ignored rather than kept, so a consumer tolerates a producer that adds fields.
    """

    model_config = ConfigDict(extra="ignore")

    event_type: ClassVar[str]
    payload_field: ClassVar[str | None]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        type_field = cls.model_fields["type"]
        if (
            get_origin(type_field.annotation) is not Literal
            or len(get_args(type_field.annotation)) != 1
        ):
            raise TypeError(f'{cls.__name__} must declare `type: Literal["its-type"] = "its-type"`')
        (event_type,) = get_args(type_field.annotation)
        if type_field.default != event_type:
            raise TypeError(f"{cls.__name__}.type must default to {event_type!r}")
        payload_fields = [name for name in cls.model_fields if name not in DomainEvent.model_fields]
        if len(payload_fields) > 1:
            raise TypeError(
                f"{cls.__name__} has fields {payload_fields}: an event carries one entity, "
                "under that entity's own name"
            )
        cls.event_type = event_type
        cls.payload_field = payload_fields[0] if payload_fields else None

    @property
    def payload(self) -> Any:
        """The entity this event carries (None for an event without one)."""
        return getattr(self, self.payload_field) if self.payload_field else None
