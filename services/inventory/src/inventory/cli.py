"""`inventory-catalog`: load the catalog into a deployed inventory, or restock it.

    inventory-catalog --stage dev load seed/catalog.json        # AWS, with your credentials
    inventory-catalog --stage local --local-cloud .localcloud/endpoints.json load seed/catalog.json
    inventory-catalog --stage dev restock MUG-CLASSIC 10

It writes the inventory's table through the same ledger the functions use, so every change is
published by the trigger as `product-updated` and `stock-level-changed`, the events the BFF's
catalog view is built from. Loading is idempotent: a product already listed keeps its stock and
is rewritten only if its name or price changed; restock is how stock is added.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from shop_envelope import describe

from inventory import SERVICE
from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.domain import InventoryError, Money, Product
from inventory.model import Inventory

LOCAL_CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}


class CatalogError(Exception):
    """A catalog file or a deployment the command cannot use; says what and where."""


class SeedPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=0, description="In the currency's minor unit (cents).")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class SeedProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    name: str = Field(min_length=1)
    price: SeedPrice
    stock: int = Field(ge=0, description="Units on hand when the product is first listed.")

    def product(self) -> Product:
        return Product(self.sku, self.name, Money(self.price.amount, self.price.currency))


def read_catalog(path: Path) -> list[SeedProduct]:
    """The products of a catalog file, or a `CatalogError` naming each problem."""
    try:
        products = TypeAdapter(list[SeedProduct]).validate_json(path.read_bytes())
    except OSError as error:
        raise CatalogError(f"{path}: {error.strerror}") from None
    except ValidationError as error:
        raise CatalogError(f"{path}: {describe(error, limit=10, root='(file)')}") from None
    duplicates = sorted({p.sku for p in products if [q.sku for q in products].count(p.sku) > 1})
    if duplicates:
        raise CatalogError(f"{path}: skus listed more than once: {', '.join(duplicates)}")
    return products


def load(inventory: Inventory, products: list[SeedProduct]) -> dict[str, str]:
    """List every product; what happened to each, by sku: `listed` or `unchanged`."""
    return {
        seed.sku: "listed"
        if inventory.list_product(seed.product(), initial_stock=seed.stock)
        else "unchanged"
        for seed in products
    }


def running_local_cloud(endpoints_path: Path) -> dict[str, Any]:
    """The endpoints of the running local cloud, or a one-line `CatalogError` saying how to start
    it. The check `localcloud.endpoints.running_endpoints` makes, repeated here because the local
    cloud is only a dev dependency of the service: the file the cloud writes when up and removes
    when it stops, and its AWS endpoint answering (a cloud killed with -9 leaves the file)."""
    start = "start it with `make up` in another terminal"
    try:
        endpoints = json.loads(endpoints_path.read_text())
    except FileNotFoundError:
        raise CatalogError(
            f"the local cloud is not running (no {endpoints_path}): {start}"
        ) from None
    except (OSError, ValueError) as error:
        raise CatalogError(
            f"the local cloud is not running ({endpoints_path} is unreadable: {error}): {start}"
        ) from None
    aws = endpoints.get("aws") if isinstance(endpoints, dict) else None
    if not isinstance(aws, str) or not _answers(aws) or "region" not in endpoints:
        raise CatalogError(
            f"the local cloud is not running ({endpoints_path} is left over: nothing answers"
            f" at {aws}): {start}"
        )
    return dict(endpoints)


def _answers(url: str) -> bool:
    try:
        parts = urlsplit(url)
        address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        # A loopback connect is immediate; the timeout only bounds a host that drops packets.
        with socket.create_connection(address, timeout=0.5):
            return True
    except (OSError, ValueError):
        return False


def connect(stage: str, local_cloud: Path | None) -> DynamoDBStockLedger:
    """The ledger of the deployed stack `inventory-<stage>`, found through its outputs."""
    options: dict[str, Any] = {}
    if local_cloud is not None:
        endpoints = running_local_cloud(local_cloud)
        options = {"endpoint_url": endpoints["aws"], "region_name": endpoints["region"]}
        options.update(LOCAL_CREDENTIALS)
    session = boto3.session.Session()
    stack = f"{SERVICE}-{stage}"
    try:
        described = session.client("cloudformation", **options).describe_stacks(StackName=stack)
    except Exception as error:
        raise CatalogError(f"stack {stack} not found or not reachable: {error}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}
    if "TableName" not in outputs:
        raise CatalogError(f"stack {stack} has no TableName output: is it the inventory?")
    return DynamoDBStockLedger(outputs["TableName"], client=session.client("dynamodb", **options))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inventory-catalog", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", default="dev", help="the deployed stage (stack inventory-STAGE)")
    parser.add_argument(
        "--local-cloud", type=Path, help="the local cloud's endpoints.json, instead of AWS"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    load_command = commands.add_parser("load", help="list every product of a catalog file")
    load_command.add_argument("file", type=Path)
    restock_command = commands.add_parser("restock", help="add units on hand to one product")
    restock_command.add_argument("sku")
    restock_command.add_argument("quantity", type=int)
    arguments = parser.parse_args(argv)

    try:
        inventory = Inventory(connect(arguments.stage, arguments.local_cloud))
        if arguments.command == "load":
            outcome = load(inventory, read_catalog(arguments.file))
            for sku, what in outcome.items():
                print(f"{what:9}  {sku}")
            listed = sum(1 for what in outcome.values() if what == "listed")
            print(f"{len(outcome)} products: {listed} listed, {len(outcome) - listed} unchanged")
        else:
            level = inventory.restock(arguments.sku, arguments.quantity)
            print(f"{level.sku}: {level.on_hand} on hand, {level.available} available")
    except (CatalogError, InventoryError, ValueError) as error:
        print(f"inventory-catalog: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
