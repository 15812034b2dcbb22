"""`EventSourceRunner`: every mapping added gets its pollers (one per shard and lane of its
parallelization factor, or one per queue), each on a thread of its own, until `stop`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from typing import TYPE_CHECKING

from localcloud.aws import Aws
from localcloud.lambda_.functions import Invoker
from localcloud.lifecycle import Part

if TYPE_CHECKING:
    from localcloud.timers import TtlDeletes

from localcloud.event_sources.context import (
    PollContext,
    Poller,
    poll_loop,
)
from localcloud.event_sources.mapping import (
    EventSourceMapping,
    mapping_fields,
)
from localcloud.event_sources.sqs import SqsPoller
from localcloud.event_sources.streams import ShardPoller, shards_of

logger = logging.getLogger(__name__)

# A poller with records polls again at once; an idle one waits MAX_POLL_INTERVAL_SECONDS, the
# wait a wake-up cuts short (decision 0024). That wait is what an idle cloud costs (each stream
# shard of each mapping reads moto twice a second); the latency of a hop does not hang on it,
# since the records the local cloud puts on a stream, and the table-stream records moto tells of
# once a function returns, wake their pollers at once (decisions 0017 and 0025). It bounds only
# the wait for a write made from outside a function. POLL_INTERVAL_SECONDS is where a failed
# poll's backoff starts.
POLL_INTERVAL_SECONDS = 0.02
MAX_POLL_INTERVAL_SECONDS = 0.5


class EventSourceRunner(Part):
    """Polls the source of every mapping added and invokes its function, until `stop`.

    Each shard and each queue has a thread of its own, so one slow function holds back only its
    own source. An idle poller waits `max_poll_interval_seconds` between rounds, unless woken;
    a failed poll backs off from `poll_interval_seconds` to that wait.
    `ttl_deletes` (from the TTL sweeper) tells which REMOVE records of DynamoDB streams are TTL
    deletes: those reach the function with the `userIdentity` Lambda gives them. `wake(arn)`
    tells the pollers of a source that it has news (the local cloud put records on the stream, or
    a function has returned after moto added records to the table's stream): they look at once,
    so a hop does not wait for an idle poller's next round (decision 0017)."""

    def __init__(
        self,
        aws: Aws,
        invoke: Invoker,
        *,
        poll_interval_seconds: float = POLL_INTERVAL_SECONDS,
        max_poll_interval_seconds: float = MAX_POLL_INTERVAL_SECONDS,
        ttl_deletes: TtlDeletes | None = None,
    ) -> None:
        self._context = PollContext(
            aws=aws,
            invoke=invoke,
            stopping=threading.Event(),
            poll_interval=poll_interval_seconds,
            max_poll_interval=max(max_poll_interval_seconds, poll_interval_seconds),
            ttl_deletes=ttl_deletes,
        )
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def add(self, mapping: EventSourceMapping) -> None:
        """Start polling the mapping's source: a disabled mapping is kept idle, as Lambda does.
        The starting position is fixed before this returns."""
        if not mapping.enabled:
            logger.info("event source mapping disabled", extra=mapping_fields(mapping))
            return
        pollers: list[tuple[Poller, str | None]] = []  # each with the shard it reads
        if mapping.kind == "sqs":
            pollers.append((SqsPoller(self._context, mapping), None))
        else:
            for shard in shards_of(self._context, mapping):
                for lane in range(mapping.parallelization_factor):
                    lane_poller = ShardPoller(self._context, mapping, shard, lane=lane)
                    pollers.append((lane_poller, shard.shard_id))
        with self._lock:
            if self._context.stopping.is_set():
                raise RuntimeError("the event source runner is stopped")
            for poller, shard_id in pollers:
                wake_up = self._context.wake_ups.register(mapping.source_arn, shard_id)
                thread = threading.Thread(
                    target=poll_loop,
                    args=(self._context, poller, wake_up),
                    # Woken at once on news (decision 0017), the lanes of a shard idle longer
                    # each, so together they poll an idle shard as often as one poller would.
                    kwargs={
                        "idle_share": 1 if mapping.kind == "sqs" else mapping.parallelization_factor
                    },
                    name=f"event-source-{mapping.function}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        logger.info(
            "event source mapping started",
            extra={**mapping_fields(mapping), "pollers": len(pollers)},
        )

    def wake(self, source_arn: str, shard_ids: Collection[str] | None = None) -> None:
        """The source (those shards of it, when named) has news: its pollers look now rather
        than at their next idle round."""
        self._context.wake_ups.wake(source_arn, shard_ids)

    def stop(self, *, timeout_seconds: float = 10.0) -> None:
        """Stop every poller; an invocation in flight is waited for up to `timeout_seconds`."""
        with self._lock:
            self._context.stopping.set()
            self._context.wake_ups.wake_all()
            threads, self._threads = self._threads, []
        deadline = time.monotonic() + timeout_seconds
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("event source poller still busy", extra={"poller": thread.name})
