"""The cross-service contract check: every consumed event type has a producer, and the producer's
schema satisfies every field the consumer reads.

Each service commits `contracts/produces/<type>.json` (the whole schema of what it publishes) and
`contracts/consumes/<type>.json` (only what it reads: consumers are tolerant readers). A consumer
is satisfied when every value the producer's schema allows is one the consumer's schema accepts,
for the fields the consumer declares: a field it requires must be required by the producer, have a
type the consumer reads, not be nullable unless the consumer takes null, and keep within the
consumer's `const`/`enum`. Nested objects (`properties`, `$ref`/`$defs`, `allOf`) and arrays
(`items`) are followed; value constraints (`minLength`, `minimum`...) are not compared, because a
producer tightening or loosening them rarely breaks a reader and they would flood the check.

Event types consumed before their producer exists are listed in one awaited file (`type` to the
service expected to produce it); a listed type that has a producer now, or that nobody consumes,
is a problem too, so the list empties as services land instead of going stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AWAITED = Path("docs") / "awaited-events.json"

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Contract:
    """One committed schema: `service` produces or consumes `event_type`."""

    service: str
    event_type: str
    schema: Schema


@dataclass(frozen=True)
class Contracts:
    produced: tuple[Contract, ...]
    consumed: tuple[Contract, ...]
    # Event type to the service expected to produce it once that service is built.
    awaited: Mapping[str, str]


@dataclass(frozen=True)
class Problem:
    """What breaks: the event, and whichever of consumer, producer and field it concerns."""

    event_type: str
    what: str
    consumer: str | None = None
    producer: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        if self.field is not None:
            return (
                f"{self.event_type}: {self.consumer} reads `{self.field}`, but in {self.producer}'s "
                f"schema it {self.what}"
            )
        return f"{self.event_type}: {self.what}"


def load_contracts(root: Path, awaited: Path | None = None) -> Contracts:
    """Every service's committed contracts under `root/services/*/contracts/`, and the awaited file
    (`root/docs/awaited-events.json` unless told otherwise; absent means none awaited)."""
    produced: list[Contract] = []
    consumed: list[Contract] = []
    for folder in sorted((root / "services").glob("*/contracts")):
        service = folder.parent.name
        produced.extend(_read(folder / "produces", service))
        consumed.extend(_read(folder / "consumes", service))
    awaited_file = awaited if awaited is not None else root / AWAITED
    listed: dict[str, str] = {}
    if awaited_file.exists():
        listed = dict(json.loads(awaited_file.read_text())["awaited"])
    return Contracts(tuple(produced), tuple(consumed), listed)


def _read(folder: Path, service: str) -> Iterator[Contract]:
    for path in sorted(folder.glob("*.json")):
        yield Contract(service, path.stem, json.loads(path.read_text()))


def check_contracts(contracts: Contracts, awaited_name: str = str(AWAITED)) -> list[Problem]:
    """Every problem found, in a stable order; none means every consumer is satisfied."""
    producers: dict[str, list[Contract]] = {}
    for contract in contracts.produced:
        producers.setdefault(contract.event_type, []).append(contract)
    consumed_types = {contract.event_type for contract in contracts.consumed}
    problems: list[Problem] = []

    for event_type, service in sorted(contracts.awaited.items()):
        if event_type in producers:
            by = ", ".join(p.service for p in producers[event_type])
            problems.append(
                Problem(
                    event_type,
                    f"listed in {awaited_name} as awaited from {service}, but {by} produces it "
                    f"now: remove it from {awaited_name}",
                    producer=by,
                )
            )
        elif event_type not in consumed_types:
            problems.append(
                Problem(
                    event_type,
                    f"listed in {awaited_name} as awaited from {service}, but no service consumes "
                    f"it: remove it from {awaited_name}",
                )
            )

    for consumer in contracts.consumed:
        if consumer.event_type not in producers:
            if consumer.event_type not in contracts.awaited:
                problems.append(
                    Problem(
                        consumer.event_type,
                        f"{consumer.service} consumes it, but no service produces it: commit the "
                        f"producer's contract, or list it in {awaited_name} with the service that "
                        "will produce it",
                        consumer=consumer.service,
                    )
                )
            continue
        for producer in producers[consumer.event_type]:
            for field, what in compare(consumer.schema, producer.schema):
                problems.append(
                    Problem(
                        consumer.event_type,
                        what,
                        consumer=consumer.service,
                        producer=producer.service,
                        field=field or "(the event)",
                    )
                )
    return problems


# ---- schema comparison ------------------------------------------------------------------------

Finding = tuple[str, str]


def compare(consumer: Schema, producer: Schema) -> list[Finding]:
    """(field, what is wrong with it in the producer's schema) for each field the consumer reads
    that the producer does not give as the consumer reads it."""
    return list(_compare(Document(consumer), consumer, Document(producer), producer, ""))


class Document:
    """One schema document, for resolving its local `$ref`s (`#/$defs/Name`)."""

    def __init__(self, document: Schema) -> None:
        self.document = document

    def resolve(self, node: Schema) -> Schema:
        seen: set[str] = set()
        while True:
            if "$ref" in node:
                reference = str(node["$ref"])
                if reference in seen or not reference.startswith("#/"):
                    raise ValueError(f"cannot resolve $ref {reference!r}")
                seen.add(reference)
                target: Any = self.document
                for part in reference[2:].split("/"):
                    target = target[part]
                # Keywords beside a $ref (a description, say) add nothing a reader depends on.
                node = target
            elif "allOf" in node and len(node["allOf"]) == 1:
                # pydantic wraps a referenced model in a one-element allOf to attach metadata.
                node = {**{k: v for k, v in node.items() if k != "allOf"}, **node["allOf"][0]}
            else:
                return node

    def branches(self, node: Schema) -> list[Schema]:
        """The alternatives a value may take (`anyOf`/`oneOf`), each resolved."""
        node = self.resolve(node)
        for keyword in ("anyOf", "oneOf"):
            if keyword in node:
                found: list[Schema] = []
                for branch in node[keyword]:
                    found.extend(self.branches(branch))
                return found
        return [node]


def is_null(node: Schema) -> bool:
    return node.get("type") == "null" or ("const" in node and node["const"] is None)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _compare(
    c_side: Document, c_node: Schema, p_side: Document, p_node: Schema, path: str
) -> Iterator[Finding]:
    c_branches = c_side.branches(c_node)
    p_branches = p_side.branches(p_node)
    c_values = [b for b in c_branches if not is_null(b)]
    p_values = [b for b in p_branches if not is_null(b)]
    if any(is_null(b) for b in p_branches) and not any(is_null(b) for b in c_branches):
        yield path, "may be null (made optional), and the consumer needs a value"
    if not c_values or not p_values:
        return
    if len(c_values) == 1 and len(p_values) == 1:
        yield from _compare_one(c_side, c_values[0], p_side, p_values[0], path)
        return
    # A union: every shape the producer may send must be one the consumer accepts.
    for p_value in p_values:
        if not any(
            not list(_compare_one(c_side, c_value, p_side, p_value, path)) for c_value in c_values
        ):
            yield path, f"may be {describe(p_value)}, which the consumer does not accept"


def _types(node: Schema) -> set[str] | None:
    """The JSON types a node allows; None when it does not say (any value)."""
    if "type" in node:
        declared = node["type"]
        types = {declared} if isinstance(declared, str) else set(declared)
    elif "const" in node:
        types = {_json_type(node["const"])}
    elif "enum" in node:
        types = {_json_type(value) for value in node["enum"]}
    else:
        return None
    return types


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def describe(node: Schema) -> str:
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return "one of " + ", ".join(json.dumps(v) for v in node["enum"])
    types = _types(node)
    return " or ".join(sorted(types)) if types else "any value"


def _compare_one(
    c_side: Document, c_node: Schema, p_side: Document, p_node: Schema, path: str
) -> Iterator[Finding]:
    c_types = _types(c_node)
    p_types = _types(p_node)
    if c_types is not None:
        accepted = c_types | ({"integer"} if "number" in c_types else set())
        if p_types is None:
            yield path, f"has no type, and the consumer reads {' or '.join(sorted(c_types))}"
            return
        if not p_types <= accepted:
            yield (
                path,
                f"is {' or '.join(sorted(p_types))} (retyped), and the consumer reads "
                f"{' or '.join(sorted(c_types))}",
            )
            return

    yield from _compare_values(c_node, p_node, path)

    if "properties" in c_node:
        p_properties: Mapping[str, Any] = p_node.get("properties", {})
        p_required = set(p_node.get("required", ()))
        c_required = set(c_node.get("required", ()))
        for name, c_property in c_node["properties"].items():
            field = _join(path, name)
            if name not in p_properties:
                if name in c_required:
                    yield field, "is missing (removed), and the consumer requires it"
                continue
            if name in c_required and name not in p_required:
                yield field, "is optional (not required), and the consumer requires it"
            yield from _compare(c_side, c_property, p_side, p_properties[name], field)

    if "items" in c_node and isinstance(c_node["items"], Mapping):
        p_items = p_node.get("items", {})
        yield from _compare(c_side, c_node["items"], p_side, p_items, f"{path}[]")


def _allowed_values(node: Schema) -> set[str] | None:
    """The values a node is limited to (as JSON text, so 1 and true differ); None if any."""
    if "const" in node:
        return {json.dumps(node["const"])}
    if "enum" in node:
        return {json.dumps(value) for value in node["enum"]}
    return None


def _compare_values(c_node: Schema, p_node: Schema, path: str) -> Iterable[Finding]:
    accepted = _allowed_values(c_node)
    if accepted is None:
        return []
    sent = _allowed_values(p_node)
    if sent is None:
        return [(path, f"may be any value, and the consumer accepts only {describe(c_node)}")]
    extra = sorted(sent - accepted)
    if extra:
        return [(path, f"may be {', '.join(extra)}, which the consumer does not accept")]
    return []
