"""The committed contracts are the code's: an event changed in code is a diff in `contracts/`."""

import json

from inventory.contracts import CONTRACTS

FOLDER = CONTRACTS.folder


def test_the_committed_contracts_are_those_of_the_code() -> None:
    assert CONTRACTS.drift() == [], "run `make contracts` in services/inventory"


def test_a_produced_contract_requires_what_consumers_are_promised() -> None:
    reserved = json.loads((FOLDER / "produces" / "inventory-reserved.json").read_text())
    reservation = reserved["$defs"]["HeldReservation"]

    assert set(reservation["required"]) == {"id", "orderId", "lines", "expiresAt"}
    assert reserved["properties"]["type"]["const"] == "inventory-reserved"


def test_a_consumed_contract_asks_only_for_what_the_inventory_reads() -> None:
    placed = json.loads((FOLDER / "consumes" / "order-placed.json").read_text())

    assert set(placed["$defs"]["PlacedOrder"]["properties"]) == {"id", "lines"}
