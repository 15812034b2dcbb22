"""What every poller shares: the runner's context (`PollContext`: the AWS endpoint, the invoker,
the stop signal, the poll intervals, the wake-ups), the loop that drives one poller (`poll_loop`),
and the helpers both kinds of poller use to read a function's response and build Lambda's
records."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from localcloud.aws import Aws
from localcloud.backoff import backoff_seconds
from localcloud.lambda_.functions import Invocation, Invoker

if TYPE_CHECKING:
    from localcloud.timers import TtlDeletes

from localcloud.event_sources.mapping import (
    EventSourceMapping,
    mapping_fields,
)

logger = logging.getLogger(__name__)

# The shortest time between two rounds of one poller, however often it is woken: 50 rounds a
# second, what a busy poller made before wake-ups (decision 0017).
MIN_ROUND_SECONDS = 0.02


class WakeUps:
    """One event per poller, set when its source (or its shard of it) has news (`wake`) or the
    runner stops (`wake_all`): a poller idling between rounds looks at once instead of at its
    next round. `news(arn)` counts a source's wake-ups, so that what was read of it can be known
    to be still all there is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_source: dict[str, list[tuple[str | None, threading.Event]]] = {}
        self._news: dict[str, int] = {}

    def register(self, source_arn: str, shard_id: str | None = None) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._by_source.setdefault(source_arn, []).append((shard_id, event))
        return event

    def wake(self, source_arn: str, shard_ids: Collection[str] | None = None) -> None:
        """Wake the pollers of `source_arn`: of those shards only, when they are named."""
        with self._lock:
            # Counted before any poller wakes, so a woken poller sees the news counted.
            self._news[source_arn] = self._news.get(source_arn, 0) + 1
            pollers = list(self._by_source.get(source_arn, ()))
        for shard_id, event in pollers:
            if shard_ids is None or shard_id is None or shard_id in shard_ids:
                event.set()

    def news(self, source_arn: str) -> int:
        """How many times `source_arn` has been woken."""
        with self._lock:
            return self._news.get(source_arn, 0)

    def wake_all(self) -> None:
        with self._lock:
            events = [event for pollers in self._by_source.values() for _, event in pollers]
        for event in events:
            event.set()


@dataclass
class PollContext:
    aws: Aws
    invoke: Invoker
    stopping: threading.Event
    poll_interval: float
    max_poll_interval: float
    ttl_deletes: TtlDeletes | None
    wake_ups: WakeUps = field(default_factory=WakeUps)
    # Each stream shard once, by (stream ARN, shard id), whichever mappings and lanes read it:
    # they share what it has read (`streams.shards_of`).
    shards: dict[tuple[str, str], Any] = field(default_factory=dict)

    def queue_url(self, arn: str) -> str:
        return sqs_queue_url(self.aws, arn)

    def call(self, mapping: EventSourceMapping, payload: dict[str, Any]) -> Invocation | None:
        """Invoke the mapping's function; None when it could not be invoked at all (counted as
        a function error, as Lambda counts a throttled or missing function)."""
        try:
            return self.invoke(mapping.function, json.dumps(payload).encode())
        except Exception as error:
            logger.warning(
                "event source invocation failed",
                extra={**mapping_fields(mapping), "error": str(error)},
            )
            return None


_queue_urls: dict[tuple[str, str], str] = {}
_queue_urls_lock = threading.Lock()


def sqs_queue_url(aws: Aws, arn: str) -> str:
    with _queue_urls_lock:
        known = _queue_urls.get((aws.endpoint, arn))
    if known:
        return known
    _, _, _, _, account, name = arn.split(":", 5)
    url: str = aws.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
        "QueueUrl"
    ]
    with _queue_urls_lock:
        _queue_urls[(aws.endpoint, arn)] = url
    return url


class Poller(Protocol):
    def poll_once(self) -> float | None:
        """Do one round of work: None when there was work (poll again soon), else how long the
        poller may wait at most before its next round (0: its own backoff decides)."""

    def describe(self) -> dict[str, Any]: ...

    def finish(self) -> None:
        """Once stopping: wait for whatever the poller still has in flight."""


def poll_loop(
    context: PollContext, poller: Poller, wake_up: threading.Event, *, idle_share: int = 1
) -> None:
    """Poll until stopping. A poller with work polls again at once; an idle one waits
    `max_poll_interval` times `idle_share` (the lanes of one shard share its idle polling, so a
    parallelization factor does not multiply what an idle shard costs moto), or less when the
    poller says so, and `wake_up` set (its source has news, or the runner stops) ends the wait at
    once. Every write the local cloud knows of wakes the pollers it concerns (decisions 0024 and
    0025), so the idle wait bounds only what it cannot know of (a test writing a table). A failed
    poll is retried after the local cloud's backoff, with jitter, from `poll_interval` up to the
    idle wait."""
    failures = 0
    last_error: str | None = None
    last_round = 0.0
    idle = context.max_poll_interval * idle_share
    while not context.stopping.is_set():
        # Woken often (a busy stream wakes its pollers on every put), a poller still takes at
        # most one round every MIN_ROUND_SECONDS: wake-ups cut the idle wait, never flood moto.
        since_last = time.monotonic() - last_round
        if since_last < MIN_ROUND_SECONDS:
            context.stopping.wait(MIN_ROUND_SECONDS - since_last)
        last_round = time.monotonic()
        try:
            wait_at_most = poller.poll_once()
            last_error = None
            failures = 0
        except Exception as error:
            # The source may be gone (a stack deleted, the account reset) or moto busy: keep
            # polling, and say so once per kind of error rather than every round.
            if str(error) != last_error:
                last_error = str(error)
                logger.warning(
                    "event source poll failed", extra={**poller.describe(), "error": last_error}
                )
            _wait(
                wake_up,
                backoff_seconds(
                    failures,
                    base_seconds=context.poll_interval,
                    cap_seconds=context.max_poll_interval,
                ),
            )
            failures += 1
            continue
        if wait_at_most is None:
            continue
        _wait(wake_up, idle if wait_at_most <= 0 else min(idle, wait_at_most))
    poller.finish()


def _wait(wake_up: threading.Event, seconds: float) -> None:
    # Cleared after the wait, before the next round: news arriving during a round sets it again,
    # so the round after sees that news without waiting.
    wake_up.wait(seconds)
    wake_up.clear()


def failed_items(
    invocation: Invocation | None, identifiers: Sequence[str], *, report: bool
) -> list[str] | None:
    """The identifiers of the records a batch failed on ([]: none), or None when the whole batch
    failed: a function error, or with ReportBatchItemFailures a response Lambda cannot use."""
    if invocation is None or not invocation.ok:
        return None
    if not report:
        return []
    try:
        response = invocation.json()
    except ValueError:
        return None
    if response is None:
        return []
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    failed: list[str] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in identifiers:
            return None
        failed.append(identifier)
    return failed


def batch_error(invocation: Invocation | None, failed: list[str] | None) -> str:
    """Why a batch failed, for its log line: what `failed_items` made of the invocation."""
    if invocation is None:
        return "the function could not be invoked"
    if not invocation.ok:
        return f"{invocation.error_type}: {invocation.error_message or '(no message)'}"
    if failed is None:
        return "the function's batchItemFailures are malformed or name a record not in the batch"
    count = len(failed)
    return f"the function reported {count} record{'' if count == 1 else 's'} as failed"


def function_arn(aws: Aws, function: str) -> str:
    return function if function.startswith("arn:") else aws.arn("lambda", f"function:{function}")


def maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
