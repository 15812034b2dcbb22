"""Hops through the local cloud.

1. One delivery, PutEvents -> rule -> stream -> function: latency from each envelope's `timestamp`
   (set just before PutEvents) to the moment the function has the record in hand, under a steady
   stream of events (one every 5 ms) and sparse (one every 250 ms, the pollers idle in between,
   as between the steps of one order); throughput is 500 events put in batches of ten as fast as
   they go, until the function has received the last. Goals on this 2-core machine: p50 <= 100 ms
   and at least 200 events/s.
2. A journey's hops, as the services make them (`bench/stacks/relay`): stream -> function ->
   table -> table stream -> function -> PutEvents, four in a row per chain, chains one after the
   other; each hop's latency from the bus taking one event to the bus taking the next (the trail's
   own times), and a chain's from first to last. Goal (decision 0017): four hops p50 <= 1 s and
   p95 <= 3 s, the issue's placeOrder -> payable.
"""

import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from localcloud.aws import Aws
from localcloud.cloud import LocalCloud

ROOT = Path(__file__).resolve().parents[3]
RELAY = Path(__file__).resolve().parent / "stacks" / "relay"
EVENTS = 500
SPARSE_EVENTS = 20
SPARSE_GAP_SECONDS = 0.25
CHAINS = 20
HOPS = 4


def envelope(index: int, run: str) -> dict[str, Any]:
    return {
        "id": f"{run}-{index}",
        "type": "sample-happened",
        "timestamp": time.time_ns() // 1_000_000,
        "partitionKey": f"order-{index % 50}",
        "tags": {"source": "bench"},
    }


def put(cloud: LocalCloud, envelopes: list[dict[str, Any]]) -> None:
    # Through the local cloud's own PutEvents, as the functions publish.
    Aws(cloud.endpoints()["events"], cloud.aws.region).client("events").put_events(
        Entries=[
            {
                "EventBusName": cloud.endpoints()["bus"],
                "Source": "bench",
                "DetailType": e["type"],
                "Detail": json.dumps(e),
            }
            for e in envelopes
        ]
    )


def drain(
    cloud: LocalCloud, queue_url: str, run: str, count: int, timeout_seconds: float = 120.0
) -> list[dict[str, Any]]:
    sqs = cloud.aws.client("sqs")
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout_seconds
    while len(seen) < count and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            if body["envelope"]["id"].startswith(run):
                seen[body["envelope"]["id"]] = body
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return list(seen.values())


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def chain(cloud: LocalCloud, run: str, index: int) -> list[int]:
    """Send one chain of HOPS hops and wait for its end; the bus times of its events."""
    key = f"{run}-{index}"
    first = {**envelope(index, run), "type": "sample-sent", "partitionKey": key, "hopsLeft": HOPS}
    Aws(cloud.endpoints()["events"], cloud.aws.region).client("events").put_events(
        Entries=[
            {
                "EventBusName": cloud.endpoints()["bus"],
                "Source": "bench",
                "DetailType": "sample-sent",
                "Detail": json.dumps(first),
            }
        ]
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        entries = cloud.trail.for_key(key)
        if any(entry.detail_type == "sample-relayed" for entry in entries):
            return [entry.received_ms for entry in entries]
        time.sleep(0.01)
    raise TimeoutError(f"chain {key} did not end within 30 s")


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as state,
        LocalCloud(state_dir=Path(state), serverless=ROOT / "make" / "serverless") as cloud,
    ):
        cloud.deploy(ROOT / "infra" / "event-hub")
        stack = cloud.deploy(ROOT / "infra" / "local" / "tests" / "stacks" / "sample-listener")
        assert stack is not None, cloud.failures
        assert cloud.deploy(RELAY) is not None, cloud.failures
        queue_url = stack.resources["ReceivedQueue"]
        # Warm the function (its cold start is not a hop's cost).
        put(cloud, [envelope(0, "warm")])
        drain(cloud, queue_url, "warm", 1)

        for index in range(EVENTS):
            put(cloud, [envelope(index, "latency")])
            time.sleep(0.005)
        received = drain(cloud, queue_url, "latency", EVENTS)
        latencies = sorted(m["receivedMs"] - m["envelope"]["timestamp"] for m in received)

        for index in range(SPARSE_EVENTS):
            put(cloud, [envelope(index, "sparse")])
            time.sleep(SPARSE_GAP_SECONDS)
        sparse = [
            m["receivedMs"] - m["envelope"]["timestamp"]
            for m in drain(cloud, queue_url, "sparse", SPARSE_EVENTS)
        ]

        chain(cloud, "warm-chain", 0)  # the relay's functions warm, as above
        hops: list[float] = []
        chains: list[float] = []
        for index in range(CHAINS):
            times = chain(cloud, "chain", index)
            hops += [later - earlier for earlier, later in itertools.pairwise(times)]
            chains.append(times[-1] - times[0])
            time.sleep(SPARSE_GAP_SECONDS)

        started_ms = time.time_ns() // 1_000_000
        batch = [envelope(index, "throughput") for index in range(EVENTS)]
        for first in range(0, EVENTS, 10):
            put(cloud, batch[first : first + 10])
        through = drain(cloud, queue_url, "throughput", EVENTS)
        # Until the function had the last event in hand (the drain's own pace does not count).
        elapsed = (max(m["receivedMs"] for m in through) - started_ms) / 1000

    p50, p95 = percentiles(latencies)
    sparse_p50, sparse_p95 = percentiles(sparse)
    hop_p50, hop_p95 = percentiles(hops)
    chain_p50, chain_p95 = percentiles(chains)
    rate = len(through) / elapsed
    print("== localcloud: one hop, PutEvents -> rule -> stream -> function")
    print(
        f"  latency over {len(latencies)} events: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
        f"(target p50 <= 100 ms){'  meets target' if p50 <= 100 else '  MISSES target'}"
    )
    print(
        f"  sparse, one every {SPARSE_GAP_SECONDS * 1000:.0f} ms, over {len(sparse)} events: "
        f"p50 {sparse_p50:.0f} ms, p95 {sparse_p95:.0f} ms"
        f"{'  meets target' if sparse_p50 <= 100 else '  MISSES target'}"
    )
    print(
        f"  throughput: {len(through)} events in {elapsed:.2f} s = {rate:.0f} events/s "
        f"(target >= 200 events/s){'  meets target' if rate >= 200 else '  MISSES target'}"
    )
    print(
        "== localcloud: a journey's hops, stream -> function -> table -> stream -> function -> bus"
    )
    print(f"  one hop, over {len(hops)} hops: p50 {hop_p50:.0f} ms, p95 {hop_p95:.0f} ms")
    meets = chain_p50 <= 1000 and chain_p95 <= 3000
    print(
        f"  {HOPS} hops, over {len(chains)} chains: p50 {chain_p50:.0f} ms, p95 {chain_p95:.0f} ms "
        f"(target p50 <= 1000 ms, p95 <= 3000 ms){'  meets target' if meets else '  MISSES target'}"
    )


if __name__ == "__main__":
    main()
