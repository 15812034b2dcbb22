"""The BFF deployed into the local cloud from its `serverless package` artifacts, beside the event
hub, and driven as the storefront and the other services drive it: GraphQL over the local HTTP API
with `make token` bearer tokens, and events on the bus."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localcloud.cloud import LocalCloud
from localcloud.http_api import LocalSigningKey
from localcloud.testing import eventually, put_on_bus
from localcloud.trail import TrailEntry
from shop_envelope import deterministic_id
from shop_sealing import KmsSealer

ROOT = Path(__file__).resolve().parents[3]
# Cold starts of the functions on two cores, then a hop or two each.
WAIT = 30.0
AUDIENCE = "localcloud"
STOREFRONT = "http://localhost:8080"
ORDER_FIELDS = "id status lines { sku quantity unitPrice { amount } } total { amount currency } payment { clientSecret status } history { type }"
PLACE = f"mutation($input: PlaceOrderInput!) {{ placeOrder(input: $input) {{ order {{ {ORDER_FIELDS} }} }} }}"
ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(
        state_dir=tmp_path_factory.mktemp("localcloud"), serverless=ROOT / "make" / "serverless"
    ) as local_cloud:
        assert local_cloud.deploy(ROOT / "infra" / "event-hub") is not None, local_cloud.failures
        assert local_cloud.deploy(ROOT / "services" / "order-bff") is not None, local_cloud.failures
        local_cloud.write_endpoints()
        # The catalog, as the inventory publishes it
        put_on_bus(local_cloud, *catalog_events())
        yield local_cloud


def catalog_events() -> list[dict[str, Any]]:
    now = time.time_ns() // 1_000_000
    events = []
    for sku, name, amount in [
        ("MUG-CLASSIC", "Classic mug", 1200),
        ("KETTLE-GOOSE", "Gooseneck kettle", 6900),
    ]:
        for kind, entity in [
            (
                "product-updated",
                {
                    "product": {
                        "sku": sku,
                        "name": name,
                        "price": {"amount": amount, "currency": "EUR"},
                        "version": 1,
                    }
                },
            ),
            (
                "stock-level-changed",
                {"stock": {"sku": sku, "onHand": 10, "reserved": 0, "available": 10, "version": 1}},
            ),
        ]:
            events.append(
                {
                    "id": deterministic_id(kind, sku, 1),
                    "type": kind,
                    "timestamp": now,
                    "partitionKey": sku,
                    "tags": {"source": "inventory", "stage": "local"},
                    **entity,
                }
            )
    return events


def url_of(cloud: LocalCloud) -> str:
    endpoints = json.loads((cloud.state_dir / "endpoints.json").read_text())
    return str(endpoints["http"]["order-bff"]).rstrip("/") + "/graphql"


def token(cloud: LocalCloud, customer: str, **options: Any) -> str:
    return cloud.signing_key.token(customer, audience=AUDIENCE, **options)


def post(
    cloud: LocalCloud,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    bearer: str | None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url_of(cloud),
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={
            "content-type": "application/json",
            **({"authorization": f"Bearer {bearer}"} if bearer else {}),
            **(headers or {}),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def ask(
    cloud: LocalCloud, customer: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    status, document = post(cloud, query, variables, bearer=token(cloud, customer))
    assert status == 200, document
    return document


def published(cloud: LocalCloud, key: str, detail_type: str) -> list[TrailEntry]:
    return [entry for entry in cloud.trail.for_key(key) if entry.detail_type == detail_type]


def listed(cloud: LocalCloud) -> bool:
    document = ask(cloud, "customer-a", "{ products { edges { node { sku available } } } }")
    return len(document["data"]["products"]["edges"]) == 2


def place(cloud: LocalCloud, customer: str, key: str) -> dict[str, Any]:
    eventually(lambda: listed(cloud), timeout=WAIT)
    variables = {"input": {"lines": [{"sku": "MUG-CLASSIC", "quantity": 2}], "idempotencyKey": key}}
    document = ask(cloud, customer, PLACE, variables)
    assert "errors" not in document, document
    order: dict[str, Any] = document["data"]["placeOrder"]["order"]
    return order


def test_the_endpoints_name_the_bffs_base_url(cloud: LocalCloud) -> None:
    endpoints = json.loads((cloud.state_dir / "endpoints.json").read_text())

    assert endpoints["http"]["order-bff"].startswith("http://127.0.0.1:")


def test_an_order_placed_over_http_is_on_the_bus_and_what_others_report_shows_in_it(
    cloud: LocalCloud,
) -> None:
    # When a customer places an order over HTTP with a bearer token
    order = place(cloud, "customer-a", "journey-1")

    # Then order-placed is on the bus, from the BFF, priced by the catalog
    [placed] = eventually(lambda: published(cloud, order["id"], "order-placed"), timeout=WAIT)
    assert placed.source == "order-bff"
    assert placed.detail["order"]["customerId"] == "customer-a"
    assert placed.detail["order"]["total"] == {"amount": 2400, "currency": "EUR"}

    # When stripe-esg reports the payment intent, its client secret sealed with the hub's key
    key = next(s for s in cloud.stacks if s.name == "event-hub-local").outputs["SealingKeyArn"]
    sealed = KmsSealer(key, client=cloud.aws.client("kms")).seal(
        "pi_1_secret_xyz", field="payment.clientSecret", order_id=order["id"]
    )
    put_on_bus(
        cloud,
        {
            "id": deterministic_id("payment-intent-created", order["id"]),
            "type": "payment-intent-created",
            "timestamp": time.time_ns() // 1_000_000,
            "partitionKey": order["id"],
            "tags": {"source": "stripe-esg", "stage": "local"},
            "payment": {
                "orderId": order["id"],
                "intentId": "pi_1",
                "amount": 2400,
                "currency": "EUR",
                "clientSecret": sealed,
            },
        },
    )

    # Then the owner sees the order await payment, and gets the secret in clear
    def awaiting() -> dict[str, Any]:
        seen: dict[str, Any] = ask(cloud, "customer-a", ORDER, {"id": order["id"]})["data"]["order"]
        return seen if seen["status"] == "AWAITING_PAYMENT" else {}

    seen = eventually(awaiting, timeout=WAIT)
    assert seen["payment"] == {"clientSecret": "pi_1_secret_xyz", "status": "PENDING"}
    assert [entry["type"] for entry in seen["history"]] == [
        "order-placed",
        "payment-intent-created",
    ]
    table = next(s for s in cloud.stacks if s.name == "order-bff-local").outputs["TableName"]
    item = cloud.aws.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"ORDER#{order['id']}"}, "sk": {"S": "ORDER"}}
    )["Item"]
    assert "pi_1_secret_xyz" not in json.dumps(item), "the table keeps it sealed"


def test_the_same_idempotency_key_places_one_order(cloud: LocalCloud) -> None:
    first = place(cloud, "customer-a", "retry-1")
    again = place(cloud, "customer-a", "retry-1")

    assert again["id"] == first["id"]
    eventually(lambda: published(cloud, first["id"], "order-placed"), timeout=WAIT)
    assert len(published(cloud, first["id"], "order-placed")) == 1


def test_customer_b_cannot_read_list_or_cancel_customer_as_orders(cloud: LocalCloud) -> None:
    order = place(cloud, "customer-a", "private-1")

    read = ask(cloud, "customer-b", ORDER, {"id": order["id"]})
    mine = ask(cloud, "customer-b", "{ myOrders { edges { node { id } } } }")
    cancel = ask(
        cloud,
        "customer-b",
        "mutation($id: ID!) { cancelOrder(id: $id) { order { id } } }",
        {"id": order["id"]},
    )

    assert read == {"data": {"order": None}}
    assert order["id"] not in json.dumps(mine)
    assert [error["extensions"]["code"] for error in cancel["errors"]] == ["NOT_FOUND"]
    time.sleep(1)
    assert published(cloud, order["id"], "order-cancellation-requested") == []
    # while the owner can, and the request goes out on the bus
    own = ask(
        cloud,
        "customer-a",
        "mutation($id: ID!) { cancelOrder(id: $id) { order { id } } }",
        {"id": order["id"]},
    )
    assert own == {"data": {"cancelOrder": {"order": {"id": order["id"]}}}}
    eventually(lambda: published(cloud, order["id"], "order-cancellation-requested"), timeout=WAIT)


def test_a_request_without_a_valid_token_is_refused(cloud: LocalCloud, tmp_path: Path) -> None:
    forger = LocalSigningKey.load_or_create(tmp_path / "forged.json")
    refused = {
        "no token": None,
        "garbage": "not-a-jwt",
        "forged": forger.token("customer-a", audience=AUDIENCE),
        "expired": token(cloud, "customer-a", ttl_seconds=-60),
        "another audience": cloud.signing_key.token("customer-a", audience="elsewhere"),
    }

    statuses = {
        why: post(cloud, "{ myOrders { edges { cursor } } }", bearer=bearer)[0]
        for why, bearer in refused.items()
    }

    assert statuses == dict.fromkeys(refused, 401)


def test_the_storefront_origin_may_call_the_api_from_a_browser(cloud: LocalCloud) -> None:
    preflight = urllib.request.Request(
        url_of(cloud),
        method="OPTIONS",
        headers={
            "origin": STOREFRONT,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
        },
    )
    with urllib.request.urlopen(preflight, timeout=WAIT) as response:
        assert response.headers["access-control-allow-origin"] == STOREFRONT
        assert "POST" in response.headers["access-control-allow-methods"]
    for origin, allowed in [(STOREFRONT, STOREFRONT), ("https://elsewhere.example", None)]:
        request = urllib.request.Request(
            url_of(cloud),
            data=json.dumps({"query": "{ products { edges { cursor } } }"}).encode(),
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {token(cloud, 'customer-a')}",
                "origin": origin,
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            # Served either way; a browser hands the answer only to the page the header names.
            assert response.headers.get("access-control-allow-origin") == allowed
