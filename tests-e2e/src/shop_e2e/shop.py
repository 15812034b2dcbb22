"""The shop as its customers and its operator reach it (`Shop`), and the whole shop started on
the local cloud (`local_shop`): the event hub and the four services deployed from their
serverless.yml, in order, and the catalog loaded through the inventory's own admin command.

A deployed stage is reached the same way, from the endpoints file `make deploy` writes
(`SHOP_ENDPOINTS`), with tokens from your identity provider (`SHOP_TOKEN_COMMAND`)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.cloud import LocalCloud

from shop_e2e.client import Customer, ShopError, Stripe

ROOT = Path(__file__).resolve().parents[3]
# The local cloud's identity provider signs for this audience (`make token`).
LOCAL_AUDIENCE = "localcloud"
CATALOG = ROOT / "services" / "inventory" / "seed" / "catalog.json"
STRIPE_WEBHOOK = "stripe-esg:/stripe/webhook"


class ShopNotStarted(Exception):
    """A stack did not deploy, or the catalog did not load: says which, and why."""


def stacks() -> list[Path]:
    """Every stack in deploy order: the event hub first (the services import its exports), then
    each service that has a serverless.yml (as the Makefile's STACKS)."""
    services = sorted(path.parent for path in (ROOT / "services").glob("*/serverless.yml"))
    return [ROOT / "infra" / "event-hub", *services]


@dataclass(frozen=True)
class Shop:
    """Where the shop is, and how to sign in to it."""

    endpoints: dict[str, Any]
    issue_token: Callable[[str], str]
    stage: str = "local"

    @property
    def graphql_url(self) -> str:
        return str(self.endpoints["http"]["order-bff"]).rstrip("/") + "/graphql"

    @property
    def webhook_url(self) -> str:
        return str(self.endpoints["http"]["stripe-esg"]).rstrip("/") + "/stripe/webhook"

    @property
    def stripe(self) -> Stripe:
        return Stripe(self.endpoints["stripe"], self.endpoints["stripe_publishable_key"])

    def customer(self, customer_id: str) -> Customer:
        """The customer, signed in."""
        return Customer(self.graphql_url, self.issue_token(customer_id))

    def load_catalog(self, catalog: Path = CATALOG, *, timeout: float = 60.0) -> list[str]:
        """Products and their stock into the inventory, through its admin command: each becomes
        `product-updated` and `stock-level-changed` events, and then part of the BFF's catalog
        view, which this waits for. The skus loaded."""
        local = ["--local-cloud", str(self.endpoints_file)] if self.stage == "local" else []
        command = [
            _script("inventory-catalog"),
            "--stage",
            self.stage,
            *local,
            "load",
            str(catalog),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ShopNotStarted(f"catalog not loaded ({' '.join(command)}): {done.stderr.strip()}")
        skus = [product["sku"] for product in json.loads(catalog.read_text())]
        shopper = self.customer("catalog-check")
        deadline = time.monotonic() + timeout
        while missing := set(skus) - _listed(shopper):
            if time.monotonic() > deadline:
                raise ShopNotStarted(f"not in the catalog view after {timeout}s: {sorted(missing)}")
            time.sleep(0.2)
        return skus

    def stripe_secret(self, name: str) -> str:
        """A Stripe secret of the stage, as its operator reads it: the SecureString
        `/stripe-esg/<stage>/<name>` (`api-key`, `webhook-secret`) from SSM, in the local cloud's
        moto or in the stage's AWS account (your credentials)."""
        from localcloud.aws import Aws

        parameter = f"/stripe-esg/{self.stage}/{name}"
        if self.stage == "local":
            ssm = Aws(self.endpoints["aws"], self.endpoints["region"]).client("ssm")
        else:
            import boto3

            ssm = boto3.client("ssm", region_name=self.endpoints["region"])
        answer = ssm.get_parameter(Name=parameter, WithDecryption=True)
        return str(answer["Parameter"]["Value"])

    @property
    def endpoints_file(self) -> Path:
        return Path(self.endpoints["file"])

    @classmethod
    def from_environment(cls) -> Shop | None:
        """The stage `SHOP_ENDPOINTS` points at, or None (then the tests start a local one)."""
        file = os.environ.get("SHOP_ENDPOINTS")
        if not file:
            return None
        endpoints = {**json.loads(Path(file).read_text()), "file": file}
        command = os.environ.get("SHOP_TOKEN_COMMAND")
        if not command:
            raise RuntimeError(
                "SHOP_ENDPOINTS is set but SHOP_TOKEN_COMMAND is not: a command that prints a "
                "bearer token for the customer id it is given, e.g. 'my-idp-token {customer}'"
            )
        stage = os.environ.get("SHOP_STAGE") or endpoints.get("stage") or "dev"
        return cls(endpoints, token_command(command), stage=str(stage))


def _listed(shopper: Customer) -> set[str]:
    """The skus in the catalog view; none yet while the API still fails (its first cold
    starts, behind the catalog's own events, on a loaded machine)."""
    try:
        return {product["sku"] for product in shopper.products()}
    except ShopError as error:
        if not error.code.startswith("HTTP_5"):
            raise
        return set()


def token_command(template: str) -> Callable[[str], str]:
    """`{customer}` in the template is replaced by the customer id; the command prints a token."""

    def issue(customer_id: str) -> str:
        command = shlex.split(template.replace("{customer}", shlex.quote(customer_id)))
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()

    return issue


def _script(name: str) -> str:
    """A console script of this environment (the workspace's), wherever it was installed."""
    return str(Path(sys.executable).parent / name)


@contextmanager
def local_shop(
    state_dir: Path,
    *,
    on_deployed: Callable[[str, int, float], None] = lambda _name, _functions, _seconds: None,
    stack_dirs: Sequence[Path] | None = None,
    **cloud_options: Any,
) -> Iterator[tuple[Shop, LocalCloud]]:
    """The local cloud with every stack deployed and the catalog loaded; stopped on exit, also
    when a stack fails (`ShopNotStarted` naming it). `on_deployed(stack, functions, seconds)`
    reports each stack as it lands."""
    with LocalCloud(
        state_dir=state_dir,
        serverless=ROOT / "make" / "serverless",
        stripe_webhook=STRIPE_WEBHOOK,
        **cloud_options,
    ) as cloud:
        for stack_dir in stack_dirs or stacks():
            started = time.monotonic()
            stack = cloud.deploy(stack_dir)
            if stack is None:
                raise ShopNotStarted(
                    "not deployed: "
                    + "; ".join(f"{f.source_dir.name}: {f.error}" for f in cloud.failures)
                )
            on_deployed(stack.name, len(stack.functions), time.monotonic() - started)
        file = cloud.write_endpoints()
        key = cloud.signing_key
        shop = Shop(
            {**cloud.endpoints(), "file": str(file)},
            lambda customer: key.token(customer, audience=LOCAL_AUDIENCE),
        )
        yield shop, cloud
