"""`make demo`: the whole shop on the local cloud, and five orders traced through every service.

It starts the local cloud, deploys the event hub and the four services from their
serverless.yml (stack by stack), loads the catalog, then five customers shop at once, each taking
one journey (paid, declined, out of stock, cancelled, expired) through the public interfaces
only. It prints each order's outcome and its trail of events, writes the same as a Markdown
report with a Mermaid diagram per order, and exits 0 only if every journey ended as expected.
Everything it started stops when it ends, on Ctrl-C too. The trail stays behind:
`make trail KEY=<order id> FORMAT=mermaid` draws any of its orders again."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcloud.endpoints import CloudNotRunning, running_endpoints
from localcloud.testing import eventually
from localcloud.trail import EventTrail, TrailEntry, consumers_from_contracts

from shop_e2e import report
from shop_e2e.journeys import JOURNEYS, PRODUCTS, JourneyResult, Trip, run_journey
from shop_e2e.shop import ROOT, Shop, ShopNotStarted, local_shop

# While journeys wait (the expiry journey waits out the payment window), say so this often.
PROGRESS_SECONDS = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shop-demo", description=__doc__)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".localcloud"),
        help="the local cloud's state (the same as `make up`'s, so `make trail` finds the orders)",
    )
    parser.add_argument("--report", type=Path, default=Path(".demo/report.md"))
    arguments = parser.parse_args(argv)
    # `kill` stops the demo as Ctrl-C does: the cloud's context stops every process on the way out.
    signal.signal(signal.SIGTERM, lambda *_: _interrupt())
    try:
        return run(arguments.state_dir, arguments.report)
    except KeyboardInterrupt:
        say("interrupted: every process the demo started is stopped")
        return 130
    except ShopNotStarted as error:
        say(f"shop-demo: {error}; every process the demo started is stopped")
        say(f"  the local cloud's log: {arguments.state_dir / 'localcloud.log'}")
        return 1


def _interrupt() -> None:
    raise KeyboardInterrupt


def say(line: str) -> None:
    print(line, flush=True)


def run(state_dir: Path, report_file: Path) -> int:
    try:
        running = running_endpoints(state_dir)
    except CloudNotRunning:
        pass
    else:
        say(
            f"shop-demo: a local cloud is already running here (AWS at {running['aws']}):"
            " stop `make up` with Ctrl-C in its terminal first"
        )
        return 1
    clock = time.monotonic()
    say("Starting the local cloud: moto, a Lambda host, event sources, EventBridge, fake Stripe")

    def deployed(stack: str, functions: int, seconds: float) -> None:
        say(f"  deployed {stack}: {functions} function(s) in {seconds:.1f} s")

    with local_shop(state_dir, on_deployed=deployed) as (shop, cloud):
        say(f"Loading the catalog (inventory-catalog load) after {time.monotonic() - clock:.0f} s")
        skus = shop.load_catalog()
        say(f"  {len(skus)} products in the storefront's catalog view")
        results = tour(shop, cloud.trail, report_file)
    passed = sum(result.ok for result in results)
    say(
        f"{passed} of {len(results)} journeys ended as expected, in {time.monotonic() - clock:.0f} s"
    )
    say(f"report: {report_file} (a Mermaid sequence diagram per order)")
    if results and results[0].order_id:
        say(f"again, any order: make trail KEY={results[0].order_id} FORMAT=mermaid")
    return 0 if passed == len(results) else 1


def tour(
    shop: Shop, trail: EventTrail | None, report_file: Path, *, customers: str = "demo"
) -> list[JourneyResult]:
    """Five customers shop at once, one journey each; each order's outcome and trail printed
    (the trail where the shop runs on the local cloud) and written as the Markdown report."""
    started_ms = time.time_ns() // 1_000_000
    say(f"Five customers shop at once ({', '.join(journey.name for journey in JOURNEYS)}):")
    results = shop_at_once(
        lambda name, on_wait: Trip(
            shop.customer(f"{customers}-{name}"), shop.stripe, PRODUCTS[name], on_wait=on_wait
        )
    )
    entries: list[TrailEntry] = []
    if trail is not None:
        # The trail is read from the bus a moment after each event: wait until it holds what
        # each order's history shows.
        for result in results:
            if result.order and not _trail_shows(trail, result.order):
                result.problems.append("the trail misses events the order's history shows")
        entries = trail.entries()
    say("")
    for result in results:
        say(report.text(result, entries))
        say("")
    consumers = consumers_from_contracts((ROOT / "services").glob("*/contracts"))
    report_file.parent.mkdir(parents=True, exist_ok=True)
    report_file.write_text(report.markdown(results, entries, consumers, started_ms=started_ms))
    return results


def _trail_shows(trail: EventTrail, order: dict[str, Any]) -> bool:
    wanted = {entry["type"] for entry in order["history"]}

    def shown() -> bool:
        return wanted <= {entry.detail_type for entry in trail.for_key(order["id"])}

    try:
        return eventually(shown, timeout=5)
    except AssertionError:
        return False


def shop_at_once(trip_for: Callable[[str, Callable[[str], None]], Trip]) -> list[JourneyResult]:
    """Every journey in a thread of its own (daemons: Ctrl-C is never kept waiting on a poll),
    saying what each waits for, and every few seconds which still run."""
    results: dict[str, JourneyResult] = {}
    waiting: dict[str, str] = {}
    started = time.monotonic()

    def take(name: str) -> None:
        def on_wait(what: str) -> None:
            waiting[name] = what
            say(f"  [{name}] {time.monotonic() - started:5.1f} s  waiting for {what}")

        journey = next(journey for journey in JOURNEYS if journey.name == name)
        results[name] = run_journey(journey, trip_for(name, on_wait))
        say(f"  [{name}] {time.monotonic() - started:5.1f} s  {report.outcome(results[name])}")

    threads = [
        threading.Thread(target=take, args=(journey.name,), name=journey.name, daemon=True)
        for journey in JOURNEYS
    ]
    for thread in threads:
        thread.start()
    while True:
        threads[-1].join(timeout=0)  # lets Ctrl-C in between the waits
        alive = sorted(thread.name for thread in threads if thread.is_alive())
        if not alive:
            break
        deadline = time.monotonic() + PROGRESS_SECONDS
        while time.monotonic() < deadline and any(thread.is_alive() for thread in threads):
            time.sleep(0.1)
        if still := [name for name in alive if name not in results]:
            elapsed = time.monotonic() - started
            say(f"  ... {elapsed:5.1f} s, still going: {', '.join(still)}")
    return [results[journey.name] for journey in JOURNEYS]


if __name__ == "__main__":
    sys.exit(main())
