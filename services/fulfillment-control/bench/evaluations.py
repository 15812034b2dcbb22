"""Rule evaluations per second: orders of ten collected events each evaluated by the rulebook
(rules as data, read from the collected set) against a hand-written evaluation of the same rules
over the same events (one pass, one if-chain): what writing the rules as data costs.

Both read the same frozen sets, as the store returns them; reading the store is not measured.
"""

import random

from fulfillment_control.domain import Collected, EventType
from fulfillment_control.rulebook import History, evaluate
from shop_bench import compare_calls, report

ORDERS = 1_000
EVENTS_PER_ORDER = 10
WINDOW_MS = 20_000
PLACED_AT = 1_700_000_000_000
OPTIONAL = [
    EventType.CANCELLATION_REQUESTED,
    EventType.PAYMENT_SUCCEEDED,
    EventType.PAYMENT_FAILED,
    EventType.PAYMENT_WINDOW_CLOSED,
]


def order(number: int, rng: random.Random) -> frozenset[Collected]:
    order_id = f"order-{number}"
    answer = EventType.INVENTORY_RESERVED if rng.random() < 0.9 else EventType.RESERVATION_FAILED
    kinds = [EventType.ORDER_PLACED, answer]
    kinds += [rng.choice(OPTIONAL) for _ in range(EVENTS_PER_ORDER - len(kinds))]
    return frozenset(
        Collected(
            PLACED_AT if kind is EventType.ORDER_PLACED else PLACED_AT + rng.randrange(40_000),
            f"{order_id}-{n}",
            kind,
            order_id,
        )
        for n, kind in enumerate(kinds)
    )


rng = random.Random(16)
orders = [order(n, rng) for n in range(ORDERS)]


def by_rulebook() -> list[str | None]:
    decided = []
    for events in orders:
        verdict = evaluate(History.of(events, payment_window_ms=WINDOW_MS))
        decided.append(verdict.outcome.id if verdict.outcome else None)
    return decided


def by_hand() -> list[str | None]:
    """The same rules, written out by hand for this one purpose."""
    decided: list[str | None] = []
    for events in orders:
        first: dict[EventType, int] = {}
        for event in events:
            known = first.get(event.type)
            if known is None or event.occurred_at < known:
                first[event.type] = event.occurred_at
        placed = first.get(EventType.ORDER_PLACED)
        if placed is None:
            decided.append(None)
            continue
        if EventType.RESERVATION_FAILED in first:
            decided.append("out-of-stock")
            continue
        if EventType.INVENTORY_RESERVED not in first:
            decided.append(None)
            continue
        closes = placed + WINDOW_MS
        settled: tuple[int, int, str] | None = None
        failed, succeeded = (
            first.get(EventType.PAYMENT_FAILED),
            first.get(EventType.PAYMENT_SUCCEEDED),
        )
        if failed is not None and failed <= closes:
            settled = (failed, 0, "payment-failed")
        if (
            succeeded is not None
            and succeeded <= closes
            and (settled is None or (succeeded, 1) < settled[:2])
        ):
            settled = (succeeded, 1, "fulfillment")
        if EventType.PAYMENT_WINDOW_CLOSED in first and (
            settled is None or (closes, 2) < settled[:2]
        ):
            settled = (closes, 2, "expiry")
        if settled is None:
            decided.append(None)
            continue
        requested = first.get(EventType.CANCELLATION_REQUESTED)
        decided.append(
            "customer-request" if requested is not None and requested < settled[0] else settled[2]
        )
    return decided


assert by_rulebook() == by_hand(), "the two evaluations must agree before they are compared"
comparison = compare_calls(
    f"rulebook vs hand-written, per order of {EVENTS_PER_ORDER} events",
    by_rulebook,
    by_hand,
    per=ORDERS,
)
print(report("fulfillment-control: rule evaluations", [comparison]))
print(
    f"  rulebook: {1 / comparison.subject_seconds:,.0f} evaluations/s; "
    f"hand-written: {1 / comparison.baseline_seconds:,.0f} evaluations/s"
)
