"""The EventBridge adapter of the publisher port."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shop_envelope import Envelope

from shop_publisher.batching import MAX_BYTES_PER_CALL, batches, entry_size
from shop_publisher.errors import FailedEntry, PublishError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

logger = logging.getLogger(__name__)


@dataclass
class _Pending:
    event: Envelope
    entry: PutEventsRequestEntryTypeDef


class _CallFailed(Exception):
    """A PutEvents call raised; `unsent` are the entries of the batch not yet accepted."""

    def __init__(self, unsent: list[_Pending]) -> None:
        self.unsent = unsent


class EventBridgePublisher:
    """Publishes envelopes to one bus: `Source` is the producing service, `DetailType` the event
    type and `Detail` the envelope itself.

    Entries are batched by count and size. Entries that EventBridge reports as failed are retried,
    and only those, with exponential backoff and full jitter; events that still fail, or that are
    too large to ever be accepted, are raised as a `PublishError` after everything else was sent.
    """

    def __init__(
        self,
        bus_name: str,
        *,
        client: EventBridgeClient | None = None,
        max_attempts: int = 4,
        backoff_base_seconds: float = 0.05,
        backoff_max_seconds: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.bus_name = bus_name
        self._client = client
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._backoff_max = backoff_max_seconds
        self._sleep = sleep
        self._jitter = jitter

    @property
    def client(self) -> EventBridgeClient:
        # Created on first use, so importing or constructing a publisher costs nothing at cold start.
        if self._client is None:
            import boto3

            self._client = boto3.client("events")
        return self._client

    def publish(self, events: Sequence[Envelope]) -> None:
        failed: list[FailedEntry] = []
        sendable: list[tuple[_Pending, int]] = []
        for event in events:
            pending = _Pending(event, self._entry(event))
            size = entry_size(pending.entry)
            if size > MAX_BYTES_PER_CALL:
                failed.append(
                    FailedEntry(
                        event, "EntryTooLarge", f"{size} bytes, over the {MAX_BYTES_PER_CALL} limit"
                    )
                )
            else:
                sendable.append((pending, size))

        remaining = list(batches(sendable))
        while remaining:
            batch = remaining.pop(0)
            try:
                failed.extend(self._put_with_retries(batch))
            except _CallFailed as call_failed:
                error = call_failed.__cause__
                unsent = call_failed.unsent + [pending for later in remaining for pending in later]
                code = type(error).__name__
                failed.extend(FailedEntry(p.event, code, str(error)) for p in unsent)
                logger.error("put events call failed", extra={"unsent": len(unsent), "error": code})
                raise PublishError(failed) from error

        if failed:
            logger.error(
                "events not published",
                extra={
                    "failed": len(failed),
                    "error_codes": sorted({f.error_code for f in failed}),
                },
            )
            raise PublishError(failed)

    def _entry(self, event: Envelope) -> PutEventsRequestEntryTypeDef:
        return {
            "EventBusName": self.bus_name,
            "Source": event.tags.source,
            "DetailType": event.type,
            "Detail": event.to_json(),
        }

    def _put_with_retries(self, batch: list[_Pending]) -> list[FailedEntry]:
        pending = batch
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self.client.put_events(Entries=[p.entry for p in pending])
            except Exception as error:
                raise _CallFailed(pending) from error
            if not response.get("FailedEntryCount"):
                return []
            results: list[Any] = list(response["Entries"])
            still_failing = [
                (p, result)
                for p, result in zip(pending, results, strict=True)
                if "ErrorCode" in result
            ]
            if attempt == self._max_attempts:
                return [
                    FailedEntry(p.event, result["ErrorCode"], result.get("ErrorMessage", ""))
                    for p, result in still_failing
                ]
            pending = [p for p, _ in still_failing]
            logger.warning(
                "retrying failed entries",
                extra={
                    "attempt": attempt,
                    "failed": len(pending),
                    "error_codes": sorted({result["ErrorCode"] for _, result in still_failing}),
                },
            )
            self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads retries of many concurrent functions instead of synchronising them.
        return self._jitter() * min(self._backoff_max, self._backoff_base * 2.0 ** (attempt - 1))
