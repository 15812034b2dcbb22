"""Every journey an order can take, through the shop's public interfaces only, all five at once
(as customers shop): each must end as the shop promises, stock included."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from shop_e2e.journeys import JOURNEYS, PRODUCTS, JourneyResult, Trip, run_journey
from shop_e2e.shop import Shop


@pytest.fixture(scope="module")
def results(shop: Shop) -> dict[str, JourneyResult]:
    # Given the catalog loaded, When five customers each take one journey at the same time
    with ThreadPoolExecutor(len(JOURNEYS)) as pool:
        futures = {
            journey.name: pool.submit(
                run_journey,
                journey,
                Trip(shop.customer(f"e2e-{journey.name}"), shop.stripe, PRODUCTS[journey.name]),
            )
            for journey in JOURNEYS
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("journey", [journey.name for journey in JOURNEYS])
def test_the_journey_ends_as_the_shop_promises(
    results: dict[str, JourneyResult], journey: str
) -> None:
    # Then its order reached the expected status, reason, payment and stock
    result = results[journey]
    assert result.problems == [], f"{journey}: {result.problems}"
    assert result.order is not None
    assert result.order["status"] == result.expected.status
