"""Event ids and timestamps.

An id is deterministic wherever a retry could emit the same fact twice, so that consumers can
deduplicate on it: the same parts always give the same id.
"""

from __future__ import annotations

import time
import uuid

# A fixed namespace, so ids are stable across processes, machines and releases.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c1a3e-6a3b-4c0e-9a43-5b7f0f6e2d11")


def deterministic_id(*parts: str | int) -> str:
    """The same parts always give the same id (a UUIDv5), e.g. ("inventory-reserved", order_id)."""
    if not parts:
        raise ValueError("deterministic_id needs at least one part")
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(str(part) for part in parts)))


def random_id() -> str:
    """A fresh id, for events no retry can emit twice."""
    return str(uuid.uuid4())


def now_ms() -> int:
    """The current time in epoch milliseconds, the unit of an envelope's `timestamp`."""
    return time.time_ns() // 1_000_000
