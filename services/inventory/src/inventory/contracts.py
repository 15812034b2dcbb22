"""The inventory's side of the event contracts: the JSON Schema of every event it produces and
of what it reads from every event it consumes, committed under `contracts/` and diffed in review.

`make contracts` writes them; a test fails when the code and the committed files disagree, so a
change to an event is always a visible change to a contract. The system-wide check that every
consumed event has a producer whose schema satisfies it reads these files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shop_envelope import EventRegistry

from inventory.events import CONSUMED, PRODUCED

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def schemas() -> dict[str, dict[str, Any]]:
    """File name (`produces/<type>.json`, `consumes/<type>.json`) to its schema."""
    files: dict[str, dict[str, Any]] = {}
    for direction, classes in (("produces", PRODUCED), ("consumes", CONSUMED)):
        for event_type, schema in EventRegistry(classes).json_schemas().items():
            files[f"{direction}/{event_type}.json"] = schema
    return files


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(folder: Path = CONTRACTS) -> list[Path]:
    written = []
    for name, schema in schemas().items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(schema))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        sys.stderr.write(f"{path.relative_to(CONTRACTS.parent)}\n")
