"""Parked faults: listed from the event hub's fault store and resubmitted to the function that
failed them, the record exactly as it was delivered.

The store keeps one item per fault id (see `event_hub.parked`), so a record that failed ten times
is listed once, with its attempts. Resubmitting marks a parked fault `resubmitted` and invokes its
function with its record (a batch of one, or the EventBridge event itself). A record that fails
again comes back to the same item: either the function publishes its fault again (same id) and
the park function parks it, or, when nothing came back, the invocation's failure is recorded on it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from event_hub.parked import PARKED, FaultStore, ParkedFault
from shop_streams.records import record_of

# How long a resubmission waits for the faults its records may publish again, and how long the
# fault queue must stay empty before nothing more can be on its way.
SETTLE_SECONDS = 5.0
QUIET_SECONDS = 0.5
POLL_SECONDS = 0.1

_HEADER = ("FAULT", "STATUS", "ATTEMPTS", "AGE", "FUNCTION", "EVENT TYPE", "LAST ERROR")


@dataclass(frozen=True)
class Resubmission:
    """What became of one resubmitted fault: `resolved` when its function handled the record."""

    fault: ParkedFault
    resolved: bool
    attempts: int

    @property
    def outcome(self) -> str:
        return "resolved" if self.resolved else f"failed again (attempt {self.attempts})"


def parked(store: FaultStore) -> list[ParkedFault]:
    """Every fault in the store, every page read, the oldest first."""
    return store.all()


def age(milliseconds: int) -> str:
    """A duration as people read it in a listing: `3s`, `5m`, `2h`, `4d`."""
    seconds = max(0, milliseconds) // 1000
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def render(faults: Sequence[ParkedFault], *, now_ms: int) -> list[str]:
    """The listing of `make faults`: a header, one row per fault, and a count."""
    rows = [
        (
            fault.fault_id,
            fault.status,
            str(fault.attempts),
            age(now_ms - fault.first_seen_at),
            fault.function or "-",
            fault.event_type or "-",
            str(fault.last_error),
        )
        for fault in faults
    ]
    widths = [max(len(row[column]) for row in [_HEADER, *rows]) for column in range(6)]
    lines = []
    for row in [_HEADER, *rows]:
        cells = [
            # Numbers line up on the right, words on the left; the error ends the line whole.
            cell.rjust(width) if column in (2, 3) else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join([*cells, row[6]]))
    waiting = sum(fault.status == PARKED for fault in faults)
    lines.append(f"{len(faults)} fault(s): {waiting} parked, {len(faults) - waiting} resubmitted")
    return lines


def resubmit(
    store: FaultStore,
    lambda_client: Any,
    *,
    fault_ids: Iterable[str] | None = None,
    queue_empty: Callable[[], bool] = lambda: True,
    settle_seconds: float = SETTLE_SECONDS,
    quiet_seconds: float = QUIET_SECONDS,
) -> list[Resubmission]:
    """Resubmit each parked fault once (or those named, even if resubmitted already), then wait,
    bounded, for the faults their records publish again, and say what became of each.

    `queue_empty` says whether the fault queue holds nothing (visible or in flight): once it has
    stayed so for `quiet_seconds`, no fault can still be on its way to the store."""
    named = set(fault_ids) if fault_ids is not None else None
    chosen = [
        fault
        for fault in store.all()
        if (fault.status == PARKED if named is None else fault.fault_id in named)
    ]
    invoked: list[
        tuple[ParkedFault, tuple[str, str] | None]
    ] = []  # the fault, why its invocation failed
    for fault in chosen:
        if not fault.function or not store.mark_resubmitted(
            fault.fault_id, even_if_resubmitted=named is not None
        ):
            continue
        response = lambda_client.invoke(FunctionName=fault.function, Payload=fault.payload())
        invoked.append((fault, _failure(response, response["Payload"].read(), fault)))

    back = _wait_for_faults_parked_again(
        store,
        [fault.fault_id for fault, _ in invoked],
        queue_empty=queue_empty,
        settle_seconds=settle_seconds,
        quiet_seconds=quiet_seconds,
    )
    results = []
    for fault, failure in invoked:
        again = back.get(fault.fault_id)
        if again is None and failure is not None:
            # The function failed without publishing a fault: the failure is recorded here.
            store.failed_again(fault.fault_id, *failure)
            again = store.get(fault.fault_id)
        results.append(
            Resubmission(
                fault,
                resolved=again is None,
                attempts=again.attempts if again else fault.attempts,
            )
        )
    return results


def _wait_for_faults_parked_again(
    store: FaultStore,
    fault_ids: Sequence[str],
    *,
    queue_empty: Callable[[], bool],
    settle_seconds: float,
    quiet_seconds: float,
) -> dict[str, ParkedFault]:
    back: dict[str, ParkedFault] = {}
    if not fault_ids:
        return back
    deadline = time.monotonic() + settle_seconds
    quiet_since: float | None = None
    while True:
        for fault_id in fault_ids:
            if fault_id not in back:
                current = store.get(fault_id)
                if current is not None and current.status == PARKED:
                    back[fault_id] = current
        now = time.monotonic()
        if len(back) == len(fault_ids) or now >= deadline:
            return back
        if queue_empty():
            quiet_since = now if quiet_since is None else quiet_since
            if now - quiet_since >= quiet_seconds:
                return back
        else:
            quiet_since = None
        time.sleep(POLL_SECONDS)


def _failure(response: dict[str, Any], body: bytes, fault: ParkedFault) -> tuple[str, str] | None:
    """Why the invocation did not handle the record (error type, message), or None if it did."""
    if response.get("FunctionError"):
        try:
            error = json.loads(body)
        except ValueError:
            error = None
        if isinstance(error, dict) and error.get("errorType"):
            return str(error["errorType"]), str(error.get("errorMessage", ""))[:500]
        return "FunctionError", body.decode(errors="replace")[:500]
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        answer = None
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if failures:
        named = {str(item.get("itemIdentifier")) for item in failures if isinstance(item, dict)}
        identifier = record_of(fault.event_source, fault.record).item_identifier
        if identifier in named or not named:
            return "RecordFailed", "the function reported the record as failed again"
    return None
