"""`shop-checks contracts`, `imports`, `catalog --check` and `links`, run from the repository root
by `make lint`; `shop-checks catalog` by `make catalog`.

    shop-checks contracts [--root DIR] [--awaited FILE]
    shop-checks imports [--root DIR] [--cache-dir DIR]
    shop-checks catalog [--root DIR] [--awaited FILE] [--check]
    shop-checks links [--root DIR]

Each check exits 0 when everything holds, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shop_checks.catalog import catalog_drift, write_catalog
from shop_checks.contracts import AWAITED, check_contracts, load_contracts
from shop_checks.imports import lint_imports
from shop_checks.links import broken_links, pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shop-checks", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    contracts = commands.add_parser("contracts", help="every consumed event fits its producer")
    contracts.add_argument("--root", type=Path, default=Path())
    contracts.add_argument("--awaited", type=Path, help=f"default: <root>/{AWAITED}")
    imports = commands.add_parser("imports", help="no service imports another")
    imports.add_argument("--root", type=Path, default=Path())
    imports.add_argument("--cache-dir", type=Path)
    catalog = commands.add_parser("catalog", help="write the event catalog from the contracts")
    catalog.add_argument("--root", type=Path, default=Path())
    catalog.add_argument("--awaited", type=Path, help=f"default: <root>/{AWAITED}")
    catalog.add_argument("--check", action="store_true", help="write nothing; fail if stale")
    links = commands.add_parser("links", help="every relative link in the docs resolves")
    links.add_argument("--root", type=Path, default=Path())
    arguments = parser.parse_args(argv)

    if arguments.command == "imports":
        return lint_imports(arguments.root, cache_dir=arguments.cache_dir)
    if arguments.command == "catalog":
        return _catalog(arguments.root, arguments.awaited, check=arguments.check)
    if arguments.command == "links":
        return _links(arguments.root)

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


def _catalog(root: Path, awaited: Path | None, *, check: bool) -> int:
    if not check:
        for path in write_catalog(root, awaited):
            print(f"catalog: wrote {path}")
        return 0
    drift = catalog_drift(root, awaited)
    for problem in drift:
        print(f"catalog: {problem}", file=sys.stderr)
    if drift:
        return 1
    print("catalog: docs/events.md and every service's asyncapi.yaml match the contracts")
    return 0


def _links(root: Path) -> int:
    problems = broken_links(root)
    for problem in problems:
        print(f"link: {problem}", file=sys.stderr)
    if problems:
        print(f"links: {len(problems)} broken link(s)", file=sys.stderr)
        return 1
    print(f"links: every relative link of {len(pages(root))} pages resolves")
    return 0
