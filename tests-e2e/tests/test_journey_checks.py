"""The journeys' own checks, against a scripted shop (no network): a journey that the shop does
not honour must come out with its problems named, never as passed."""

from __future__ import annotations

import itertools
from typing import Any, cast

import pytest
from localcloud.trail import TrailEntry
from shop_e2e import report
from shop_e2e.client import Customer, ShopError, Stripe
from shop_e2e.journeys import JOURNEYS, JourneyResult, Trip, run_journey

PAID = next(journey for journey in JOURNEYS if journey.name == "paid")
OUT_OF_STOCK = next(journey for journey in JOURNEYS if journey.name == "out-of-stock")


class ScriptedCustomer:
    """Answers `order` with the next of `states` (the last repeats); stock as `stock` says."""

    def __init__(self, states: list[dict[str, Any]], stock: list[int]) -> None:
        self.states = states
        self.reads = 0
        self.stock = itertools.chain(stock, itertools.repeat(stock[-1]))
        self.placed: list[dict[str, int]] = []

    def product(self, sku: str) -> dict[str, Any]:
        return {"sku": sku, "available": next(self.stock)}

    def place_order(self, lines: dict[str, int], **_: Any) -> dict[str, Any]:
        self.placed.append(lines)
        return {"id": "o-1", "status": "PLACED", "payment": None, "history": []}

    def order(self, order_id: str) -> dict[str, Any]:
        state = self.states[min(self.reads, len(self.states) - 1)]
        self.reads += 1
        return {"id": order_id, "history": [], "cancellationReason": None, **state}


class ScriptedStripe:
    def __init__(self) -> None:
        self.confirmed: list[tuple[str, str]] = []

    def confirm(self, client_secret: str, payment_method: str) -> dict[str, Any]:
        self.confirmed.append((client_secret, payment_method))
        return {"status": "succeeded"}


def trip(customer: ScriptedCustomer, stripe: ScriptedStripe | None = None) -> Trip:
    ticks = itertools.count()
    return Trip(
        cast(Customer, customer),
        cast(Stripe, stripe or ScriptedStripe()),
        "MUG",
        clock=lambda: float(next(ticks)),
        settle_seconds=50,
    )


PAYABLE = {
    "status": "AWAITING_PAYMENT",
    "payment": {"status": "PENDING", "clientSecret": "pi_1_secret_2"},
}
FULFILLED = {
    "status": "FULFILLMENT_REQUESTED",
    "payment": {"status": "SUCCEEDED", "clientSecret": "pi_1_secret_2"},
}


def test_a_paid_order_that_is_fulfilled_with_its_stock_taken_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shop_e2e.journeys.POLL_SECONDS", 0)
    # Given a shop that makes the order payable, then fulfils it and takes the unit
    customer, stripe = ScriptedCustomer([PAYABLE, FULFILLED], stock=[10, 9]), ScriptedStripe()

    # When the paid journey runs
    result = run_journey(PAID, trip(customer, stripe))

    # Then it paid with the succeeding card once and passes, with its moments marked
    assert stripe.confirmed == [("pi_1_secret_2", "pm_card_visa")]
    assert result.ok, result.problems
    assert list(result.marks) == ["payable", "confirmed", "final"]
    assert report.outcome(result).endswith(" ok")


def test_a_paid_order_that_ends_otherwise_is_reported_with_its_problems(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shop_e2e.journeys.POLL_SECONDS", 0)
    # Given a shop that cancels a paid order and gives its stock back
    cancelled = {
        "status": "CANCELLED",
        "cancellationReason": "PAYMENT_FAILED",
        "payment": {"status": "FAILED", "clientSecret": "s"},
    }
    customer = ScriptedCustomer([PAYABLE, cancelled], stock=[10])

    # When the paid journey runs
    result = run_journey(PAID, trip(customer))

    # Then each broken promise is named
    assert not result.ok
    assert result.problems[:2] == [
        "status CANCELLED, expected FULFILLMENT_REQUESTED",
        "reason PAYMENT_FAILED, expected None",
    ]
    assert any("MUG: 10 available, expected 9" in problem for problem in result.problems)
    assert report.outcome(result).endswith(report.FAILED)


def test_an_order_that_never_becomes_payable_fails_saying_where_it_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shop_e2e.journeys.POLL_SECONDS", 0)
    customer = ScriptedCustomer([{"status": "PLACED", "payment": None}], stock=[10])

    result = run_journey(PAID, trip(customer))

    assert result.problems == [
        "waited for the client secret (payable); the order is PLACED (no events yet)"
    ]


def test_the_out_of_stock_journey_orders_one_more_than_is_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shop_e2e.journeys.POLL_SECONDS", 0)
    refused = {"status": "CANCELLED", "cancellationReason": "OUT_OF_STOCK", "payment": None}
    customer = ScriptedCustomer([refused], stock=[6])

    result = run_journey(OUT_OF_STOCK, trip(customer))

    assert customer.placed == [{"MUG": 7}]
    assert result.ok, result.problems


def test_a_refusal_from_the_shop_is_a_problem_not_a_crash() -> None:
    class Refusing(ScriptedCustomer):
        def place_order(self, lines: dict[str, int], **_: Any) -> dict[str, Any]:
            raise ShopError("BAD_USER_INPUT", "no such product")

    result = run_journey(PAID, trip(Refusing([PAYABLE], stock=[1])))

    assert result.problems == ["BAD_USER_INPUT: no such product"]
    assert result.final == "no order"


def test_the_report_has_a_row_and_a_section_with_a_diagram_per_order() -> None:
    # Given a passed journey and its two events on the trail
    result = JourneyResult(
        "paid", "pays", PAID.expected, order_id="o-1", order={"status": "FULFILLMENT_REQUESTED"}
    )
    result.marks = {"payable": 0.5, "final": 1.25}
    entries = [
        TrailEntry(
            1_000, "bus", "order-bff", "order-placed", "e1", "o-1", "o-1", {"partitionKey": "o-1"}
        ),
        TrailEntry(
            1_400,
            "bus",
            "fulfillment-control",
            "order-fulfillment-requested",
            "e2",
            "o-1",
            "o-1",
            {"partitionKey": "o-1"},
        ),
    ]

    # When reported
    text = report.markdown(
        [result], entries, {"order-placed": ["fulfillment-control"]}, started_ms=0
    )

    # Then the summary row, the trail and one diagram through the hub
    assert (
        "| paid | `o-1` | FULFILLMENT_REQUESTED | FULFILLMENT_REQUESTED | payable 0.5 s, final 1.2 s | ok |"
        in text
    )
    assert text.count("```mermaid") == 1
    assert "s1->>hub: order-placed (+0 ms)" in text
    assert "hub-->>s2: order-placed" in text
    assert "s2->>hub: order-fulfillment-requested (+400 ms)" in text
