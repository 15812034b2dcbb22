"""For tests of anything running on the local cloud: waiting for what happens asynchronously."""

from __future__ import annotations

import time
from collections.abc import Callable


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
