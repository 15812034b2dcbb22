"""The journeys an order can take, each driven as a customer drives it and checked against what
the shop promises: the final status and reason, the payment's status, and the stock (committed
when paid, given back otherwise).

A journey waits by polling the order, as the storefront does, and reports each wait through
`on_wait` so a demo can say what it is waiting for. `run_journey` turns any failure into a
result with its problems, so one journey that goes wrong never hides the others."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shop_e2e.client import DECLINED_CARD, PAYING_CARD, Customer, ShopError, Stripe

TERMINAL = frozenset({"FULFILLMENT_REQUESTED", "CANCELLED", "EXPIRED"})
# Polling as a storefront would: often enough that a latency reads true to a tenth of a second.
POLL_SECONDS = 0.1
# A cold start of every function on the way, on two cores, then the hops; a deployed stage's
# expiry journey needs its payment window more (SHOP_SETTLE_SECONDS, see the README).
SETTLE_SECONDS = float(os.environ.get("SHOP_SETTLE_SECONDS", "90"))

Waiting = Callable[[str], None]


class JourneyFailed(Exception):
    """The shop did not do what the journey expected, in words a reader can act on."""


@dataclass(frozen=True)
class Expected:
    status: str
    reason: str | None = None
    payment: str | None = None
    stock_taken: bool = False  # True: the units stay taken (committed); False: given back


@dataclass
class JourneyResult:
    name: str
    story: str
    expected: Expected
    order_id: str | None = None
    order: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    # Named moments, seconds since the journey placed its order: "payable", "final", ...
    marks: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and self.order is not None

    @property
    def final(self) -> str:
        if self.order is None:
            return "no order"
        reason = self.order.get("cancellationReason")
        return f"{self.order['status']}{f' / {reason}' if reason else ''}"


@dataclass(frozen=True)
class Trip:
    """What one journey needs: the customer, Stripe, the product it orders and the clock."""

    customer: Customer
    stripe: Stripe
    sku: str
    on_wait: Waiting = lambda _what: None
    clock: Callable[[], float] = time.monotonic
    settle_seconds: float = SETTLE_SECONDS

    def available(self) -> int:
        product = self.customer.product(self.sku)
        if product is None:
            raise JourneyFailed(f"{self.sku} is not in the catalog: was it loaded?")
        return int(product["available"])

    def wait_for(
        self,
        order_id: str,
        what: str,
        reached: Callable[[dict[str, Any]], bool],
        *,
        give_up_when_final: bool = True,
    ) -> dict[str, Any]:
        """The order once `reached(order)`, or `JourneyFailed` naming where it stopped (at once
        when it ended otherwise, unless `give_up_when_final` is False)."""
        self.on_wait(what)
        deadline = self.clock() + self.settle_seconds
        order = None
        while self.clock() < deadline:
            try:
                order = self.customer.order(order_id)
            except ShopError as error:
                if not error.code.startswith("HTTP_5"):
                    raise
                # The API failed this look (and its retries): the next look may not.
                time.sleep(POLL_SECONDS)
                continue
            if order is not None and reached(order):
                return order
            if give_up_when_final and order is not None and order["status"] in TERMINAL:
                break
            time.sleep(POLL_SECONDS)
        seen = "nothing" if order is None else f"{order['status']} ({_types(order)})"
        raise JourneyFailed(f"waited for {what}; the order is {seen}")

    def wait_until_final(self, order_id: str, expected: Expected) -> dict[str, Any]:
        """The order once it ended; and, when a payment outcome is expected, once the payment
        has settled too (stripe-esg voids or refunds it after the order ends)."""
        order = self.wait_for(order_id, expected.status, lambda order: order["status"] in TERMINAL)
        if expected.payment is None or _payment(order) == expected.payment:
            return order
        try:
            return self.wait_for(
                order_id,
                f"the payment {expected.payment}",
                lambda order: _payment(order) == expected.payment,
                give_up_when_final=False,
            )
        except JourneyFailed:
            return self.customer.order(order_id) or order

    def wait_for_stock(self, expected: int) -> int:
        """The catalog view shows `expected` available (the inventory reports stock as events);
        what it shows at the deadline otherwise."""
        self.on_wait(f"{self.sku} at {expected} available")
        deadline = self.clock() + self.settle_seconds
        while True:
            available = self.available()
            if available == expected or self.clock() > deadline:
                return available
            time.sleep(POLL_SECONDS)


def _types(order: Mapping[str, Any]) -> str:
    return ", ".join(entry["type"] for entry in order.get("history", ())) or "no events yet"


def _payment(order: Mapping[str, Any]) -> str | None:
    return (order.get("payment") or {}).get("status")


def _payable(order: Mapping[str, Any]) -> bool:
    return bool((order.get("payment") or {}).get("clientSecret"))


@dataclass(frozen=True)
class Journey:
    name: str
    story: str
    expected: Expected
    # How many units it orders, given how many are available; and what it does once placed.
    quantity: Callable[[int], int]
    after_placing: Callable[[Trip, dict[str, Any], dict[str, float], float], None]


def _pay(card: str) -> Callable[[Trip, dict[str, Any], dict[str, float], float], None]:
    def pay(trip: Trip, order: dict[str, Any], marks: dict[str, float], started: float) -> None:
        payable = trip.wait_for(order["id"], "the client secret (payable)", _payable)
        marks["payable"] = trip.clock() - started
        trip.stripe.confirm(payable["payment"]["clientSecret"], card)
        marks["confirmed"] = trip.clock() - started

    return pay


def _cancel(trip: Trip, order: dict[str, Any], marks: dict[str, float], started: float) -> None:
    trip.wait_for(order["id"], "the client secret (payable)", _payable)
    marks["payable"] = trip.clock() - started
    trip.customer.cancel_order(order["id"])
    marks["cancel requested"] = trip.clock() - started


def _leave_unpaid(
    trip: Trip, order: dict[str, Any], marks: dict[str, float], started: float
) -> None:
    trip.wait_for(order["id"], "the client secret (payable)", _payable)
    marks["payable"] = trip.clock() - started
    trip.on_wait("the payment window to close (the order is left unpaid)")


def _nothing(
    _trip: Trip, _order: dict[str, Any], _marks: dict[str, float], _started: float
) -> None:
    return None


JOURNEYS = (
    Journey(
        "paid",
        "pays with a card that succeeds: the order is fulfilled and its stock committed",
        Expected("FULFILLMENT_REQUESTED", payment="SUCCEEDED", stock_taken=True),
        quantity=lambda _available: 1,
        after_placing=_pay(PAYING_CARD),
    ),
    Journey(
        "declined",
        "pays with a card the issuer declines: the order is cancelled, its stock given back and"
        " the failed payment voided",
        Expected("CANCELLED", "PAYMENT_FAILED", payment="CANCELLED"),
        quantity=lambda _available: 1,
        after_placing=_pay(DECLINED_CARD),
    ),
    Journey(
        "out-of-stock",
        "orders one more than the stock holds: the inventory refuses, the order is cancelled",
        Expected("CANCELLED", "OUT_OF_STOCK"),
        quantity=lambda available: available + 1,
        after_placing=_nothing,
    ),
    Journey(
        "cancelled",
        "asks to cancel before paying: the order is cancelled, the payment voided, the stock back",
        Expected("CANCELLED", "CUSTOMER_REQUEST", payment="CANCELLED"),
        quantity=lambda _available: 1,
        after_placing=_cancel,
    ),
    Journey(
        "expired",
        "never pays: the payment window closes, the order expires and its stock comes back",
        Expected("EXPIRED", payment="CANCELLED"),
        quantity=lambda _available: 1,
        after_placing=_leave_unpaid,
    ),
)
# The product each journey orders: a product of its own, so their stock checks do not cross.
PRODUCTS = {
    "paid": "MUG-CLASSIC",
    "declined": "MUG-TRAVEL",
    "out-of-stock": "GRINDER-BURR",
    "cancelled": "KETTLE-GOOSE",
    "expired": "TEAPOT-CAST",
}


def run_journey(journey: Journey, trip: Trip) -> JourneyResult:
    """Drive one journey to its end and check it; never raises for what the shop did."""
    result = JourneyResult(journey.name, journey.story, journey.expected)
    try:
        before = trip.available()
        quantity = journey.quantity(before)
        started = trip.clock()
        placed = trip.customer.place_order(
            {trip.sku: quantity}, idempotency_key=f"{journey.name}-{uuid.uuid4()}"
        )
        result.order_id = placed["id"]
        journey.after_placing(trip, placed, result.marks, started)
        result.order = trip.wait_until_final(placed["id"], journey.expected)
        result.marks["final"] = trip.clock() - started
        result.problems += _compare(journey.expected, result.order)
        taken = quantity if journey.expected.stock_taken else 0
        available = trip.wait_for_stock(before - taken)
        if available != before - taken:
            result.problems.append(
                f"{trip.sku}: {available} available, expected {before - taken}"
                f" ({before} before, {quantity} ordered)"
            )
    except (JourneyFailed, ShopError) as error:
        result.problems.append(str(error))
    return result


def _compare(expected: Expected, order: Mapping[str, Any]) -> list[str]:
    problems = []
    if order["status"] != expected.status:
        problems.append(f"status {order['status']}, expected {expected.status}")
    if order.get("cancellationReason") != expected.reason:
        problems.append(f"reason {order.get('cancellationReason')}, expected {expected.reason}")
    payment = _payment(order)
    if expected.payment is not None and payment != expected.payment:
        problems.append(f"payment {payment}, expected {expected.payment}")
    return problems
