"""`EventSourceRunner`: every mapping added gets its pollers (one per shard, or one per queue), each
on a thread of its own, until `stop`."""

from __future__ import annotations

import logging
import threading
import time
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


class EventSourceRunner(Part):
    """Polls the source of every mapping added and invokes its function, until `stop`.

    Each shard and each queue has a thread of its own, so one slow function holds back only its
    own source. An idle poller backs off from `poll_interval_seconds` to
    `max_poll_interval_seconds` and returns to the short interval as soon as records arrive.
    `ttl_deletes` (from the TTL sweeper) tells which REMOVE records of DynamoDB streams are TTL
    deletes: those reach the function with the `userIdentity` Lambda gives them."""

    def __init__(
        self,
        aws: Aws,
        invoke: Invoker,
        *,
        poll_interval_seconds: float = 0.02,
        max_poll_interval_seconds: float = 0.2,
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
        pollers: list[Poller] = []
        if mapping.kind == "sqs":
            pollers.append(SqsPoller(self._context, mapping))
        else:
            for shard in shards_of(self._context, mapping):
                pollers.append(ShardPoller(self._context, mapping, shard))
        with self._lock:
            if self._context.stopping.is_set():
                raise RuntimeError("the event source runner is stopped")
            for poller in pollers:
                thread = threading.Thread(
                    target=poll_loop,
                    args=(self._context, poller),
                    name=f"event-source-{mapping.function}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        logger.info(
            "event source mapping started",
            extra={**mapping_fields(mapping), "pollers": len(pollers)},
        )

    def stop(self, *, timeout_seconds: float = 10.0) -> None:
        """Stop every poller; an invocation in flight is waited for up to `timeout_seconds`."""
        with self._lock:
            self._context.stopping.set()
            threads, self._threads = self._threads, []
        deadline = time.monotonic() + timeout_seconds
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("event source poller still busy", extra={"poller": thread.name})
