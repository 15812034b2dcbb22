"""The rulebook: every rule of the control service, as data, over the set of an order's collected
events. The trigger evaluates it each time an event is collected; this file is all it decides.

Each rule names its condition and the fact it emits. The fact's id is the order id and the rule
id, so a rule fires at most once per order however often the set is evaluated.

| rule | when (over the collected set) | emits |
| --- | --- | --- |
| `out-of-stock` | placed, and the inventory could not reserve it | `order-cancelled` `OUT_OF_STOCK` |
| `customer-request` | placed and reserved, a cancellation requested before the payment settled | `order-cancelled` `CUSTOMER_REQUEST` |
| `payment-failed` | placed and reserved, the payment settled as failed | `order-cancelled` `PAYMENT_FAILED` |
| `fulfillment` | placed and reserved, the payment settled as succeeded | `order-fulfillment-requested` |
| `expiry` | placed and reserved, the payment window closed before any payment | `order-expired` |
| `cancellation-rejected` | the order is being fulfilled, and a cancellation was requested | `order-cancellation-rejected` |

The first five are terminal: each order gets exactly one of them, its outcome. The sixth is a
follow-up, read against the outcome.

**Why the facts are the same whatever order the events arrive in.** A rule reads the set, never
the arrival: of each type it takes the first event by its own timestamp (then id), and it decides
nothing until the decision can no longer change with events still to come:

- Nothing is decided before the order was placed and the inventory answered (it always does, at
  once): `inventory-reservation-failed` ends the order whatever else happened (a fixed precedence:
  nothing can be fulfilled without stock).
- The payment *settles* at the first, by timestamp, of: `payment-failed` or `payment-succeeded`
  within the payment window (it closes `paymentWindow` after `order-placed`'s timestamp, known
  from the set), or the close of the order's timer once its event is collected:
  `payment-window-closed` (unpaid) or `cancellation-window-closed` (withdrawn). A payment after
  the payment window does not count (no fulfillment; stripe-esg refunds it), so a late payment
  arriving early decides nothing: the order waits for its timer.
- A cancellation request is judged against the settlement, by timestamps: before it, the order
  is cancelled for the customer; at or after it, the settlement stands (and a request after a
  successful payment is rejected). A request for an unpaid order replaces the order's payment
  window with its cancellation window (`cancellationWindow` after the request, at the latest
  when the payment window closes): a payment made before the request may still be on its way
  until then. The cancellation window's event exists only because a request came before any
  payment, so, arriving first, it decides as the request would.

What no rule can order: two settlements that both count but arrive the wrong way round (a payment
retried after a failure; a payment inside the window that arrives after the timer's event; a
payment made after a cancellation request but arriving first). There the first outcome recorded
wins (the store records one outcome per order, conditionally), and later events are judged against
it: the order still has exactly one terminal fact and never a contradicting one (decision 0016).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from fulfillment_control.domain import CancellationReason, Collected, EventType, FactType


class Settled(StrEnum):
    FAILED = "failed"
    PAID = "paid"
    WITHDRAWN = "withdrawn"  # the cancellation window closed first: the customer's request stands
    UNPAID = "unpaid"  # the payment window closed first


@dataclass(frozen=True)
class Settlement:
    how: Settled
    at: int  # epoch ms


# Settlements at the same millisecond: a failure before a success, a payment before the close.
_TIE_BREAK = {Settled.FAILED: 0, Settled.PAID: 1, Settled.WITHDRAWN: 2, Settled.UNPAID: 3}


@dataclass(frozen=True)
class History:
    """An order's collected events as the rules read them: the first event of each type. What
    several rules read (the settlement) is worked out once per history."""

    first: Mapping[EventType, Collected]
    payment_window_ms: int

    @classmethod
    def of(cls, events: Iterable[Collected], *, payment_window_ms: int) -> History:
        first: dict[EventType, Collected] = {}
        for event in events:
            known = first.get(event.type)
            # Collected's own order (time, then id), compared field by field: the hot loop.
            if (
                known is None
                or event.occurred_at < known.occurred_at
                or (event.occurred_at == known.occurred_at and event.event_id < known.event_id)
            ):
                first[event.type] = event
        return cls(first, payment_window_ms)

    def has(self, event_type: EventType) -> bool:
        return event_type in self.first

    def at(self, event_type: EventType) -> int:
        return self.first[event_type].occurred_at

    @cached_property
    def window_closes_at(self) -> int | None:
        if not self.has(EventType.ORDER_PLACED):
            return None
        return self.at(EventType.ORDER_PLACED) + self.payment_window_ms

    @cached_property
    def reserved(self) -> bool:
        """Placed, and its stock held: the payment decides the rest."""
        return (
            self.has(EventType.ORDER_PLACED)
            and self.has(EventType.INVENTORY_RESERVED)
            and not self.has(EventType.RESERVATION_FAILED)
        )

    @cached_property
    def settlement(self) -> Settlement | None:
        """How the payment ended, if it has: the first of a payment within the window (failed or
        succeeded) and the close of the order's timer, once its event is collected (the
        cancellation window's, if a request replaced it; else the payment window's)."""
        closes_at = self.window_closes_at
        if closes_at is None:
            return None
        candidates = [
            Settlement(how, self.at(event_type))
            for how, event_type in (
                (Settled.FAILED, EventType.PAYMENT_FAILED),
                (Settled.PAID, EventType.PAYMENT_SUCCEEDED),
            )
            if self.has(event_type) and self.at(event_type) <= closes_at
        ]
        if self.has(EventType.CANCELLATION_WINDOW_CLOSED):
            candidates.append(
                Settlement(Settled.WITHDRAWN, self.at(EventType.CANCELLATION_WINDOW_CLOSED))
            )
        if self.has(EventType.PAYMENT_WINDOW_CLOSED):
            candidates.append(Settlement(Settled.UNPAID, closes_at))
        return min(candidates, key=lambda s: (s.at, _TIE_BREAK[s.how]), default=None)

    @cached_property
    def requested_cancellation_before_settling(self) -> bool:
        settlement = self.settlement
        return (
            settlement is not None
            and self.has(EventType.CANCELLATION_REQUESTED)
            and self.at(EventType.CANCELLATION_REQUESTED) < settlement.at
        )

    def settled_as(self, how: Settled) -> bool:
        """Reserved, settled `how`, and no cancellation requested before that."""
        settlement = self.settlement
        return (
            self.reserved
            and settlement is not None
            and settlement.how is how
            and not self.requested_cancellation_before_settling
        )


# ---- the conditions ----------------------------------------------------------------------------
# Terminal conditions read the history alone; follow-ups also read the order's outcome (the id of
# its terminal rule, recorded or decided now, or None).

Condition = Callable[[History, str | None], bool]


def out_of_stock(history: History, _outcome: str | None) -> bool:
    return history.has(EventType.ORDER_PLACED) and history.has(EventType.RESERVATION_FAILED)


def cancelled_by_customer(history: History, _outcome: str | None) -> bool:
    settlement = history.settlement
    return history.reserved and (
        history.requested_cancellation_before_settling
        or (settlement is not None and settlement.how is Settled.WITHDRAWN)
    )


def payment_failed(history: History, _outcome: str | None) -> bool:
    return history.settled_as(Settled.FAILED)


def paid(history: History, _outcome: str | None) -> bool:
    return history.settled_as(Settled.PAID)


def window_closed_unpaid(history: History, _outcome: str | None) -> bool:
    return history.settled_as(Settled.UNPAID)


def cancellation_too_late(history: History, outcome: str | None) -> bool:
    return outcome == FULFILLMENT and history.has(EventType.CANCELLATION_REQUESTED)


# ---- the rules ---------------------------------------------------------------------------------

FULFILLMENT = "fulfillment"


@dataclass(frozen=True)
class Rule:
    id: str
    when: Condition
    emits: FactType
    reason: CancellationReason | None = None

    @property
    def terminal(self) -> bool:
        return self.emits is not FactType.CANCELLATION_REJECTED


RULES: tuple[Rule, ...] = (
    Rule("out-of-stock", out_of_stock, FactType.CANCELLED, CancellationReason.OUT_OF_STOCK),
    Rule(
        "customer-request",
        cancelled_by_customer,
        FactType.CANCELLED,
        CancellationReason.CUSTOMER_REQUEST,
    ),
    Rule("payment-failed", payment_failed, FactType.CANCELLED, CancellationReason.PAYMENT_FAILED),
    Rule(FULFILLMENT, paid, FactType.FULFILLMENT_REQUESTED),
    Rule("expiry", window_closed_unpaid, FactType.EXPIRED),
    Rule("cancellation-rejected", cancellation_too_late, FactType.CANCELLATION_REJECTED),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}
TERMINAL_RULES = tuple(rule for rule in RULES if rule.terminal)
FOLLOW_UP_RULES = tuple(rule for rule in RULES if not rule.terminal)


@dataclass(frozen=True)
class Verdict:
    """What the rules say of an order: its outcome (a terminal rule, or None while undecided) and
    the follow-up rules that hold."""

    outcome: Rule | None
    follow_ups: tuple[Rule, ...] = ()

    @property
    def rules(self) -> tuple[Rule, ...]:
        return ((self.outcome,) if self.outcome else ()) + self.follow_ups


def evaluate(history: History, decided: str | None = None) -> Verdict:
    """The rules over the history. `decided` is the order's recorded outcome, which stands:
    a terminal fact once recorded is never contradicted."""
    if decided is not None:
        outcome: Rule | None = RULES_BY_ID[decided]
    else:
        # The terminal conditions exclude one another (a test holds them to it); the first that
        # holds is the one that does.
        outcome = next((rule for rule in TERMINAL_RULES if rule.when(history, None)), None)
    outcome_id = outcome.id if outcome else None
    return Verdict(outcome, tuple(r for r in FOLLOW_UP_RULES if r.when(history, outcome_id)))
