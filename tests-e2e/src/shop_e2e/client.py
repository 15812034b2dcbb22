"""What a storefront does, from Python: GraphQL over HTTP as one signed-in customer (`Customer`),
and Stripe.js's confirm of a PaymentIntent with the publishable key and the intent's client
secret (`Stripe`). Nothing here knows how the shop is built: only its public interfaces."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

# A cold start of the BFF's graphql function on two cores, then the call itself.
REQUEST_TIMEOUT_SECONDS = 30.0
RETRY_PAUSE_SECONDS = 0.5
ORDER_FIELDS = """id status cancellationReason
  lines { sku name quantity unitPrice { amount currency } }
  total { amount currency }
  payment { status clientSecret }
  history { type at }
  createdAt updatedAt"""
PLACE_ORDER = f"""mutation PlaceOrder($input: PlaceOrderInput!) {{
  placeOrder(input: $input) {{ order {{ {ORDER_FIELDS} }} }}
}}"""
CANCEL_ORDER = f"""mutation CancelOrder($id: ID!) {{
  cancelOrder(id: $id) {{ order {{ {ORDER_FIELDS} }} }}
}}"""
ORDER = f"query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
# A list asks for no client secret: the BFF unseals (a KMS Decrypt) each one it is asked for.
LISTED_ORDER_FIELDS = """id status cancellationReason
  total { amount currency }
  payment { status }
  createdAt updatedAt"""
MY_ORDERS = f"""query MyOrders($first: Int!) {{
  myOrders(first: $first) {{ edges {{ node {{ {LISTED_ORDER_FIELDS} }} }} }}
}}"""
PRODUCTS = """query Products($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    edges { node { sku name available price { amount currency } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PRODUCT = "query Product($sku: ID!) { product(sku: $sku) { sku name available price { amount currency } } }"


class ShopError(Exception):
    """The shop answered, but not with what was asked: an HTTP error or GraphQL errors. `code` is
    the GraphQL error's `extensions.code` (or `HTTP_<status>`), so a test can name the refusal."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def request(
    url: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> Response:
    """One HTTP request; an HTTP error status is an answer too, returned rather than raised."""
    outgoing = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(outgoing, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
            status, raw, answer_headers = answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        status, raw, answer_headers = error.code, error.read(), dict(error.headers)
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {"raw": raw.decode(errors="replace")}
    return Response(status, body if isinstance(body, dict) else {"value": body}, answer_headers)


@dataclass(frozen=True)
class Customer:
    """One signed-in customer of the shop's GraphQL API (`graphql_url` is the full /graphql URL).

    Every call is safe to repeat (queries; placeOrder always with an idempotency key; a
    cancellation is a request), so one the API answers with a 5xx (a function timed out in a cold
    start, say) is sent again, as a storefront's next attempt would, `retries` times."""

    graphql_url: str
    token: str
    retries: int = 2

    def ask(self, query: str, **variables: Any) -> dict[str, Any]:
        """The `data` of a GraphQL answer, or `ShopError` with the first error's code."""
        answer = self.post(query, variables)
        for _ in range(self.retries):
            if answer.status < 500:
                break
            time.sleep(RETRY_PAUSE_SECONDS)
            answer = self.post(query, variables)
        errors = answer.body.get("errors")
        if errors:
            first = errors[0]
            code = (first.get("extensions") or {}).get("code") or f"HTTP_{answer.status}"
            raise ShopError(str(code), str(first.get("message")))
        if answer.status != 200 or "data" not in answer.body:
            raise ShopError(f"HTTP_{answer.status}", json.dumps(answer.body)[:300])
        return dict(answer.body["data"])

    def post(self, query: str, variables: dict[str, Any] | None = None) -> Response:
        return request(
            self.graphql_url,
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {self.token}"},
        )

    def products(self) -> list[dict[str, Any]]:
        """The whole catalog, page by page."""
        products: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page = self.ask(PRODUCTS, first=100, after=after)["products"]
            products.extend(edge["node"] for edge in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                return products
            after = page["pageInfo"]["endCursor"]

    def product(self, sku: str) -> dict[str, Any] | None:
        found = self.ask(PRODUCT, sku=sku)["product"]
        return dict(found) if found else None

    def place_order(
        self, lines: dict[str, int], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """`place_order({"MUG-CLASSIC": 2})`: the order as placed (the same order again for the
        same `idempotency_key`)."""
        order_input: dict[str, Any] = {
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
            # One key per checkout, as a storefront makes it, so that sending it again is safe.
            "idempotencyKey": idempotency_key or str(uuid.uuid4()),
        }
        return dict(self.ask(PLACE_ORDER, input=order_input)["placeOrder"]["order"])

    def order(self, order_id: str) -> dict[str, Any] | None:
        """The order, or None when it does not exist or is someone else's."""
        found = self.ask(ORDER, id=order_id)["order"]
        return dict(found) if found else None

    def my_orders(self, first: int = 20) -> list[dict[str, Any]]:
        """The newest orders as a list shows them: no lines, history or client secret."""
        return [edge["node"] for edge in self.ask(MY_ORDERS, first=first)["myOrders"]["edges"]]

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        return dict(self.ask(CANCEL_ORDER, id=order_id)["cancelOrder"]["order"])


# Stripe's test payment methods: one that pays, one the card issuer declines.
PAYING_CARD = "pm_card_visa"
DECLINED_CARD = "pm_card_chargeDeclined"


@dataclass(frozen=True)
class Stripe:
    """Stripe as a browser reaches it: the publishable key, and the client secret the order's
    owner was given. `api_url` is Stripe's (https://api.stripe.com) or the fake's."""

    api_url: str
    publishable_key: str

    def confirm(self, client_secret: str, payment_method: str = PAYING_CARD) -> dict[str, Any]:
        """Confirm the PaymentIntent as Stripe.js's `confirmCardPayment` does; the intent as
        Stripe answers it (a declined card answers 402 with the intent in `error`)."""
        intent_id = client_secret.partition("_secret_")[0]
        answer = request(
            f"{self.api_url.rstrip('/')}/v1/payment_intents/{intent_id}/confirm",
            data=urllib.parse.urlencode(
                {"payment_method": payment_method, "client_secret": client_secret}
            ).encode(),
            headers={
                "authorization": f"Bearer {self.publishable_key}",
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        if answer.status == 200:
            return answer.body
        error = answer.body.get("error") or {}
        if answer.status == 402 and error.get("payment_intent"):
            return dict(error["payment_intent"])
        raise ShopError(f"STRIPE_{answer.status}", str(error.get("message") or answer.body))
