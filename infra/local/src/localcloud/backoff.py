"""The one backoff of the local cloud's retries: exponential, capped, with full jitter.

AWS's SDKs and services retry this way ("exponential backoff with full jitter": the wait before
retry n is drawn uniformly between 0 and min(cap, base * 2**n)), so that many callers failing
together do not retry together. Locally the waits are short (the bases and caps are the
callers'), but their shape is AWS's. `jitter=False` gives the capped exponential alone, for a
wait that is not a retry (an idle poller slowing down), where spreading only adds latency.
"""

from __future__ import annotations

import random
from collections.abc import Callable

# Doubling stops here: far beyond any cap, and 2**retry of an idle poller's thousandth round would
# overflow a float (and end the thread that asked).
MAX_DOUBLINGS = 64


def backoff_seconds(
    retry: int,
    *,
    base_seconds: float,
    cap_seconds: float,
    jitter: bool = True,
    random_fraction: Callable[[], float] = random.random,
) -> float:
    """The wait before retry number `retry` (0-based): `min(cap, base * 2**retry)`, and with
    `jitter` a uniformly random fraction of it."""
    ceiling = min(cap_seconds, base_seconds * 2 ** min(max(0, retry), MAX_DOUBLINGS))
    return float(ceiling * random_fraction() if jitter else ceiling)
