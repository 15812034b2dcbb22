"""The control service's side of the event contracts (`shop_envelope.contracts`): the JSON Schema
of every event it produces and of what it reads of every event it consumes, committed under
`contracts/`. `make contracts` writes them; a test fails when they drift from the code."""

from __future__ import annotations

import sys
from pathlib import Path

from shop_envelope.contracts import Contracts

from fulfillment_control.events import CONSUMED, PRODUCED

CONTRACTS = Contracts(
    Path(__file__).resolve().parents[2] / "contracts", produces=PRODUCED, consumes=CONSUMED
)

if __name__ == "__main__":
    for path in CONTRACTS.write():
        sys.stderr.write(f"{path.relative_to(CONTRACTS.folder.parent)}\n")
