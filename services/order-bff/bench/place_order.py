"""Warm `placeOrder` latency through the local cloud's HTTP API: the event hub and the BFF deployed
from their packages, a catalog of two products put on the bus, then placeOrder requests over HTTP
with a bearer token, one after another, each placing a new order (its own idempotency key).

The baseline, measured in the same run and interleaved, is the same HTTP API answering
`{ __typename }`: the JWT authorizer, one warm invocation of the graphql function and the
GraphQL round trip, without the model or the table. The ratio says what placing an order costs
over the door it comes through; p50 and p95 are each taken over the same requests.
"""

import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from localcloud.cloud import LocalCloud
from localcloud.testing import eventually, put_on_bus
from shop_bench import Comparison, report
from shop_envelope import deterministic_id

ROOT = Path(__file__).resolve().parents[3]
REQUESTS = 60
WARM_UP = 5
PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }"


def catalog() -> list[dict]:
    now = time.time_ns() // 1_000_000
    tags = {"source": "inventory", "stage": "local"}
    events = []
    for sku, amount in [("MUG-CLASSIC", 1200), ("KETTLE-GOOSE", 6900)]:
        product = {
            "sku": sku,
            "name": sku,
            "price": {"amount": amount, "currency": "EUR"},
            "version": 1,
        }
        stock = {"sku": sku, "onHand": 10**6, "reserved": 0, "available": 10**6, "version": 1}
        events.append(
            {
                "id": deterministic_id("product-updated", sku, 1),
                "type": "product-updated",
                "timestamp": now,
                "partitionKey": sku,
                "tags": tags,
                "product": product,
            }
        )
        events.append(
            {
                "id": deterministic_id("stock-level-changed", sku, 1),
                "type": "stock-level-changed",
                "timestamp": now,
                "partitionKey": sku,
                "tags": tags,
                "stock": stock,
            }
        )
    return events


def timed(url: str, token: str, query: str, variables: dict | None = None) -> tuple[float, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
        method="POST",
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    return time.perf_counter() - started, body


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


with (
    tempfile.TemporaryDirectory() as state,
    LocalCloud(state_dir=Path(state), serverless=ROOT / "make" / "serverless") as cloud,
):
    for stack in (ROOT / "infra" / "event-hub", ROOT / "services" / "order-bff"):
        assert cloud.deploy(stack) is not None, cloud.failures
    put_on_bus(cloud, *catalog())
    url = cloud.endpoints()["http"]["order-bff"].rstrip("/") + "/graphql"
    token = cloud.signing_key.token("bench-customer", audience="localcloud")

    def listed() -> bool:
        _, body = timed(url, token, "{ products { edges { cursor } } }")
        return len(body["data"]["products"]["edges"]) == 2

    eventually(listed, timeout=60)
    place_times, door_times = [], []
    for n in range(WARM_UP + REQUESTS):
        variables = {
            "input": {
                "lines": [
                    {"sku": "MUG-CLASSIC", "quantity": 1},
                    {"sku": "KETTLE-GOOSE", "quantity": 1},
                ],
                "idempotencyKey": f"bench-{n}",
            }
        }
        seconds, body = timed(url, token, PLACE, variables)
        assert "errors" not in body, body
        door, _ = timed(url, token, "{ __typename }")
        if n >= WARM_UP:
            place_times.append(seconds)
            door_times.append(door)

comparisons = [
    Comparison(
        "placeOrder p50 vs { __typename } p50",
        statistics.median(place_times),
        statistics.median(door_times),
        unit="ms",
        scale=1e3,
    ),
    Comparison(
        "placeOrder p95 vs { __typename } p95",
        percentile(place_times, 0.95),
        percentile(door_times, 0.95),
        unit="ms",
        scale=1e3,
    ),
]
print(
    report(
        f"order-bff: warm placeOrder through the local cloud's HTTP API ({REQUESTS} requests)",
        comparisons,
    )
)
