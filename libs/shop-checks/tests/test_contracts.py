"""The contract check over copies of the committed contracts: a consumer whose producer breaks a
field it reads fails with the producer, the consumer, the event and the field named."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from shop_checks.contracts import AWAITED, Problem, check_contracts, compare, load_contracts

ROOT = Path(__file__).resolve().parents[3]
INVENTORY = ROOT / "services" / "inventory" / "contracts"


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def read(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the inventory's contracts, with an order-bff that produces
    exactly what the inventory reads of `order-placed`, and a fulfillment-control that reads the
    inventory's `inventory-reserved` as the inventory produces it."""
    shutil.copytree(INVENTORY, tmp_path / "services" / "inventory" / "contracts")
    # Its own awaited file, so the repository's (which shrinks as services land) cannot move it:
    # what the copied inventory consumes and nobody in the copy produces.
    awaited = read(ROOT / AWAITED) | {
        "awaited": {
            "order-cancelled": "fulfillment-control",
            "order-expired": "fulfillment-control",
            "order-fulfillment-requested": "fulfillment-control",
        }
    }
    write(tmp_path / AWAITED, awaited)
    write(
        tmp_path / "services/order-bff/contracts/produces/order-placed.json",
        read(INVENTORY / "consumes" / "order-placed.json"),
    )
    write(
        tmp_path / "services/fulfillment-control/contracts/consumes/inventory-reserved.json",
        read(INVENTORY / "produces" / "inventory-reserved.json"),
    )
    return tmp_path


def problems(root: Path) -> list[Problem]:
    return check_contracts(load_contracts(root))


def edit(path: Path, change: Any) -> None:
    schema = read(path)
    change(schema)
    write(path, schema)


def test_the_committed_contracts_hold() -> None:
    assert problems(ROOT) == []


def test_a_copy_whose_producers_give_what_consumers_read_holds(repo: Path) -> None:
    assert problems(repo) == []


def test_a_field_removed_from_a_produced_event_names_all_four(repo: Path) -> None:
    # Given the inventory's produced inventory-reserved without the reservation's orderId
    def remove_order_id(schema: dict[str, Any]) -> None:
        held = schema["$defs"]["HeldReservation"]
        del held["properties"]["orderId"]
        held["required"].remove("orderId")

    edit(repo / "services/inventory/contracts/produces/inventory-reserved.json", remove_order_id)

    # When the contracts are checked
    [problem] = problems(repo)

    # Then the failure names the producer, the consumer, the event and the field
    assert (problem.producer, problem.consumer, problem.event_type, problem.field) == (
        "inventory",
        "fulfillment-control",
        "inventory-reserved",
        "reservation.orderId",
    )
    message = str(problem)
    for name in ("inventory", "fulfillment-control", "inventory-reserved", "reservation.orderId"):
        assert name in message
    assert "removed" in message


def test_a_field_made_optional_inside_an_array_fails(repo: Path) -> None:
    edit(
        repo / "services/order-bff/contracts/produces/order-placed.json",
        lambda schema: schema["$defs"]["OrderLine"]["required"].remove("quantity"),
    )

    [problem] = problems(repo)

    assert (problem.producer, problem.consumer, problem.field) == (
        "order-bff",
        "inventory",
        "order.lines[].quantity",
    )
    assert "optional" in str(problem)


def test_a_retyped_field_fails(repo: Path) -> None:
    edit(
        repo / "services/order-bff/contracts/produces/order-placed.json",
        lambda schema: schema["$defs"]["OrderLine"]["properties"]["quantity"].update(type="string"),
    )

    [problem] = problems(repo)

    assert problem.field == "order.lines[].quantity"
    assert "is string (retyped)" in str(problem)


def test_a_field_made_nullable_fails(repo: Path) -> None:
    def nullable(schema: dict[str, Any]) -> None:
        schema["properties"]["order"] = {
            "anyOf": [{"$ref": "#/$defs/PlacedOrder"}, {"type": "null"}]
        }

    edit(repo / "services/order-bff/contracts/produces/order-placed.json", nullable)

    [problem] = problems(repo)

    assert problem.field == "order"
    assert "may be null" in str(problem)


def test_an_enum_widened_by_the_producer_fails(repo: Path) -> None:
    # Given a consumer of inventory-released, and the inventory releasing for one reason more
    write(
        repo / "services/fulfillment-control/contracts/consumes/inventory-released.json",
        read(INVENTORY / "produces" / "inventory-released.json"),
    )
    edit(
        repo / "services/inventory/contracts/produces/inventory-released.json",
        lambda schema: schema["$defs"]["ReleaseReason"]["enum"].append("stolen"),
    )

    [problem] = problems(repo)

    assert problem.field == "reservation.reason"
    assert '"stolen"' in str(problem)


def test_a_consumed_type_nobody_produces_or_awaits_fails(repo: Path) -> None:
    (repo / "services/order-bff/contracts/produces/order-placed.json").unlink()

    [problem] = problems(repo)

    assert (problem.event_type, problem.consumer) == ("order-placed", "inventory")
    assert "no service produces it" in str(problem)
    assert str(AWAITED) in str(problem)


def test_an_awaited_type_that_has_a_producer_fails(repo: Path) -> None:
    edit(repo / AWAITED, lambda awaited: awaited["awaited"].update({"order-placed": "order-bff"}))

    [problem] = problems(repo)

    assert (problem.event_type, problem.producer) == ("order-placed", "order-bff")
    assert "remove it from" in str(problem)


def test_an_awaited_type_nobody_consumes_fails(repo: Path) -> None:
    edit(repo / AWAITED, lambda awaited: awaited["awaited"].update({"order-shipped": "shipping"}))

    [problem] = problems(repo)

    assert problem.event_type == "order-shipped"
    assert "no service consumes it" in str(problem)


def test_no_awaited_file_means_nothing_is_awaited(tmp_path: Path) -> None:
    shutil.copytree(INVENTORY, tmp_path / "services" / "inventory" / "contracts")

    found = problems(tmp_path)

    assert sorted(p.event_type for p in found) == sorted(
        path.stem for path in (INVENTORY / "consumes").glob("*.json")
    )


# ---- the comparison itself, on small schemas ----------------------------------------------------

INTEGER = {"type": "integer"}


def obj(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def test_a_field_the_consumer_does_not_require_may_be_missing() -> None:
    assert compare(obj(n=INTEGER), obj()) == []


def test_an_optional_field_the_producer_sends_is_still_type_checked() -> None:
    assert compare(obj(n=INTEGER), obj(n={"type": "string"})) == [
        ("n", "is string (retyped), and the consumer reads integer")
    ]


def test_fields_the_consumer_does_not_read_are_free() -> None:
    assert compare(obj(("a",), a=INTEGER), obj(("a", "b"), a=INTEGER, b={"type": "string"})) == []


def test_a_number_reader_takes_integers_but_not_the_reverse() -> None:
    assert compare({"type": "number"}, INTEGER) == []
    assert compare(INTEGER, {"type": "number"}) != []


def test_a_producer_without_a_type_does_not_satisfy_a_typed_reader() -> None:
    [(field, what)] = compare(obj(("n",), n=INTEGER), obj(("n",), n={}))

    assert field == "n"
    assert "has no type" in what


def test_a_consumer_without_a_type_takes_anything() -> None:
    assert compare(obj(("n",), n={}), obj(("n",), n={"type": "string"})) == []


def test_refs_and_one_element_all_ofs_are_followed_on_both_sides() -> None:
    consumer = {"$defs": {"N": INTEGER}, **obj(("n",), n={"$ref": "#/$defs/N"})}
    producer = {
        "$defs": {"S": {"type": "string"}},
        **obj(("n",), n={"allOf": [{"$ref": "#/$defs/S"}]}),
    }

    assert compare(consumer, producer) == [
        ("n", "is string (retyped), and the consumer reads integer")
    ]


def test_a_ref_that_cannot_be_resolved_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot resolve"):
        compare(obj(n={"$ref": "other.json#/N"}), obj(n=INTEGER))


def test_a_reader_that_takes_null_accepts_a_nullable_field() -> None:
    nullable = {"anyOf": [INTEGER, {"type": "null"}]}

    assert compare(obj(n=nullable), obj(n=nullable)) == []
    assert compare(obj(n=nullable), obj(n=INTEGER)) == []


def test_every_shape_of_a_union_must_be_accepted() -> None:
    both = {"anyOf": [INTEGER, {"type": "string"}]}
    string_or_boolean = {"oneOf": [{"type": "string"}, {"type": "boolean"}]}

    assert compare(both, INTEGER) == []
    assert compare(both, {"anyOf": [{"type": "string"}, INTEGER]}) == []
    assert compare(both, string_or_boolean) == [
        ("", "may be boolean, which the consumer does not accept")
    ]


def test_consts_and_enums() -> None:
    assert compare({"const": "a"}, {"const": "a", "type": "string"}) == []
    assert compare({"const": "a"}, {"const": "b"}) == [
        ("", 'may be "b", which the consumer does not accept')
    ]
    assert compare({"enum": ["a", "b"]}, {"enum": ["a"]}) == []
    assert compare({"enum": [1]}, {"type": "integer"}) == [
        ("", "may be any value, and the consumer accepts only one of 1")
    ]


def test_array_items_are_compared_with_brackets_in_the_path() -> None:
    consumer = obj(("xs",), xs={"type": "array", "items": obj(("n",), n=INTEGER)})
    producer = copy.deepcopy(consumer)
    producer["properties"]["xs"]["items"] = obj(("n",), n={"type": ["integer", "null"]})

    # A list of types counts like a union: null there is a retype for a reader of integers
    assert compare(consumer, producer) == [
        ("xs[].n", "is integer or null (retyped), and the consumer reads integer")
    ]


def test_the_types_of_consts_are_inferred() -> None:
    for value, kind in ((True, "boolean"), (1.5, "number"), ([1], "array"), ({}, "object")):
        assert compare({"type": kind}, {"const": value}) == []
        assert compare({"type": "string"}, {"const": value}) != []
