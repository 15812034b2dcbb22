"""Parked faults: listed from the event hub's fault queue and resubmitted to the function that
failed them, the record exactly as it was delivered.

A fault is a `fault` event whose `fault.record` is the failed record and whose
`tags.functionName` is the function that failed it. Resubmitting invokes that function with the
record (a batch of one, or the EventBridge event itself); the fault leaves the queue only when
the function handled it (no function error, no item reported as failed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Long enough for one resubmission; a fault not resubmitted becomes visible again after it.
RESUBMIT_VISIBILITY_SECONDS = 60


@dataclass(frozen=True)
class ParkedFault:
    message_id: str
    receipt_handle: str
    fault_id: str
    function: str
    error_type: str
    message: str
    event_type: str | None
    record: dict[str, Any]

    def payload(self) -> bytes:
        """What the function receives again: its record, as its event source delivered it."""
        if self.record.get("eventSource") in ("aws:kinesis", "aws:sqs", "aws:dynamodb"):
            return json.dumps({"Records": [self.record]}).encode()
        return json.dumps(self.record).encode()


@dataclass(frozen=True)
class Resubmission:
    fault: ParkedFault
    handled: bool
    outcome: str


def parked(
    sqs: Any, queue_url: str, *, visibility_seconds: int = 0, limit: int = 1000
) -> list[ParkedFault]:
    """The faults in the queue. With no visibility timeout they stay visible: a listing only."""
    seen: dict[str, ParkedFault] = {}
    empty_receives = 0
    while len(seen) < limit and empty_receives < 2:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=visibility_seconds
        ).get("Messages", [])
        new = [m for m in messages if m["MessageId"] not in seen]
        empty_receives = 0 if new else empty_receives + 1
        for message in new:
            seen[message["MessageId"]] = _parked(message)
    return list(seen.values())


def resubmit(
    sqs: Any, lambda_client: Any, queue_url: str, *, fault_ids: set[str] | None = None
) -> list[Resubmission]:
    """Resubmit every parked fault (or those named), removing each that its function handled."""
    results = []
    for fault in parked(sqs, queue_url, visibility_seconds=RESUBMIT_VISIBILITY_SECONDS):
        if fault_ids is not None and fault.fault_id not in fault_ids:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=fault.receipt_handle, VisibilityTimeout=0
            )
            continue
        response = lambda_client.invoke(FunctionName=fault.function, Payload=fault.payload())
        body = response["Payload"].read()
        handled, outcome = _outcome(response, body)
        if handled:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=fault.receipt_handle)
        else:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=fault.receipt_handle, VisibilityTimeout=0
            )
        results.append(Resubmission(fault, handled, outcome))
    return results


def _outcome(response: dict[str, Any], body: bytes) -> tuple[bool, str]:
    if response.get("FunctionError"):
        return False, f"function error: {body.decode(errors='replace')[:200]}"
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("batchItemFailures"):
        return False, "the function reported the record as failed again"
    return True, "handled"


def _parked(message: dict[str, Any]) -> ParkedFault:
    event = json.loads(message["Body"])
    fault = event.get("fault") or {}
    return ParkedFault(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        fault_id=str(event.get("id", message["MessageId"])),
        function=str((event.get("tags") or {}).get("functionName") or ""),
        error_type=str(fault.get("errorType", "")),
        message=str(fault.get("message", "")),
        event_type=fault.get("eventType"),
        record=dict(fault.get("record") or {}),
    )
