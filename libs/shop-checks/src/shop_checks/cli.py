"""`shop-checks contracts` and `shop-checks imports`, run from the repository root by `make lint`.

    shop-checks contracts [--root DIR] [--awaited FILE]
    shop-checks imports [--root DIR] [--cache-dir DIR]

Each exits 0 when everything holds, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shop_checks.contracts import AWAITED, check_contracts, load_contracts
from shop_checks.imports import lint_imports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shop-checks", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    contracts = commands.add_parser("contracts", help="every consumed event fits its producer")
    contracts.add_argument("--root", type=Path, default=Path())
    contracts.add_argument("--awaited", type=Path, help=f"default: <root>/{AWAITED}")
    imports = commands.add_parser("imports", help="no service imports another")
    imports.add_argument("--root", type=Path, default=Path())
    imports.add_argument("--cache-dir", type=Path)
    arguments = parser.parse_args(argv)

    if arguments.command == "imports":
        return lint_imports(arguments.root, cache_dir=arguments.cache_dir)

    loaded = load_contracts(arguments.root, arguments.awaited)
    awaited_name = str(arguments.awaited or AWAITED)
    problems = check_contracts(loaded, awaited_name)
    for problem in problems:
        print(f"contract: {problem}", file=sys.stderr)
    if problems:
        print(f"contracts: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    checked = len({c.event_type for c in loaded.consumed} - set(loaded.awaited))
    print(
        f"contracts: {checked} consumed event type(s) satisfied by their producers, "
        f"{len(loaded.awaited)} awaited ({awaited_name})"
    )
    return 0
