"""The customer's client against a stand-in API on loopback: a 5xx is asked again, a refusal is
not, and placeOrder always carries an idempotency key so asking again is safe."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from shop_e2e.client import Customer, ShopError

pytestmark = pytest.mark.integration


class StandIn(ThreadingHTTPServer):
    answers: list[tuple[int, dict[str, Any]]]
    received: list[dict[str, Any]]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server: StandIn = self.server  # type: ignore[assignment]
        server.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        status, body = server.answers.pop(0)
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[StandIn]:
    server = StandIn(("127.0.0.1", 0), Handler)
    server.answers, server.received = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def customer(api: StandIn) -> Customer:
    return Customer(f"http://127.0.0.1:{api.server_address[1]}/graphql", "token")


ORDER = {"id": "o-1", "status": "PLACED"}


def test_a_server_error_is_asked_again_with_the_same_idempotency_key(api: StandIn) -> None:
    # Given an API that fails once with a 500, then answers
    api.answers = [
        (500, {"message": "Internal Server Error"}),
        (200, {"data": {"placeOrder": {"order": ORDER}}}),
    ]

    # When an order is placed
    order = customer(api).place_order({"MUG": 1})

    # Then it was asked twice, with one idempotency key, and the answer is the order
    assert order == ORDER
    keys = {request["variables"]["input"]["idempotencyKey"] for request in api.received}
    assert len(api.received) == 2
    assert len(keys) == 1


def test_a_refusal_is_not_asked_again(api: StandIn) -> None:
    api.answers = [
        (200, {"data": None, "errors": [{"message": "no", "extensions": {"code": "NOT_FOUND"}}]})
    ]

    with pytest.raises(ShopError) as refused:
        customer(api).cancel_order("o-1")

    assert refused.value.code == "NOT_FOUND"
    assert len(api.received) == 1


def test_a_server_that_keeps_failing_is_an_error_naming_its_status(api: StandIn) -> None:
    api.answers = [(503, {"message": "Service Unavailable"})] * 3

    with pytest.raises(ShopError) as failed:
        customer(api).order("o-1")

    assert failed.value.code == "HTTP_503"
    assert len(api.received) == 3
