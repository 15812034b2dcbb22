"""The committed contracts are the code's: an event or the GraphQL schema changed in code is a
diff in `contracts/` or `schema.graphql`."""

from __future__ import annotations

import json

from order_bff.contracts import CONTRACTS, SCHEMA_FILE
from order_bff.schema import sdl

FOLDER = CONTRACTS.folder


def test_the_committed_event_contracts_are_those_of_the_code() -> None:
    assert CONTRACTS.drift() == [], "run `make contracts` in services/order-bff"


def test_the_committed_graphql_schema_is_that_of_the_code() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), "run `make contracts` in services/order-bff"


def test_order_placed_promises_what_its_consumers_read() -> None:
    placed = json.loads((FOLDER / "produces" / "order-placed.json").read_text())

    assert set(placed["$defs"]["PlacedOrder"]["required"]) == {
        "id",
        "customerId",
        "lines",
        "total",
        "placedAt",
    }
    assert set(placed["$defs"]["PlacedLine"]["required"]) == {
        "sku",
        "name",
        "quantity",
        "unitPrice",
    }


def test_a_consumed_contract_asks_only_for_what_the_bff_reads() -> None:
    intent = json.loads((FOLDER / "consumes" / "payment-intent-created.json").read_text())

    assert set(intent["$defs"]["CreatedIntent"]["properties"]) == {"orderId", "clientSecret"}
