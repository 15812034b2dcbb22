"""Creating events: the producing function's tags and clock are fixed once, per function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from shop_envelope.envelope import DomainEvent, Tags
from shop_envelope.ids import now_ms, random_id

E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class EventFactory:
    """Stamps new events with where they come from and when.

    >>> events = EventFactory(source="inventory", stage="dev")
    >>> reserved = events.create(InventoryReserved, reservation, partition_key=order_id,
    ...                          id=deterministic_id("inventory-reserved", order_id))
    """

    source: str
    stage: str | None = None
    region: str | None = None
    function_name: str | None = None
    clock: Callable[[], int] = now_ms

    def create(
        self,
        event_class: type[E],
        payload: BaseModel | None = None,
        *,
        partition_key: str,
        id: str | None = None,
        correlation_id: str | None = None,
        raw: dict[str, Any] | None = None,
        timestamp: int | None = None,
    ) -> E:
        """A new event of `event_class` carrying `payload`. `timestamp` (epoch ms) is when the fact
        happened, when that is known and is not now: a trigger stamps the time of the change it
        publishes, so a redelivered change gives the very same event."""
        fields: dict[str, Any] = {}
        if event_class.payload_field is not None:
            if payload is None:
                raise TypeError(f"{event_class.__name__} needs its {event_class.payload_field!r}")
            fields[event_class.payload_field] = payload
        elif payload is not None:
            raise TypeError(f"{event_class.__name__} carries no payload")
        return event_class(
            id=id or random_id(),
            timestamp=self.clock() if timestamp is None else timestamp,
            partition_key=partition_key,
            tags=Tags(
                source=self.source,
                stage=self.stage,
                region=self.region,
                function_name=self.function_name,
                correlation_id=correlation_id or partition_key,
            ),
            raw=raw,
            **fields,
        )
