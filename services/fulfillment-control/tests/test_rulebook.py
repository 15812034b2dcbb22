"""The rulebook as a table: each rule's firing and non-firing cases, over collected sets.

Times are in seconds after the order was placed; the payment window is 20 s."""

from __future__ import annotations

import pytest
from fulfillment_control.domain import CancellationReason, Collected, EventType, FactType
from fulfillment_control.rulebook import RULES, TERMINAL_RULES, History, evaluate
from hypothesis import given
from hypothesis import strategies as st

WINDOW_MS = 20_000
PLACED_AT = 1_700_000_000_000

P, C, R, X, S, F, W, G = (
    EventType.ORDER_PLACED,
    EventType.CANCELLATION_REQUESTED,
    EventType.INVENTORY_RESERVED,
    EventType.RESERVATION_FAILED,
    EventType.PAYMENT_SUCCEEDED,
    EventType.PAYMENT_FAILED,
    EventType.PAYMENT_WINDOW_CLOSED,
    EventType.CANCELLATION_WINDOW_CLOSED,
)


def history(*events: tuple[EventType, float]) -> History:
    """`history((P, 0), (R, 0.1), (S, 5))`: those events, at those seconds after placing."""
    return History.of(
        [
            Collected(PLACED_AT + int(seconds * 1000), f"{kind}-{n}", kind, "order-1")
            for n, (kind, seconds) in enumerate(events)
        ],
        payment_window_ms=WINDOW_MS,
    )


RESERVED = ((P, 0), (R, 0.1))

# rule id -> (sets it fires for, sets it does not fire for)
CASES: dict[str, tuple[list[History], list[History]]] = {
    "out-of-stock": (
        [
            history((P, 0), (X, 0.1)),
            history((X, 0.1), (P, 0), (S, 5)),
            history((P, 0), (X, 1), (C, 0.5)),
        ],
        [history((X, 0.1)), history(*RESERVED, (S, 5)), history((P, 0), (S, 5))],
    ),
    "customer-request": (
        [
            history(*RESERVED, (C, 3), (S, 5)),
            history(*RESERVED, (C, 3), (W, 20)),
            history(*RESERVED, (C, 3), (F, 4)),
            history(*RESERVED, (C, 3), (S, 25), (W, 20)),  # the late payment does not count
            history(*RESERVED, (C, 3), (G, 5)),  # its cancellation window closed first
            history(*RESERVED, (G, 5)),  # which only a request replaces the payment window with
        ],
        [
            history(*RESERVED, (C, 3)),  # waits: a payment made before it may be on its way
            history(*RESERVED, (S, 2), (C, 3)),
            history(*RESERVED, (S, 3), (C, 3)),  # at the very moment it was paid: too late
            history((P, 0), (X, 0.1), (C, 0.05), (W, 20)),  # out of stock stands
            history((C, 3), (S, 5), (R, 0.1)),  # not placed
            history(*RESERVED, (S, 4), (G, 5)),  # a payment made before the request came in time
        ],
    ),
    "payment-failed": (
        [
            history(*RESERVED, (F, 5)),
            history(*RESERVED, (F, 5), (C, 6)),
            history(*RESERVED, (F, 5), (S, 5)),
        ],
        [
            history(*RESERVED, (S, 4), (F, 5)),  # the first settlement stands
            history(*RESERVED, (F, 21)),  # after the window: decides nothing
            history((P, 0), (F, 5)),  # the inventory has not answered
            history((P, 0), (X, 0.1), (F, 5)),
        ],
    ),
    "fulfillment": (
        [
            history(*RESERVED, (S, 5)),
            history((S, 5), (R, 0.1), (P, 0)),
            history(*RESERVED, (S, 20)),  # at the close, still in time
            history(*RESERVED, (S, 20), (W, 20)),
            history(*RESERVED, (S, 5), (C, 6)),
        ],
        [
            history(*RESERVED, (S, 21)),  # late: waits for the window's event
            history(*RESERVED, (S, 21), (W, 20)),
            history((P, 0), (S, 5)),
            history((R, 0.1), (S, 5)),
            history(*RESERVED, (S, 5), (C, 4)),
        ],
    ),
    "expiry": (
        [
            history(*RESERVED, (W, 20)),
            history(*RESERVED, (W, 20), (S, 21)),
            history(*RESERVED, (W, 20), (C, 21)),
        ],
        [
            history(*RESERVED),
            history((P, 0), (W, 20)),  # the inventory has not answered
            history(*RESERVED, (S, 19), (W, 20)),
            history(*RESERVED, (C, 19), (W, 20)),
            history((P, 0), (X, 0.1), (W, 20)),
        ],
    ),
}


def cases(firing: bool) -> list:
    return [
        pytest.param(rule_id, case, id=f"{rule_id}-{n}")
        for rule_id, (fires, holds_off) in CASES.items()
        for n, case in enumerate(fires if firing else holds_off)
    ]


@pytest.mark.parametrize(("rule_id", "case"), cases(firing=True))
def test_the_rule_fires_and_decides_the_order(rule_id: str, case: History) -> None:
    verdict = evaluate(case)

    assert verdict.outcome is not None
    assert verdict.outcome.id == rule_id


@pytest.mark.parametrize(("rule_id", "case"), cases(firing=False))
def test_the_rule_holds_off(rule_id: str, case: History) -> None:
    verdict = evaluate(case)

    assert rule_id not in {rule.id for rule in verdict.rules}


def test_every_terminal_rule_has_its_cases() -> None:
    assert set(CASES) == {rule.id for rule in TERMINAL_RULES}


@pytest.mark.parametrize(
    ("case", "rejected"),
    [
        (history(*RESERVED, (S, 5), (C, 6)), True),
        (history(*RESERVED, (S, 5), (C, 5)), True),
        (history(*RESERVED, (S, 5)), False),
        (history(*RESERVED, (C, 4), (S, 5)), False),  # cancelled for the customer instead
        (history(*RESERVED, (F, 5), (C, 6)), False),  # the order ended cancelled: nothing to reject
        (history(*RESERVED, (W, 20), (C, 21)), False),
    ],
)
def test_a_cancellation_requested_once_the_order_goes_to_fulfillment_is_rejected(
    case: History, rejected: bool
) -> None:
    verdict = evaluate(case)

    assert ("cancellation-rejected" in {rule.id for rule in verdict.follow_ups}) is rejected


def test_a_recorded_outcome_stands_and_the_follow_ups_are_read_against_it() -> None:
    # Given a set whose rules now say the customer cancelled (the request was made before the
    # payment), but whose outcome was recorded as fulfillment (the payment arrived first)
    case = history(*RESERVED, (C, 4), (S, 5))
    assert evaluate(case).outcome is not None

    # When it is evaluated against that outcome
    verdict = evaluate(case, decided="fulfillment")

    # Then the fulfillment stands, and the customer's request is rejected, not honoured
    assert verdict.outcome is not None
    assert verdict.outcome.id == "fulfillment"
    assert [rule.id for rule in verdict.follow_ups] == ["cancellation-rejected"]


def test_each_cancellation_rule_names_its_reason_and_only_those_do() -> None:
    reasons = {rule.id: rule.reason for rule in RULES if rule.emits is FactType.CANCELLED}

    assert reasons == {
        "out-of-stock": CancellationReason.OUT_OF_STOCK,
        "customer-request": CancellationReason.CUSTOMER_REQUEST,
        "payment-failed": CancellationReason.PAYMENT_FAILED,
    }
    assert all(rule.reason is None for rule in RULES if rule.emits is not FactType.CANCELLED)


# Any set at all, with any times: the rules never hold two outcomes at once.
arbitrary_sets = st.lists(
    st.tuples(st.sampled_from(list(EventType)), st.integers(min_value=-5, max_value=30)),
    max_size=9,
)


@given(arbitrary_sets)
def test_at_most_one_terminal_condition_holds_for_any_set(events: list) -> None:
    case = history(*events)

    holding = [rule.id for rule in TERMINAL_RULES if rule.when(case, None)]

    assert len(holding) <= 1, holding
