"""A service's side of the event contracts: the JSON Schema of every event it produces, and of
what it reads of every event it consumes, committed under the service's `contracts/` and diffed in
review.

    CONTRACTS = Contracts(SERVICE_ROOT / "contracts", produces=PRODUCED, consumes=CONSUMED)
    CONTRACTS.write()   # `make contracts`
    CONTRACTS.drift()   # in a test: [] when the committed files are the code's

A change to an event is then always a visible change to a contract, and the system-wide check
that every consumed event has a producer whose schema satisfies it reads these files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shop_envelope.envelope import DomainEvent
from shop_envelope.registry import EventRegistry

DIRECTIONS = ("produces", "consumes")


def render(schema: dict[str, Any]) -> str:
    """A schema as it is committed: stable key order, so a diff shows only what changed."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


class Contracts:
    def __init__(
        self,
        folder: Path,
        *,
        produces: Iterable[type[DomainEvent]],
        consumes: Iterable[type[DomainEvent]],
    ) -> None:
        self.folder = folder
        self._events = {"produces": tuple(produces), "consumes": tuple(consumes)}

    def schemas(self) -> dict[str, dict[str, Any]]:
        """File name (`produces/<type>.json`, `consumes/<type>.json`) to its schema."""
        files: dict[str, dict[str, Any]] = {}
        for direction in DIRECTIONS:
            for event_type, schema in EventRegistry(self._events[direction]).json_schemas().items():
                files[f"{direction}/{event_type}.json"] = schema
        return files

    def write(self) -> list[Path]:
        """Write every contract, and remove the committed ones the code no longer has."""
        expected = self.schemas()
        for stale in self._committed().keys() - expected.keys():
            (self.folder / stale).unlink()
        written = []
        for name, schema in expected.items():
            path = self.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(schema))
            written.append(path)
        return written

    def drift(self) -> list[str]:
        """What differs between the code and the committed files: one line each, naming the file
        and what to run; empty when they agree."""
        expected = {name: render(schema) for name, schema in self.schemas().items()}
        committed = self._committed()
        problems = [f"{name}: missing" for name in sorted(expected.keys() - committed.keys())]
        problems += [f"{name}: not in the code" for name in sorted(committed.keys() - expected)]
        problems += [
            f"{name}: stale"
            for name in sorted(expected.keys() & committed.keys())
            if expected[name] != committed[name]
        ]
        return [f"{problem} (run `make contracts`)" for problem in problems]

    def _committed(self) -> dict[str, str]:
        return {
            f"{path.parent.name}/{path.name}": path.read_text()
            for direction in DIRECTIONS
            for path in sorted((self.folder / direction).glob("*.json"))
        }
