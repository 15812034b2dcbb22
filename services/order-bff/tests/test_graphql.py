"""The GraphQL API, executed through its HTTP adapter on real-shaped API Gateway events, over the
model with an in-memory view store: what a customer can do and see, and every error's code."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from order_bff.api import MAX_BODY_BYTES
from order_bff.domain import CLIENT_SECRET_FIELD, MAX_LINES, MAX_QUANTITY, Fact, OrderStatus
from order_bff.domain import PaymentStatus as DomainPaymentStatus
from order_bff.model import Shop
from order_bff.schema import CACHED_DOCUMENTS, MAX_DEPTH
from shop_sealing import InMemorySealer
from shop_testkit import http_api_event
from strawberry.extensions.validation_cache import _get_validate_cache

if TYPE_CHECKING:
    from conftest import Ask

ORDER_FIELDS = """
    id status cancellationReason
    lines { sku name quantity unitPrice { amount currency } }
    total { amount currency }
    payment { clientSecret status }
    history { type at }
    createdAt updatedAt
"""
PLACE = f"""
mutation Place($input: PlaceOrderInput!) {{
  placeOrder(input: $input) {{ order {{ {ORDER_FIELDS} }} }}
}}"""
ORDER = f"query One($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
MY_ORDERS = """
query Mine($first: Int, $after: String) {
  myOrders(first: $first, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""
CANCEL = "mutation Cancel($id: ID!) { cancelOrder(id: $id) { order { id status } } }"
PRODUCTS = """
query Catalog($first: Int, $after: String) {
  products(first: $first, after: $after) {
    edges { cursor node { sku name price { amount currency } available } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def place(
    ask: Ask, *lines: tuple[str, int], key: str | None = None, customer: str = "customer-a"
) -> dict[str, Any]:
    variables = {
        "input": {
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
            "idempotencyKey": key,
        }
    }
    document = ask(PLACE, variables, customer=customer)
    assert "errors" not in document, document
    order: dict[str, Any] = document["data"]["placeOrder"]["order"]
    return order


def codes(document: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in document["errors"]]


# ---- placing orders ------------------------------------------------------------------------------


def test_an_order_is_placed_at_the_catalogs_prices(ask: Ask) -> None:
    # When a customer orders two mugs and a kettle
    order = place(ask, ("MUG", 2), ("KETTLE", 1))

    # Then the order holds them at the catalog's prices, is PLACED, and says when
    assert order["status"] == "PLACED"
    assert order["lines"] == [
        {
            "sku": "MUG",
            "name": "Product MUG",
            "quantity": 2,
            "unitPrice": {"amount": 1200, "currency": "EUR"},
        },
        {
            "sku": "KETTLE",
            "name": "Product KETTLE",
            "quantity": 1,
            "unitPrice": {"amount": 6900, "currency": "EUR"},
        },
    ]
    assert order["total"] == {"amount": 2 * 1200 + 6900, "currency": "EUR"}
    assert order["payment"] is None
    assert order["cancellationReason"] is None
    assert [entry["type"] for entry in order["history"]] == ["order-placed"]
    assert order["createdAt"] == order["updatedAt"]
    assert order["createdAt"].startswith("2027-01-15T")


def test_a_price_from_the_client_is_no_part_of_the_api(ask: Ask) -> None:
    document = ask(PLACE, {"input": {"lines": [{"sku": "MUG", "quantity": 1, "unitPrice": 1}]}})

    assert codes(document) == ["BAD_USER_INPUT"]
    assert "unitPrice" in document["errors"][0]["message"]


def test_the_same_idempotency_key_returns_the_same_order(ask: Ask) -> None:
    first = place(ask, ("MUG", 1), key="cart-1")
    again = place(ask, ("KETTLE", 3), key="cart-1")
    other = place(ask, ("MUG", 1), key="cart-2")

    assert again == first, "a retried placeOrder places nothing more"
    assert other["id"] != first["id"]


def test_one_customers_key_is_not_anothers(ask: Ask) -> None:
    mine = place(ask, ("MUG", 1), key="cart-1", customer="customer-a")
    theirs = place(ask, ("MUG", 1), key="cart-1", customer="customer-b")

    assert mine["id"] != theirs["id"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "at least one line"),
        ([{"sku": "MUG", "quantity": 0}], "between 1 and"),
        ([{"sku": "MUG", "quantity": MAX_QUANTITY + 1}], "between 1 and"),
        ([{"sku": "MUG", "quantity": MAX_QUANTITY}, {"sku": "MUG", "quantity": 1}], "at most"),
        ([{"sku": f"SKU-{n}", "quantity": 1} for n in range(MAX_LINES + 1)], "at most 50 lines"),
        ([{"sku": "NOPE", "quantity": 1}], "no product with sku 'NOPE'"),
    ],
    ids=[
        "empty",
        "zero",
        "too many of one",
        "too many once combined",
        "too many lines",
        "unknown sku",
    ],
)
def test_an_order_that_cannot_be_placed_is_bad_user_input(
    ask: Ask, memory_shop: Shop, lines: list[dict[str, Any]], message: str
) -> None:
    document = ask(PLACE, {"input": {"lines": lines}})

    assert codes(document) == ["BAD_USER_INPUT"]
    assert message in document["errors"][0]["message"]
    assert document["data"] is None
    assert memory_shop.my_orders("customer-a").edges == (), "nothing was placed"


def test_a_product_known_only_by_its_stock_cannot_be_ordered(ask: Ask, memory_shop: Shop) -> None:
    memory_shop.stock_changed("GHOST", 5, version=3)

    document = ask(PLACE, {"input": {"lines": [{"sku": "GHOST", "quantity": 1}]}})

    assert codes(document) == ["BAD_USER_INPUT"]


def test_an_idempotency_key_too_long_is_bad_user_input(ask: Ask) -> None:
    document = ask(
        PLACE, {"input": {"lines": [{"sku": "MUG", "quantity": 1}], "idempotencyKey": "k" * 129}}
    )

    assert codes(document) == ["BAD_USER_INPUT"]


# ---- reading orders: only one's own --------------------------------------------------------------


def test_a_customer_reads_their_order_and_nobody_elses(ask: Ask) -> None:
    order = place(ask, ("MUG", 1), customer="customer-a")

    mine = ask(ORDER, {"id": order["id"]}, customer="customer-a")
    theirs = ask(ORDER, {"id": order["id"]}, customer="customer-b")
    nobodys = ask(ORDER, {"id": "no-such-order"}, customer="customer-b")

    assert mine["data"]["order"] == order
    assert theirs == nobodys == {"data": {"order": None}}, "another's order reads as none at all"


def test_my_orders_lists_only_mine_newest_first_a_page_at_a_time(ask: Ask) -> None:
    # Given three orders of customer A and one of B
    placed = [place(ask, ("MUG", 1))["id"] for _ in range(3)]
    place(ask, ("MUG", 1), customer="customer-b")

    # When A lists them two at a time
    first = ask(MY_ORDERS, {"first": 2})["data"]["myOrders"]
    rest = ask(MY_ORDERS, {"first": 2, "after": first["pageInfo"]["endCursor"]})["data"]["myOrders"]

    # Then A sees their own, newest first, across the pages, and nothing more
    ids = [edge["node"]["id"] for edge in first["edges"] + rest["edges"]]
    assert ids == list(reversed(placed))
    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": rest["edges"][-1]["cursor"]}


@pytest.mark.parametrize(
    "cursor",
    ["not-base64!", base64.b64encode(b"[1]").decode(), base64.b64encode(b'{"s": 1}').decode()],
)
def test_a_malformed_cursor_is_bad_user_input(ask: Ask, cursor: str) -> None:
    for query in (MY_ORDERS, PRODUCTS):
        document = ask(query, {"after": cursor})

        assert codes(document) == ["BAD_USER_INPUT"]
        assert "not a cursor" in document["errors"][0]["message"]


@pytest.mark.parametrize("first", [0, 101, -1])
def test_a_page_holds_one_to_a_hundred(ask: Ask, first: int) -> None:
    assert codes(ask(PRODUCTS, {"first": first})) == ["BAD_USER_INPUT"]


# ---- cancelling ----------------------------------------------------------------------------------


def test_a_customer_asks_to_cancel_their_order_once(ask: Ask, memory_shop: Shop) -> None:
    order = place(ask, ("MUG", 1))

    first = ask(CANCEL, {"id": order["id"]})
    again = ask(CANCEL, {"id": order["id"]})

    assert (
        first
        == again
        == {"data": {"cancelOrder": {"order": {"id": order["id"], "status": "PLACED"}}}}
    )
    view = memory_shop.views.order(order["id"])
    assert view is not None
    assert [entry.type for entry in view.history] == [
        "order-placed",
        "order-cancellation-requested",
    ]


def test_nobody_cancels_anothers_order(ask: Ask, memory_shop: Shop) -> None:
    order = place(ask, ("MUG", 1), customer="customer-a")

    theirs = ask(CANCEL, {"id": order["id"]}, customer="customer-b")
    nobodys = ask(CANCEL, {"id": "no-such-order"}, customer="customer-b")

    assert codes(theirs) == codes(nobodys) == ["NOT_FOUND"]
    assert theirs["errors"][0]["message"] == f"no order {order['id']!r}"
    view = memory_shop.views.order(order["id"])
    assert view is not None
    assert view.cancellation_requested_at is None


def test_an_order_that_ended_cannot_be_cancelled(ask: Ask, memory_shop: Shop) -> None:
    order = place(ask, ("MUG", 1))
    memory_shop.take_in(order["id"], Fact("e-1", "order-expired", 1, status=OrderStatus.EXPIRED))

    document = ask(CANCEL, {"id": order["id"]})

    assert codes(document) == ["BAD_USER_INPUT"]
    assert "EXPIRED" in document["errors"][0]["message"]


# ---- the payment's client secret -----------------------------------------------------------------


def test_the_owner_gets_the_client_secret_unsealed(
    ask: Ask, memory_shop: Shop, sealer: InMemorySealer
) -> None:
    # Given an order whose payment intent arrived with its client secret sealed for that order
    order = place(ask, ("MUG", 1))
    sealed = sealer.seal("pi_1_secret_2", field=CLIENT_SECRET_FIELD, order_id=order["id"])
    memory_shop.take_in(
        order["id"],
        Fact(
            "e-1",
            "payment-intent-created",
            1,
            status=OrderStatus.AWAITING_PAYMENT,
            payment=DomainPaymentStatus.PENDING,
            sealed_client_secret=sealed,
        ),
    )

    # When the owner asks for it
    document = ask(ORDER, {"id": order["id"]})

    # Then it is there in clear, for them, and the order awaits payment
    assert document["data"]["order"]["payment"] == {
        "clientSecret": "pi_1_secret_2",
        "status": "PENDING",
    }
    assert document["data"]["order"]["status"] == "AWAITING_PAYMENT"
    assert "pi_1_secret_2" not in json.dumps(memory_shop.views.order(order["id"]).__repr__())


def test_a_secret_sealed_for_another_order_is_never_shown(
    ask: Ask, memory_shop: Shop, sealer: InMemorySealer
) -> None:
    order = place(ask, ("MUG", 1))
    foreign = sealer.seal("pi_9_secret_9", field=CLIENT_SECRET_FIELD, order_id="another-order")
    memory_shop.take_in(
        order["id"],
        Fact(
            "e-1",
            "payment-intent-created",
            1,
            sealed_client_secret=foreign,
            payment=DomainPaymentStatus.PENDING,
        ),
    )

    document = ask(ORDER, {"id": order["id"]})

    assert codes(document) == ["INTERNAL_SERVER_ERROR"]
    assert document["errors"][0]["message"] == "Unexpected error."
    assert document["errors"][0]["path"] == ["order", "payment", "clientSecret"]
    assert "pi_9" not in json.dumps(document)


# ---- the catalog ---------------------------------------------------------------------------------


def test_the_catalog_lists_products_by_sku_a_page_at_a_time(ask: Ask, memory_shop: Shop) -> None:
    memory_shop.stock_changed("GHOST", 5, version=1)  # not listed: no name or price yet

    first = ask(PRODUCTS, {"first": 1})["data"]["products"]
    rest = ask(PRODUCTS, {"after": first["pageInfo"]["endCursor"]})["data"]["products"]

    assert [edge["node"] for edge in first["edges"] + rest["edges"]] == [
        {
            "sku": "KETTLE",
            "name": "Product KETTLE",
            "price": {"amount": 6900, "currency": "EUR"},
            "available": 10,
        },
        {
            "sku": "MUG",
            "name": "Product MUG",
            "price": {"amount": 1200, "currency": "EUR"},
            "available": 10,
        },
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False


def test_one_product_by_sku(ask: Ask) -> None:
    found = ask('{ product(sku: "MUG") { sku available } }')
    missing = ask('{ product(sku: "NOPE") { sku } }')

    assert found == {"data": {"product": {"sku": "MUG", "available": 10}}}
    assert missing == {"data": {"product": None}}


# ---- requests that are refused -------------------------------------------------------------------


def test_a_request_without_a_customer_reaches_no_resolver(ask: Ask, memory_shop: Shop) -> None:
    document = ask(
        PLACE, {"input": {"lines": [{"sku": "MUG", "quantity": 1}]}}, customer=None, status=401
    )

    assert codes(document) == ["UNAUTHENTICATED"]
    assert "data" not in document


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("not json", 400, "not JSON"),
        ('["a list"]', 400, "has a query string"),
        ('{"query": 1}', 400, "has a query string"),
        ('{"query": ""}', 400, "has a query"),
        ('{"query": "{ x }", "variables": [1]}', 400, "variables are an object"),
        ('{"query": "{ x }", "operationName": 1}', 400, "operationName is a string"),
        ('{"query": "' + "x" * MAX_BODY_BYTES + '"}', 413, "at most"),
    ],
    ids=[
        "not json",
        "not an object",
        "no query",
        "empty query",
        "bad variables",
        "bad operation",
        "too large",
    ],
)
def test_a_body_that_is_not_a_graphql_request_is_bad_user_input(
    api: Any, body: str, status: int, message: str
) -> None:
    event = http_api_event("POST", "/graphql", body=body, jwt_claims={"sub": "customer-a"})

    response = api.process(event)

    assert response["statusCode"] == status
    [error] = json.loads(response["body"])["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert message in error["message"]


def test_a_base64_body_is_read_as_api_gateway_sends_it(api: Any) -> None:
    body = json.dumps({"query": '{ product(sku: "MUG") { sku } }'}).encode()
    event = http_api_event("POST", "/graphql", body=body, jwt_claims={"sub": "customer-a"})

    response = api.process(event)

    assert json.loads(response["body"]) == {"data": {"product": {"sku": "MUG"}}}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ products { edges { node { sku } }", "Syntax Error"),
        ("{ nothing }", "Cannot query field 'nothing'"),
        (
            "{ " + " ".join(f'a{n}: product(sku: "MUG") {{ sku }}' for n in range(16)) + " }",
            "aliases",
        ),
        ('{ product(sku: "MUG") { ' + "sku " * 2000 + "} }", "token"),
    ],
    ids=["syntax", "unknown field", "too many aliases", "too many tokens"],
)
def test_a_query_that_does_not_validate_is_bad_user_input_with_its_message(
    ask: Ask, query: str, message: str
) -> None:
    document = ask(query)

    assert set(codes(document)) == {"BAD_USER_INPUT"}
    assert message.lower() in " ".join(error["message"] for error in document["errors"]).lower()


def test_the_deepest_query_passes_and_one_level_more_is_refused(ask: Ask) -> None:
    deepest = "{ myOrders { edges { node { lines { unitPrice { amount } } } } } }"
    deeper = "{ myOrders { edges { node { lines { unitPrice { amount { x } } } } } } }"

    assert ask(deepest) == {"data": {"myOrders": {"edges": []}}}
    document = ask(deeper)
    assert set(codes(document)) == {"BAD_USER_INPUT"}
    messages = [error["message"] for error in document["errors"]]
    assert f"'anonymous' exceeds maximum operation depth of {MAX_DEPTH}" in messages


def test_a_query_asked_again_is_validated_once_and_its_limits_still_hold(ask: Ask) -> None:
    # Given a query and one too deep, each asked once
    query = "{ myOrders(first: 3) { edges { node { id status } } } }"
    deeper = "{ myOrders { edges { node { lines { unitPrice { amount { x } } } } } } }"
    ask(query), ask(deeper)
    validate: Any = _get_validate_cache(CACHED_DOCUMENTS)
    validations = validate.cache_info()

    # When each is asked again
    again, refused_again = ask(query), ask(deeper)

    # Then both are answered from the validation cache, as the first time
    after = validate.cache_info()
    assert (after.hits - validations.hits, after.misses - validations.misses) == (2, 0)
    assert again == {"data": {"myOrders": {"edges": []}}}
    assert f"exceeds maximum operation depth of {MAX_DEPTH}" in str(refused_again["errors"])


@pytest.mark.parametrize(
    ("stage", "open_"), [("local", True), ("dev", True), ("test", False), ("prod", False)]
)
def test_introspection_is_open_on_local_and_dev_only(
    api_for: Callable[[str], Ask], stage: str, open_: bool
) -> None:
    ask = api_for(stage)

    document = ask("{ __schema { queryType { name } } }")

    if open_:
        assert document == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    else:
        assert set(codes(document)) == {"BAD_USER_INPUT"}
        assert "introspection has been disabled" in document["errors"][0]["message"]


def test_an_unexpected_error_is_masked(
    ask: Ask, memory_shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("table on fire at arn:aws:dynamodb:secret")

    monkeypatch.setattr(memory_shop, "products", broken)

    document = ask(PRODUCTS)

    assert document["errors"] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 3, "column": 3}],
            "path": ["products"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]


def test_only_the_unexpected_errors_are_logged(
    ask: Ask, memory_shop: Shop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given one request the client got wrong and one that broke
    ask(PLACE, {"input": {"lines": [{"sku": "NOPE", "quantity": 1}]}})
    ask("{ nothing }")
    assert not [r for r in caplog.records if r.levelname == "ERROR"], (
        "a client's mistake is an answer"
    )

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("table on fire")

    monkeypatch.setattr(memory_shop, "products", broken)
    ask(PRODUCTS)

    # Then only the one that broke is logged, with its cause
    [logged] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "table on fire" in logged.getMessage()
