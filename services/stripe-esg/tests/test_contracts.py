"""The committed contracts are the code's: an event changed in code is a diff in `contracts/`."""

import json

from stripe_esg.contracts import CONTRACTS

FOLDER = CONTRACTS.folder


def test_the_committed_contracts_are_those_of_the_code() -> None:
    assert CONTRACTS.drift() == [], "run `make contracts` in services/stripe-esg"


def test_the_payment_events_promise_what_the_catalog_says() -> None:
    def fields(event_type: str) -> set[str]:
        schema = json.loads((FOLDER / "produces" / f"{event_type}.json").read_text())
        payment = schema["properties"]["payment"]["$ref"].rpartition("/")[2]
        return set(schema["$defs"][payment]["required"])

    money = {"orderId", "intentId", "amount", "currency"}
    assert fields("payment-intent-created") == money | {"clientSecret"}
    assert fields("payment-succeeded") == money
    assert fields("payment-failed") == money | {"declineCode", "message"}
    assert fields("payment-refunded") == money | {"refundId"}
    assert fields("payment-cancelled") == {"orderId", "intentId"}


def test_a_consumed_contract_asks_only_for_what_the_esg_reads() -> None:
    placed = json.loads((FOLDER / "consumes" / "order-placed.json").read_text())

    assert set(placed["$defs"]["PlacedOrder"]["properties"]) == {"id", "total"}
