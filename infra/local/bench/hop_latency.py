"""One hop through the local cloud: PutEvents -> rule -> stream -> function.

Latency is taken from each envelope's `timestamp` (set just before PutEvents) to the moment the
function has the record in hand; throughput is 500 events put in batches of ten as fast as they go,
until the function has received the last. Goals on this 2-core machine: p50 <= 100 ms and at least
200 events/s.
"""

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from localcloud.aws import Aws
from localcloud.cloud import LocalCloud

ROOT = Path(__file__).resolve().parents[3]
EVENTS = 500


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


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as state,
        LocalCloud(state_dir=Path(state), serverless=ROOT / "make" / "serverless") as cloud,
    ):
        cloud.deploy(ROOT / "infra" / "event-hub")
        stack = cloud.deploy(ROOT / "infra" / "local" / "tests" / "stacks" / "sample-listener")
        assert stack is not None, cloud.failures
        queue_url = stack.resources["ReceivedQueue"]
        # Warm the function (its cold start is not a hop's cost).
        put(cloud, [envelope(0, "warm")])
        drain(cloud, queue_url, "warm", 1)

        for index in range(EVENTS):
            put(cloud, [envelope(index, "latency")])
            time.sleep(0.005)
        received = drain(cloud, queue_url, "latency", EVENTS)
        latencies = sorted(m["receivedMs"] - m["envelope"]["timestamp"] for m in received)

        started_ms = time.time_ns() // 1_000_000
        batch = [envelope(index, "throughput") for index in range(EVENTS)]
        for first in range(0, EVENTS, 10):
            put(cloud, batch[first : first + 10])
        through = drain(cloud, queue_url, "throughput", EVENTS)
        # Until the function had the last event in hand (the drain's own pace does not count).
        elapsed = (max(m["receivedMs"] for m in through) - started_ms) / 1000

    p50 = statistics.median(latencies)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    rate = len(through) / elapsed
    print("== localcloud: one hop, PutEvents -> rule -> stream -> function")
    print(
        f"  latency over {len(latencies)} events: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
        f"(target p50 <= 100 ms){'  meets target' if p50 <= 100 else '  MISSES target'}"
    )
    print(
        f"  throughput: {len(through)} events in {elapsed:.2f} s = {rate:.0f} events/s "
        f"(target >= 200 events/s){'  meets target' if rate >= 200 else '  MISSES target'}"
    )


if __name__ == "__main__":
    main()
