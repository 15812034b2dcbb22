"""The control service's model: collect, correlate, evaluate (John Gilbert's control service).

Every event of an order is collected into the micro event store, once; each time one is, the
order's whole collected set is evaluated against the rulebook, and the facts it implies are
recorded, each once: the store is the outbox, and the trigger publishes what is recorded. An
order has one timer: its payment window, started when it is placed, or the shorter cancellation
window that replaces it when a request to cancel comes before any payment; it is cancelled when
the order ends.

Pure Python over two ports (`EventStore`, `Timers`): no AWS, no environment, no wire format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shop_envelope import now_ms

from fulfillment_control import rulebook
from fulfillment_control.domain import Collected, EventType, Fact, Window
from fulfillment_control.ports import EventStore, Timers
from fulfillment_control.rulebook import History, Rule

logger = logging.getLogger(__name__)

# The events that start (or replace) an order's timer.
_OPENING = (EventType.ORDER_PLACED, EventType.CANCELLATION_REQUESTED)
_TIMERS = (EventType.PAYMENT_WINDOW_CLOSED, EventType.CANCELLATION_WINDOW_CLOSED)

# The one default of each setting: the payment window (the stage sets it, in seconds), how long
# after a request to cancel an unpaid order a payment made before it may still arrive, and how
# long the store keeps an order's items after they were written (its TTL: a clean-up, never a
# deadline, as DynamoDB deletes expired items up to days late).
DEFAULT_PAYMENT_WINDOW_SECONDS = 15 * 60
DEFAULT_CANCELLATION_WINDOW_SECONDS = 60
DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600


class Collector:
    """Collect: the listener's part, keeping every event of an order once."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def collect(self, event: Collected) -> bool:
        """Keep an event of an order; False for one already collected (a duplicate)."""
        collected = self.store.collect(event)
        logger.info(
            "event collected" if collected else "duplicate event ignored",
            extra={"order_id": event.order_id, "event_type": str(event.type)},
        )
        return collected


class FulfillmentControl:
    """Correlate and evaluate: the trigger's part, deciding an order's facts from its set."""

    def __init__(
        self,
        store: EventStore,
        timers: Timers,
        *,
        payment_window_seconds: int = DEFAULT_PAYMENT_WINDOW_SECONDS,
        cancellation_window_seconds: int = DEFAULT_CANCELLATION_WINDOW_SECONDS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.timers = timers
        self.payment_window_ms = payment_window_seconds * 1000
        self.cancellation_window_ms = cancellation_window_seconds * 1000
        self._clock = clock

    def evaluate(self, order_id: str, *, arrived: EventType | None = None) -> list[Fact]:
        """Evaluate the order's collected set, after `arrived` was collected; the facts newly
        recorded (a re-evaluation records nothing twice)."""
        record = self.store.record_of(order_id)
        history = History.of(record.events, payment_window_ms=self.payment_window_ms)
        outcome = record.outcome
        if outcome is None and arrived in _OPENING and self._set_timer(order_id, history):
            record = self.store.record_of(order_id)
            history = History.of(record.events, payment_window_ms=self.payment_window_ms)

        verdict = rulebook.evaluate(history, outcome.rule if outcome else None)
        recorded: list[Fact] = []
        if outcome is None and verdict.outcome is not None:
            decided = self._fact(order_id, verdict.outcome)
            outcome = self.store.decide(decided)
            if outcome == decided:
                recorded.append(decided)
                logger.info("order decided", extra={"order_id": order_id, "rule": decided.rule})
            else:  # a concurrent evaluation decided first: its outcome stands
                verdict = rulebook.evaluate(history, outcome.rule)
        for rule in verdict.follow_ups:
            if rule.id not in record.facts:
                fact = self._fact(order_id, rule)
                if self.store.record(fact):
                    recorded.append(fact)

        if outcome is not None and arrived not in _TIMERS:
            # An order that ended needs no timer (one that fired has deleted itself).
            self.timers.cancel(order_id)
        return recorded

    def _set_timer(self, order_id: str, history: History) -> bool:
        """Start the order's timer: its payment window once it is placed, replaced by its
        cancellation window once a request to cancel it comes before any payment. True if that
        timer had closed already, and its event was collected at once, as the timer would have
        delivered it (same id, same time)."""
        closes_at = history.window_closes_at
        if closes_at is None:  # not placed yet: its order-placed starts the timer
            return False
        window = Window(order_id, closes_at)
        requested_at = (
            history.at(EventType.CANCELLATION_REQUESTED)
            if history.has(EventType.CANCELLATION_REQUESTED)
            else None
        )
        if requested_at is not None and requested_at < closes_at and history.settlement is None:
            window = Window(
                order_id,
                min(closes_at, requested_at + self.cancellation_window_ms),
                EventType.CANCELLATION_WINDOW_CLOSED,
            )
            # An order has one timer: the payment window's, if it was started, gives way.
            self.timers.cancel(order_id)
        if window.closes_at <= self._clock():
            return self.store.collect(window.closed())
        self.timers.start(window)
        return False

    def _fact(self, order_id: str, rule: Rule) -> Fact:
        return Fact(order_id, rule.id, rule.emits, self._clock(), rule.reason)
