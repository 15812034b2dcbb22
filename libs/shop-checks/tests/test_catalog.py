"""The event catalog: generated from the committed contracts, current in the repository, stale as
soon as a schema changes, valid AsyncAPI 3.0, and picking up a new service with no code change."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from shop_checks.catalog import (
    ASYNCAPI,
    ENVELOPE,
    PAGE,
    Field,
    catalog,
    catalog_drift,
    fields,
    read_service,
    write_catalog,
)
from shop_checks.cli import main
from shop_checks.contracts import AWAITED
from shop_envelope import DomainEvent

ROOT = Path(__file__).resolve().parents[3]
INVENTORY = ROOT / "services" / "inventory"
SPECIFICATION = Path(__file__).parent / "asyncapi" / "3.0.0-without-id.json.gz"
SPECIFICATION_SHA256 = "acefdddecb7909e2e6335f49b5acf222cf6170e303e51ab7824123981d7adfa0"
# Built once: a schema is valid JSON Schema 2020-12 when its meta-schema finds no error in it.
JSON_SCHEMA_2020_12 = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def add_service(root: Path, name: str, description: str) -> Path:
    folder = root / "services" / name
    write(
        folder / "pyproject.toml",
        f'[project]\nname = "{name}"\nversion = "0.2.0"\ndescription = "{description}"\n',
    )
    return folder / "contracts"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repository's inventory and awaited file, plus an order-bff that produces
    `order-placed` as the inventory reads it and a fulfillment-control that reads the inventory's
    `inventory-reserved`, and sends and receives its own timer event: two services that landed
    after the generator, with its code unchanged."""
    shutil.copytree(INVENTORY / "contracts", tmp_path / "services/inventory/contracts")
    shutil.copy(INVENTORY / "pyproject.toml", tmp_path / "services/inventory/pyproject.toml")
    awaited = read(ROOT / AWAITED)
    awaited["awaited"].pop("order-placed", None)  # until order-bff lands and drops the line
    write(tmp_path / AWAITED, awaited)
    bff = add_service(tmp_path, "order-bff", "Takes orders.")
    write(
        bff / "produces/order-placed.json", read(INVENTORY / "contracts/consumes/order-placed.json")
    )
    control = add_service(tmp_path, "fulfillment-control", "Decides what happens next.")
    reserved = read(INVENTORY / "contracts/produces/inventory-reserved.json")
    write(control / "consumes/inventory-reserved.json", reserved)
    timer = read(INVENTORY / "contracts/consumes/order-expired.json")
    timer["properties"]["type"] |= {
        "const": "payment-window-closed",
        "default": "payment-window-closed",
    }
    write(control / "produces/payment-window-closed.json", timer)
    write(control / "consumes/payment-window-closed.json", timer)
    return tmp_path


def documents(root: Path) -> dict[str, dict[str, Any]]:
    """Every service's committed AsyncAPI document, by service."""
    return {
        path.parent.parent.name: yaml.safe_load(path.read_text())
        for path in sorted(root.glob(f"services/*/contracts/{ASYNCAPI}"))
    }


# ---- the repository ----------------------------------------------------------------------------


def test_the_committed_catalog_is_that_of_the_committed_contracts() -> None:
    assert catalog_drift(ROOT) == [], "run `make catalog`"


def test_every_awaited_type_shows_its_producer_as_not_built_yet() -> None:
    # Given the types the repository awaits from services not built yet
    awaited = read(ROOT / AWAITED)["awaited"]

    # When the page is generated
    text = catalog(ROOT)[PAGE]

    # Then each has its row naming the service it is awaited from as not built yet
    for event_type, service in awaited.items():
        assert f"| [`{event_type}`](#{event_type}) | {service} (not built yet) |" in text
        assert f'{service.replace("-", "_")}["{service} (not built yet)"]:::awaited' in text


def test_the_envelope_left_out_of_the_fields_is_shop_envelopes() -> None:
    schema = DomainEvent.model_json_schema(by_alias=True)
    assert set(schema["properties"]) == ENVELOPE


# ---- a new service, and a changed schema --------------------------------------------------------


def test_services_that_land_later_are_in_the_catalog(repo: Path) -> None:
    # When the catalog is written for the repository with order-bff and fulfillment-control
    written = write_catalog(repo)

    # Then each service has its document, with its own operations, and the page names them
    assert sorted(documents(repo)) == ["fulfillment-control", "inventory", "order-bff"]
    assert Path("services/order-bff/contracts/asyncapi.yaml") in written
    assert list(documents(repo)["order-bff"]["operations"]) == ["send-order-placed"]
    assert documents(repo)["order-bff"]["info"]["version"] == "0.2.0"
    assert list(documents(repo)["fulfillment-control"]["operations"]) == [
        "send-payment-window-closed",
        "receive-inventory-reserved",
        "receive-payment-window-closed",
    ]
    page = (repo / PAGE).read_text()
    assert "| [`order-placed`](#order-placed) | order-bff | inventory |" in page
    assert (
        "| [`inventory-reserved`](#inventory-reserved) | inventory | fulfillment-control |" in page
    )
    assert 'order_bff -->|"order-placed"| inventory' in page
    assert 'inventory -->|"inventory-reserved"| fulfillment_control' in page
    assert 'fulfillment_control -->|"payment-window-closed"| fulfillment_control' in page
    # and what fulfillment-control reads is every field of the inventory's schema it copied
    reads = [
        f"`{f.path}`"
        for f in fields(read(INVENTORY / "contracts/produces/inventory-reserved.json"))
    ]
    assert f"| fulfillment-control | {', '.join(reads)} |" in page
    assert catalog_drift(repo) == []


def test_a_field_added_to_a_schema_makes_the_page_stale(repo: Path) -> None:
    # Given a current catalog
    write_catalog(repo)

    # When the inventory's committed inventory-reserved gains a field
    path = repo / "services/inventory/contracts/produces/inventory-reserved.json"
    schema = read(path)
    schema["$defs"]["HeldReservation"]["properties"]["note"] = {"type": "string"}
    write(path, schema)

    # Then the page is stale until the catalog is written again, and shows the field then
    assert catalog_drift(repo) == ["docs/events.md: stale (run `make catalog`)"]
    write_catalog(repo)
    assert "| `reservation.note` | string | no |" in (repo / PAGE).read_text()
    assert catalog_drift(repo) == []


def test_a_new_event_type_makes_its_services_document_stale(repo: Path) -> None:
    write_catalog(repo)
    shutil.copy(
        repo / "services/order-bff/contracts/produces/order-placed.json",
        repo / "services/order-bff/contracts/produces/order-cancellation-requested.json",
    )

    assert catalog_drift(repo) == [
        "docs/events.md: stale (run `make catalog`)",
        "services/order-bff/contracts/asyncapi.yaml: stale (run `make catalog`)",
    ]


def test_a_service_left_without_contracts_loses_its_document(repo: Path) -> None:
    # Given a current catalog, then every contract of fulfillment-control removed
    write_catalog(repo)
    for contract in (repo / "services/fulfillment-control/contracts").glob("*/*.json"):
        contract.unlink()

    # Then its document is reported, and removed when the catalog is written
    assert catalog_drift(repo)[0] == (
        "services/fulfillment-control/contracts/asyncapi.yaml: no contract backs it (run `make catalog`)"
    )
    write_catalog(repo)
    assert not (repo / "services/fulfillment-control/contracts" / ASYNCAPI).exists()
    assert catalog_drift(repo) == []


def test_a_missing_file_is_named_and_a_document_depends_on_its_service_alone(repo: Path) -> None:
    # The inventory's document, copied with its contracts, is current whoever else lands.
    assert catalog_drift(repo) == [
        "docs/events.md: missing (run `make catalog`)",
        "services/fulfillment-control/contracts/asyncapi.yaml: missing (run `make catalog`)",
        "services/order-bff/contracts/asyncapi.yaml: missing (run `make catalog`)",
    ]


def test_a_service_with_contracts_and_no_pyproject_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"pyproject\.toml: a service with contracts"):
        read_service(tmp_path / "services" / "nameless")


# ---- the documents are AsyncAPI 3.0 -----------------------------------------------------------


def specification() -> dict[str, Any]:
    raw = gzip.decompress(SPECIFICATION.read_bytes())
    assert hashlib.sha256(raw).hexdigest() == SPECIFICATION_SHA256, "the vendored schema changed"
    schema: dict[str, Any] = json.loads(raw)
    return schema


def pointer(document: Any, fragment: str) -> Any:
    """The node a JSON Pointer (`/channels/bus`) names in `document`; KeyError if none."""
    node = document
    for part in filter(None, fragment.split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def references(node: Any, at: str = "") -> list[tuple[str, str]]:
    """(where, reference) for every `$ref` in a document."""
    if isinstance(node, dict):
        found = [(at, str(node["$ref"]))] if "$ref" in node else []
        for key, value in node.items():
            found += references(value, f"{at}/{key}")
        return found
    if isinstance(node, list):
        return [ref for i, value in enumerate(node) for ref in references(value, f"{at}/{i}")]
    return []


def structural_problems(document: dict[str, Any], folder: Path) -> list[str]:
    """What AsyncAPI 3.0 requires beyond its JSON Schema: every `$ref` resolves (in the document,
    or in the file it names beside it), every operation's channel exists and its messages are that
    channel's, every address parameter is declared."""
    problems: list[str] = []
    if document.get("asyncapi") != "3.0.0":
        problems.append("asyncapi is not 3.0.0")
    problems += [
        f"info has no {key}" for key in ("title", "version") if key not in document.get("info", {})
    ]
    for at, reference in references(document):
        file, _, fragment = reference.partition("#")
        try:
            pointer(read(folder / file) if file else document, fragment)
        except (KeyError, IndexError, FileNotFoundError):
            problems.append(f"{at}: {reference} does not resolve")
    for name, operation in document.get("operations", {}).items():
        if operation.get("action") not in ("send", "receive"):
            problems.append(f"operations/{name}: action is neither send nor receive")
        channel = operation.get("channel", {}).get("$ref", "")
        for message in operation.get("messages", []):
            if not message["$ref"].startswith(f"{channel}/messages/"):
                problems.append(f"operations/{name}: {message['$ref']} is not in {channel}")
    for name, channel in document.get("channels", {}).items():
        for parameter in re.findall(r"{(\w+)}", channel.get("address") or ""):
            if parameter not in channel.get("parameters", {}):
                problems.append(f"channels/{name}: parameter {parameter} is not declared")
    return problems


@pytest.fixture(params=["repository", "with services that land later"])
def catalogued(request: pytest.FixtureRequest, repo: Path) -> Path:
    if request.param == "repository":
        return ROOT
    write_catalog(repo)
    return repo


def test_every_document_is_valid_asyncapi_3(catalogued: Path) -> None:
    validator = Draft7Validator(specification())
    for service, document in documents(catalogued).items():
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)
        ]
        assert errors == [], service
        assert structural_problems(document, catalogued / "services" / service / "contracts") == []


def test_every_payload_is_a_json_schema_of_the_format_declared(catalogued: Path) -> None:
    for service, document in documents(catalogued).items():
        for channel in document["channels"].values():
            for message in channel["messages"].values():
                assert message["payload"]["schemaFormat"].endswith("draft-2020-12")
                file = (
                    catalogued
                    / "services"
                    / service
                    / "contracts"
                    / message["payload"]["schema"]["$ref"]
                )
                assert list(JSON_SCHEMA_2020_12.iter_errors(read(file))) == []
                assert read(file)["properties"]["type"]["const"] == message["name"]


def test_the_structural_check_finds_what_breaks(repo: Path) -> None:
    # Given inventory's document with a message removed, a payload file gone and no version
    write_catalog(repo)
    document = documents(repo)["inventory"]
    del document["channels"]["stream"]["messages"]["order-placed"]
    document["operations"]["send-product-updated"]["messages"] = [
        {"$ref": "#/channels/stream/messages/order-expired"}
    ]
    del document["info"]["version"]
    document["channels"]["bus"]["address"] = "event-hub-{stage}-{region}-bus"
    folder = repo / "services/inventory/contracts"
    (folder / "produces/stock-level-changed.json").unlink()

    # Then each is named
    assert sorted(structural_problems(document, folder)) == sorted(
        [
            "info has no version",
            "/channels/bus/messages/stock-level-changed/payload/schema: "
            "./produces/stock-level-changed.json does not resolve",
            "/operations/receive-order-placed/messages/0: "
            "#/channels/stream/messages/order-placed does not resolve",
            "operations/send-product-updated: #/channels/stream/messages/order-expired is not in "
            "#/channels/bus",
            "channels/bus: parameter region is not declared",
        ]
    )
    assert list(Draft7Validator(specification()).iter_errors(document)) != []


def test_the_specification_refuses_an_asyncapi_2_verb() -> None:
    # Given the inventory's document with an operation in AsyncAPI 2's words
    document = documents(ROOT)["inventory"]
    document["operations"]["send-product-updated"]["action"] = "publish"

    # Then the vendored specification refuses it, there and only there
    errors = list(Draft7Validator(specification()).iter_errors(document))
    assert [list(error.absolute_path) for error in errors] == [
        ["operations", "send-product-updated"]
    ]


# ---- the fields of an event --------------------------------------------------------------------


def test_fields_are_the_entitys_leaves_with_what_they_may_be() -> None:
    # Given an event whose entity nests an object, an array, a nullable, an enum and an optional
    schema = {
        "$defs": {
            "Line": {
                "properties": {"sku": {"type": "string", "description": "The product."}},
                "required": ["sku"],
            },
            "Tree": {"properties": {"child": {"$ref": "#/$defs/Tree"}}},
        },
        "properties": {
            "id": {"type": "string"},
            "tags": {"type": "object"},
            "order": {
                "properties": {
                    "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}},
                    "declineCode": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "reason": {"enum": ["PAYMENT_FAILED", "OUT_OF_STOCK"]},
                    "address": {
                        "anyOf": [{"$ref": "#/$defs/Line"}, {"type": "null"}],
                    },
                    "tree": {"$ref": "#/$defs/Tree"},
                    "refunds": {
                        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
                    },
                    "note": {"type": "string"},
                },
                "required": ["lines", "declineCode", "reason", "address", "refunds"],
            },
        },
        "required": ["id", "tags", "order"],
    }

    # Then each leaf is a path outside the envelope, required only where every level is
    assert fields(schema) == [
        Field("order.lines[].sku", "string", True, "The product."),
        Field("order.declineCode", "string or null", True, ""),
        Field("order.reason", 'one of "PAYMENT_FAILED", "OUT_OF_STOCK"', True, ""),
        Field("order.address.sku", "string", False, "The product."),
        Field("order.tree.child", "any value", False, ""),
        Field("order.refunds[]", "string", False, ""),
        Field("order.note", "string", False, ""),
    ]


# ---- the command line --------------------------------------------------------------------------


def test_the_command_writes_then_checks(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a repository whose catalog was never written
    assert main(["catalog", "--root", str(repo), "--check"]) == 1
    assert "docs/events.md: missing" in capsys.readouterr().err

    # When it is written
    assert main(["catalog", "--root", str(repo)]) == 0
    assert "catalog: wrote docs/events.md" in capsys.readouterr().out

    # Then the check passes, and fails again once a consumed schema changes
    assert main(["catalog", "--root", str(repo), "--check"]) == 0
    path = repo / "services/inventory/contracts/consumes/order-placed.json"
    schema = read(path)
    del schema["$defs"]["PlacedOrder"]["properties"]["lines"]
    write(path, schema)
    assert main(["catalog", "--root", str(repo), "--check"]) == 1
    # (the page lists what the inventory reads, and so does its receive operation)
    assert capsys.readouterr().err.splitlines() == [
        "catalog: docs/events.md: stale (run `make catalog`)",
        "catalog: services/inventory/contracts/asyncapi.yaml: stale (run `make catalog`)",
    ]


def test_a_type_nobody_produces_nor_awaits_says_so(repo: Path) -> None:
    # Given a consumed type with no producer and no line in the awaited file (the contract check
    # fails on it; the page still documents what is there)
    write_catalog(repo)
    shutil.copy(
        repo / "services/inventory/contracts/consumes/order-expired.json",
        repo / "services/inventory/contracts/consumes/order-archived.json",
    )

    # Then the page names no producer and draws no arrow for it
    page = catalog(repo)[PAGE]
    assert "| [`order-archived`](#order-archived) | none | inventory |" in page
    assert "order-archived<br/>" not in page
    assert '-->|"order-archived"|' not in page
