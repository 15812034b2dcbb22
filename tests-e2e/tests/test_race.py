"""Twenty customers race for the last five units, each ordering one through GraphQL at once:
exactly five get an order they can pay, the other fifteen are told it is out of stock."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from shop_e2e.journeys import Trip
from shop_e2e.shop import Shop

# The whole shop, started once for the session (conftest.py): the test kit cannot see it there.
pytestmark = pytest.mark.localcloud

CUSTOMERS, UNITS = 20, 5


def reserved(order: dict[str, Any]) -> bool:
    return "inventory-reserved" in [entry["type"] for entry in order["history"]]


def test_twenty_customers_racing_for_five_units_get_exactly_five(
    shop: Shop, tmp_path: Path
) -> None:
    # Given a product of which five units are left
    sku = f"LAST-FIVE-{uuid.uuid4().hex[:8].upper()}"
    catalog = tmp_path / "last-five.json"
    catalog.write_text(
        json.dumps(
            [
                {
                    "sku": sku,
                    "name": "The last five",
                    "price": {"amount": 990, "currency": "EUR"},
                    "stock": UNITS,
                }
            ]
        )
    )
    shop.load_catalog(catalog)

    # When twenty customers each order one at the same moment
    def race(number: int) -> dict[str, Any]:
        trip = Trip(shop.customer(f"e2e-racer-{number}"), shop.stripe, sku)
        placed = trip.customer.place_order({sku: 1})
        # Stripe's intent is created while the inventory reserves (both on order-placed): an
        # order has its stock once the inventory says so.
        return trip.wait_for(
            placed["id"],
            "reserved and payable, or out of stock",
            lambda order: (
                (reserved(order) and bool(order["payment"])) or order["status"] == "CANCELLED"
            ),
        )

    with ThreadPoolExecutor(CUSTOMERS) as pool:
        orders = list(pool.map(race, range(CUSTOMERS)))

    # Then exactly five can be paid, and the rest are cancelled for want of stock
    payable = [
        order for order in orders if order["status"] == "AWAITING_PAYMENT" and reserved(order)
    ]
    refused = [order for order in orders if order["cancellationReason"] == "OUT_OF_STOCK"]
    assert len(payable) == UNITS, [order["status"] for order in orders]
    assert len(refused) == CUSTOMERS - UNITS
    assert all(order["payment"]["clientSecret"] for order in payable)
    # And the catalog shows none left
    trip = Trip(shop.customer("e2e-race-watcher"), shop.stripe, sku)
    assert trip.wait_for_stock(0) == 0
