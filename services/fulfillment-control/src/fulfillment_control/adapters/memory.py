"""In-memory adapters of both ports, with the exact contracts of the DynamoDB store and the
EventBridge Scheduler timers: the same contract tests run against these and against the real
adapters on moto, so what passes here holds there. A lock stands in for DynamoDB's conditions."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fulfillment_control.domain import Collected, Fact, OrderRecord, Window


@dataclass
class _Order:
    events: dict[str, Collected] = field(default_factory=dict)
    outcome: Fact | None = None
    facts: dict[str, Fact] = field(default_factory=dict)


class InMemoryEventStore:
    def __init__(self) -> None:
        self._orders: dict[str, _Order] = {}
        self._lock = threading.Lock()

    def collect(self, event: Collected) -> bool:
        with self._lock:
            events = self._orders.setdefault(event.order_id, _Order()).events
            if event.event_id in events:
                return False
            events[event.event_id] = event
            return True

    def record_of(self, order_id: str) -> OrderRecord:
        with self._lock:
            order = self._orders.get(order_id, _Order())
            return OrderRecord(
                order_id, frozenset(order.events.values()), order.outcome, frozenset(order.facts)
            )

    def decide(self, outcome: Fact) -> Fact:
        if not outcome.terminal:
            raise ValueError("only a terminal fact is an order's outcome")
        with self._lock:
            order = self._orders.setdefault(outcome.order_id, _Order())
            if order.outcome is None:
                order.outcome = outcome
            return order.outcome

    def record(self, fact: Fact) -> bool:
        if fact.terminal:
            raise ValueError("a terminal fact is recorded with decide()")
        with self._lock:
            facts = self._orders.setdefault(fact.order_id, _Order()).facts
            if fact.rule in facts:
                return False
            facts[fact.rule] = fact
            return True

    def facts(self, order_id: str) -> list[Fact]:
        """Every fact recorded for the order, its outcome first: what the trigger publishes."""
        with self._lock:
            order = self._orders.get(order_id, _Order())
            return ([order.outcome] if order.outcome else []) + list(order.facts.values())


class InMemoryTimers:
    """Timers that fire when told: `due(now)` hands out, once, the events of the windows closed
    by `now`, as the scheduler would put them on the bus, and forgets those windows."""

    def __init__(self) -> None:
        self._windows: dict[str, Window] = {}
        self._lock = threading.Lock()

    def start(self, window: Window) -> None:
        with self._lock:
            self._windows.setdefault(window.order_id, window)

    def cancel(self, order_id: str) -> None:
        with self._lock:
            self._windows.pop(order_id, None)

    def pending(self, order_id: str) -> Window | None:
        with self._lock:
            return self._windows.get(order_id)

    def due(self, now: int) -> list[Collected]:
        with self._lock:
            closed = [w for w in self._windows.values() if w.closes_at <= now]
            for window in closed:
                del self._windows[window.order_id]
            return [window.closed() for window in closed]
