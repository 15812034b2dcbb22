"""Every journey an order can take, as `make demo` runs them: five customers at once, through the
shop's public interfaces only. Each must end as the shop promises, stock included, and the
report must show each order's trail and diagram."""

from __future__ import annotations

from pathlib import Path

import pytest
from localcloud.cloud import LocalCloud
from shop_e2e import demo
from shop_e2e.journeys import JOURNEYS, JourneyResult
from shop_e2e.shop import Shop

# The whole shop, started once for the session (conftest.py): the test kit cannot see it there.
pytestmark = pytest.mark.localcloud


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "report.md"


@pytest.fixture(scope="module")
def results(running: tuple[Shop, LocalCloud | None], report_file: Path) -> dict[str, JourneyResult]:
    # Given the catalog loaded, When five customers each take one journey at the same time
    shop, cloud = running
    tour = demo.tour(shop, cloud.trail if cloud else None, report_file, customers="e2e")
    return {result.name: result for result in tour}


@pytest.mark.parametrize("journey", [journey.name for journey in JOURNEYS])
def test_the_journey_ends_as_the_shop_promises(
    results: dict[str, JourneyResult], journey: str
) -> None:
    # Then its order reached the expected status, reason, payment and stock
    result = results[journey]
    assert result.problems == [], f"{journey}: {result.problems}"
    assert result.order is not None
    assert result.order["status"] == result.expected.status


def test_the_report_traces_every_order_with_a_diagram(
    results: dict[str, JourneyResult], report_file: Path, local_cloud: LocalCloud
) -> None:
    # Then the report has a section per order, with its trail and one Mermaid diagram each
    text = report_file.read_text()
    assert text.count("```mermaid") == len(JOURNEYS)
    for result in results.values():
        assert f"## {result.name}: {result.final}" in text
        assert f"events for {result.order_id}" in text
    # And the paid order's diagram goes from each producing service through the hub
    paid = text.split("## paid:")[1].split("## ")[0]
    assert "->>hub: order-placed (+0 ms)" in paid
    assert "->>hub: order-fulfillment-requested" in paid
