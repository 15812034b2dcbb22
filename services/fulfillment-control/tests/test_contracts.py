"""The committed contracts are the code's: an event changed in code is a diff in `contracts/`."""

import json

from fulfillment_control.contracts import CONTRACTS
from fulfillment_control.domain import CancellationReason

FOLDER = CONTRACTS.folder


def test_the_committed_contracts_are_those_of_the_code() -> None:
    assert CONTRACTS.drift() == [], "run `make contracts` in services/fulfillment-control"


def test_a_cancellation_promises_its_reason_from_the_shared_names() -> None:
    cancelled = json.loads((FOLDER / "produces" / "order-cancelled.json").read_text())
    order = cancelled["$defs"]["CancelledOrder"]

    assert set(order["required"]) == {"id", "reason"}
    reason = cancelled["$defs"]["CancellationReason"]
    assert reason["enum"] == ["PAYMENT_FAILED", "OUT_OF_STOCK", "CUSTOMER_REQUEST"]
    assert reason["enum"] == [str(r) for r in CancellationReason]


def test_a_consumed_contract_asks_only_for_the_order_it_belongs_to() -> None:
    placed = json.loads((FOLDER / "consumes" / "order-placed.json").read_text())
    paid = json.loads((FOLDER / "consumes" / "payment-succeeded.json").read_text())

    assert set(placed["$defs"]["OrderReference"]["properties"]) == {"id"}
    assert set(paid["$defs"]["OrderOfPayment"]["properties"]) == {"orderId"}
