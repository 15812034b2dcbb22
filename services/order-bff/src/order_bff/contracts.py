"""The BFF's contracts: the JSON Schema of every event it produces and of what it reads of every
event it consumes, committed under `contracts/` (`shop_envelope.contracts`), and its GraphQL API
as SDL, committed as `schema.graphql`. `make contracts` writes them all; a test fails when any
drifts from the code."""

from __future__ import annotations

import sys
from pathlib import Path

from shop_envelope.contracts import Contracts

from order_bff.events import CONSUMED, PRODUCED

SERVICE_DIR = Path(__file__).resolve().parents[2]
CONTRACTS = Contracts(SERVICE_DIR / "contracts", produces=PRODUCED, consumes=CONSUMED)
SCHEMA_FILE = SERVICE_DIR / "schema.graphql"

if __name__ == "__main__":
    from order_bff.schema import sdl

    for path in CONTRACTS.write():
        sys.stderr.write(f"{path.relative_to(SERVICE_DIR)}\n")
    SCHEMA_FILE.write_text(sdl())
    sys.stderr.write(f"{SCHEMA_FILE.relative_to(SERVICE_DIR)}\n")
