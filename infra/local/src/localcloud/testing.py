"""For tests of anything running on the local cloud: waiting for what happens asynchronously."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from localcloud.aws import Aws

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud


def eventually[T](check: Callable[[], T], *, timeout: float = 5.0, interval: float = 0.02) -> T:
    """`check()` as soon as it is truthy; an AssertionError if it is not within `timeout` seconds.

    Polls rather than sleeping a fixed time, so a test is as fast as the cloud and fails clearly
    when what it waits for never happens."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check}")
        time.sleep(interval)


def put_on_bus(cloud: LocalCloud, *envelopes: Mapping[str, Any]) -> None:
    """Put domain events on the event hub's bus as a service publishes them: PutEvents through
    the local cloud's events endpoint, `Source` the envelope's `tags.source`, `DetailType` its
    type, ten entries a call. Fails the test if any entry is refused."""
    events = Aws(cloud.endpoints()["events"], cloud.aws.region).client("events")
    bus = cloud.endpoints()["bus"]
    for first in range(0, len(envelopes), 10):
        response = events.put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": str((envelope.get("tags") or {}).get("source", "tests")),
                    "DetailType": str(envelope.get("type", "unknown")),
                    "Detail": json.dumps(envelope),
                }
                for envelope in envelopes[first : first + 10]
            ]
        )
        assert response["FailedEntryCount"] == 0, response["Entries"]
