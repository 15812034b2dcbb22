"""The port every event producer depends on; adapters and fakes implement it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shop_envelope import Envelope


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Envelope]) -> None:
        """Publish every event, or raise `PublishError` naming those that were not published."""
