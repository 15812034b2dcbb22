"""The two ports the model depends on: the micro event store (an order's collected events and
the facts decided about it) and the timers (an order's payment or cancellation window).

Each has a DynamoDB or EventBridge Scheduler adapter and an in-memory one implementing the very
same contract, and one suite of tests runs against both.
"""

from __future__ import annotations

from typing import Protocol

from fulfillment_control.domain import Collected, Fact, OrderRecord, Window


class EventStore(Protocol):
    def collect(self, event: Collected) -> bool:
        """Keep the event, once: False when this event (by id) was collected already."""

    def record_of(self, order_id: str) -> OrderRecord:
        """Every event collected for the order, its outcome and its recorded facts (an order with
        nothing collected has an empty record)."""

    def decide(self, outcome: Fact) -> Fact:
        """Record the order's terminal fact unless it has one; the one it has now (`outcome`, or
        the one an earlier evaluation recorded first)."""

    def record(self, fact: Fact) -> bool:
        """Record a follow-up fact once per order and rule: False when it was recorded already."""


class Timers(Protocol):
    def start(self, window: Window) -> None:
        """Have the window's event collected when it closes. An order has one window at a time:
        starting one while it has one changes nothing."""

    def cancel(self, order_id: str) -> None:
        """The order's window will not fire: nothing happens if it fired, was cancelled or was
        never started."""

    def pending(self, order_id: str) -> Window | None:
        """The order's window while it is still to fire."""
