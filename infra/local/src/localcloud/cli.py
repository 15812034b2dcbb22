"""`localcloud up STACK_DIR...`, `localcloud token CUSTOMER`,
`localcloud trail [--format json|mermaid] [--contracts DIR]... KEY`, `localcloud faults [--resubmit] [FAULT_ID...]`.

Every command but `up` and `token` needs a cloud that runs (or, for `trail`, one that has run) in
the state dir, and says in one line how to start one when there is none."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from localcloud.endpoints import START_HINT, CloudNotRunning, running_endpoints
from localcloud.logs import terminal_handler

DEFAULT_STATE_DIR = Path(".localcloud")
# What `make up` serves the storefront on: the origin the BFF's local stage allows by default.
DEFAULT_STOREFRONT_PORT = 8080


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcloud", description=__doc__)
    parser.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="runtime state (git-ignored)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the local cloud in the foreground with these stacks")
    up.add_argument(
        "stacks", nargs="+", type=Path, help="folders with a serverless.yml, in deploy order"
    )
    up.add_argument("--stage", default="local")
    up.add_argument(
        "--serverless", type=Path, default=Path("make/serverless"), help="the osls CLI wrapper"
    )
    up.add_argument(
        "--stripe-webhook", help="STACK:PATH of the route fake Stripe sends webhooks to"
    )
    up.add_argument(
        "--lambda-concurrency",
        type=int,
        default=os.environ.get("LOCALCLOUD_LAMBDA_CONCURRENCY") or None,
        help="the most execution environments of a function that reserves none "
        "(LOCALCLOUD_LAMBDA_CONCURRENCY, else the Lambda host's DEFAULT_CONCURRENCY)",
    )

    up.add_argument(
        "--storefront",
        type=Path,
        help="a folder with the storefront's index.html, served with its config.json and a sign-in",
    )
    up.add_argument(
        "--storefront-port",
        type=int,
        default=DEFAULT_STOREFRONT_PORT,
        help="the port the storefront is served on (0: any free one)",
    )
    up.add_argument(
        "--storefront-api",
        help="STACK:PATH of the GraphQL route the storefront calls "
        "(else the local cloud's STOREFRONT_API)",
    )

    token = commands.add_parser("token", help="print a bearer token for a customer")
    token.add_argument("customer")
    token.add_argument("--audience", help="else the customers' audience, as the storefront's")

    trail = commands.add_parser(
        "trail", help="show every event of one order (partition key) in time order"
    )
    # Optional here so that a missing key gets the `make trail` usage, not argparse's.
    trail.add_argument("key", nargs="?", help="an order id (partition key) or a correlation id")
    trail.add_argument(
        "--format",
        choices=("table", "json", "mermaid"),
        default="table",
        help="json: each event's full envelope, one JSON object a line; "
        "mermaid: a sequence diagram of the services, the event hub and the events between them",
    )
    trail.add_argument(
        "--contracts",
        type=Path,
        action="append",
        default=[],
        help="a service's contracts/ folder, once per service: its consumes/<type>.json name "
        "who consumes what (mermaid)",
    )

    faults = commands.add_parser(
        "faults", help="list the faults parked in the running local cloud, or resubmit them"
    )
    faults.add_argument(
        "--resubmit", action="store_true", help="resubmit each to the function that failed it"
    )
    faults.add_argument("ids", nargs="*", help="only these faults (all when none are named)")

    arguments = parser.parse_args(argv)
    try:
        return _run(arguments)
    except BrokenPipeError:
        # The reader went away (`make trail KEY=... | head`): not an error of ours. Python's
        # advice: point stdout at devnull so the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(arguments: Any) -> int:
    logging.basicConfig(level=logging.INFO, handlers=[terminal_handler()])
    if arguments.command == "up":
        return _up(arguments)
    if arguments.command == "token":
        from localcloud.http_api import CUSTOMER_AUDIENCE, LocalSigningKey

        key = LocalSigningKey.load_or_create(arguments.state_dir / "jwt-key.json")
        print(key.token(arguments.customer, audience=arguments.audience or CUSTOMER_AUDIENCE))
        return 0
    if arguments.command == "faults":
        try:
            endpoints = running_endpoints(arguments.state_dir)
        except CloudNotRunning as error:
            print(f"localcloud: {error}", file=sys.stderr)
            return 1
        return _faults(arguments, endpoints)
    return _trail(arguments)


def _trail(arguments: Any) -> int:
    """The trail file is enough: it outlives the cloud, so a stopped cloud's last run is shown."""
    from localcloud import trail

    if not arguments.key:
        print("usage: make trail KEY=<order id> [FORMAT=json|mermaid]", file=sys.stderr)
        return 2
    file = arguments.state_dir / trail.TRAIL_FILE
    if not file.exists():
        print(
            f"localcloud: no local cloud has run here yet (no {file}): {START_HINT}",
            file=sys.stderr,
        )
        return 1
    entries = trail.EventTrail.read_file(file)
    if not trail.entries_for(entries, arguments.key):
        keys = trail.recent_keys(entries)
        holds = (
            f"it holds {len(keys)} key(s); the most recent: {', '.join(keys[:5])}"
            if keys
            else "it holds no events yet"
        )
        print(
            f"localcloud: no event with key {arguments.key} in this run's trail ({holds})",
            file=sys.stderr,
        )
        return 1
    try:
        running_endpoints(arguments.state_dir)
    except CloudNotRunning:
        print(
            "localcloud: the local cloud is not running; this is its last run's trail",
            file=sys.stderr,
        )
    if arguments.format == "json":
        print("\n".join(trail.envelopes(entries, arguments.key)))
    elif arguments.format == "mermaid":
        consumers = trail.consumers_from_contracts(arguments.contracts)
        print(trail.mermaid(entries, arguments.key, consumers))
    else:
        print(trail.render(entries, arguments.key))
    return 0


def _faults(arguments: Any, endpoints: dict[str, Any]) -> int:
    from event_hub.parked import FaultStore

    from localcloud import faults
    from localcloud.aws import Aws

    if not endpoints.get("faults"):
        print("no fault store: no deployed stack has a FaultTableName output", file=sys.stderr)
        return 1
    aws = Aws(endpoints["aws"], endpoints["region"])
    store = FaultStore(endpoints["faults"], client=aws.client("dynamodb"))
    if not arguments.resubmit:
        print("\n".join(faults.render(faults.parked(store), now_ms=time.time_ns() // 1_000_000)))
        return 0
    sqs, queue_url = aws.client("sqs"), endpoints.get("faultQueue")

    def queue_empty() -> bool:
        if not queue_url:
            return True
        counts = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return not any(int(count) for count in counts.values())

    lambda_client = Aws(endpoints["lambda"], aws.region).client("lambda")
    results = faults.resubmit(
        store,
        lambda_client,
        fault_ids=arguments.ids or None,
        queue_empty=queue_empty,
    )
    for result in results:
        print(f"{result.fault.fault_id}  {result.fault.function}  {result.outcome}")
    if not results:
        print("nothing to resubmit: no fault is parked")
    return 0 if all(result.resolved for result in results) else 1


def _up(arguments: Any) -> int:
    from localcloud.cloud import STOREFRONT_API, LocalCloud
    from localcloud.lambda_ import DEFAULT_CONCURRENCY

    try:
        running = running_endpoints(arguments.state_dir)
    except CloudNotRunning:
        pass
    else:
        # A second cloud on the same state dir would take over the first one's files.
        print(
            f"localcloud: a local cloud is already running here (AWS at {running['aws']}): "
            "stop it with Ctrl-C in its terminal first",
            file=sys.stderr,
        )
        return 1
    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())
    cloud = LocalCloud(
        state_dir=arguments.state_dir,
        serverless=arguments.serverless.resolve(),
        stage=arguments.stage,
        stripe_webhook=arguments.stripe_webhook,
        lambda_concurrency=int(arguments.lambda_concurrency or DEFAULT_CONCURRENCY),
        storefront=arguments.storefront,
        storefront_port=arguments.storefront_port,
        storefront_api=arguments.storefront_api or STOREFRONT_API,
    )
    try:
        cloud.start()
    except OSError as error:
        # The storefront's folder has no index.html, or its port is taken (another `make up`?).
        cloud.stop()
        hint = ""
        if arguments.storefront is not None and error.errno == errno.EADDRINUSE:
            hint = f" (the storefront's port {arguments.storefront_port}: --storefront-port picks another)"
        print(f"localcloud: not started: {error}{hint}", file=sys.stderr)
        return 1
    try:
        for stack_dir in arguments.stacks:
            if stopping.is_set():
                break
            stack = cloud.deploy(stack_dir)
            if stack is not None:
                print(f"deployed {stack.name}: {len(stack.functions)} function(s)", flush=True)
                for change in stack.changes:
                    print(f"  transform: {change}", flush=True)
        for failure in cloud.failures:
            print(
                f"NOT DEPLOYED {failure.source_dir}: {failure.error}", file=sys.stderr, flush=True
            )
        path = cloud.write_endpoints()
        print(json.dumps(cloud.endpoints(), indent=2), flush=True)
        print(f"endpoints written to {path}; Ctrl-C stops the local cloud", flush=True)
        if cloud.site is not None:
            print(f"storefront: {cloud.site.public_url}", flush=True)
        stopping.wait()
    finally:
        cloud.stop()
    return 1 if cloud.failures else 0


if __name__ == "__main__":
    sys.exit(main())
