"""The committed contracts are the code's: an event changed in code is a diff in `contracts/`."""

import json

from inventory.contracts import CONTRACTS, render, schemas


def test_the_committed_contracts_are_those_of_the_code() -> None:
    expected = schemas()
    committed = {
        str(path.relative_to(CONTRACTS)): path.read_text()
        for path in sorted(CONTRACTS.glob("*/*.json"))
    }

    assert sorted(committed) == sorted(expected), "run `make contracts` in services/inventory"
    for name, schema in expected.items():
        assert committed[name] == render(schema), f"{name} is stale: run `make contracts`"


def test_a_produced_contract_requires_what_consumers_are_promised() -> None:
    reserved = json.loads((CONTRACTS / "produces" / "inventory-reserved.json").read_text())
    reservation = reserved["$defs"]["HeldReservation"]

    assert set(reservation["required"]) == {"id", "orderId", "lines", "expiresAt"}
    assert reserved["properties"]["type"]["const"] == "inventory-reserved"


def test_a_consumed_contract_asks_only_for_what_the_inventory_reads() -> None:
    placed = json.loads((CONTRACTS / "consumes" / "order-placed.json").read_text())

    assert set(placed["$defs"]["PlacedOrder"]["properties"]) == {"id", "lines"}
