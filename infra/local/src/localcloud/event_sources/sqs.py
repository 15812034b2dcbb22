"""SQS event sources: one `SqsPoller` per queue of a mapping, as Lambda polls a queue. Not to be
confused with `eventbridge.queues.QueueReceiver`, which drains the local cloud's own queues."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from localcloud.event_sources.context import (
    PollContext,
    b64,
    batch_error,
    failed_items,
    maybe_json,
)
from localcloud.event_sources.mapping import (
    EventSourceMapping,
    FilterCriteria,
    mapping_fields,
)
from localcloud.eventbridge.queues import receiving_client

logger = logging.getLogger(__name__)

# How long a poller whose batches are all in flight waits for one to end before it looks at the
# stop signal again.
SLOT_WAIT_SECONDS = 0.2
# A mapping's long poll: its length bounds how long stopping waits for it. A rule's queue
# receiver polls for 20 s because `stop` wakes it with a message in its own queue; these queues
# are the functions', where no such message may go.
RECEIVE_WAIT_SECONDS = 1


class SqsPoller:
    """One SQS queue of one mapping.

    Receives up to 10 messages a call (a long poll while it holds none), gathers up to
    `batch_size` within the batching window, and invokes with the SQS event, each batch on a
    thread of its own, up to `maximum_concurrency` batches at once (while that many are in flight
    it receives nothing, as Lambda's pollers hold back; a FIFO queue's message groups stay in
    order because SQS hands out no message of a group that has one in flight). Success deletes
    the batch; with
    ReportBatchItemFailures only the messages not reported failed are deleted (a malformed
    response, or one naming a message not in the batch, keeps them all); a function error deletes
    none. What is kept becomes visible again after the queue's visibility timeout, and after the
    redrive policy's maxReceiveCount receives moto moves it to the dead-letter queue, as SQS does.
    Messages no filter matches are deleted without an invocation."""

    def __init__(self, context: PollContext, mapping: EventSourceMapping) -> None:
        self._context = context
        self._mapping = mapping
        self._filters = FilterCriteria(mapping.filters)
        self._pending: list[dict[str, Any]] = []
        self._pending_since = 0.0  # monotonic
        self._slots = threading.BoundedSemaphore(mapping.maximum_concurrency)
        self._receiver: Any = None  # a client of its own for long polls, made on first use
        self._batches: list[threading.Thread] = []

    def describe(self) -> dict[str, Any]:
        return mapping_fields(self._mapping)

    def poll_once(self) -> float | None:
        if not self._slots.acquire(timeout=SLOT_WAIT_SECONDS):
            return None
        try:
            return self._gather()
        except BaseException:
            self._slots.release()
            raise

    def finish(self) -> None:
        """Wait for the batches in flight (each bounded by its function's timeout)."""
        for batch in self._batches:
            batch.join()

    def _gather(self) -> float | None:
        """Receive, and start a batch once it is full or its window has passed; the slot taken
        for it is given back here when no batch starts, else when the batch ends."""
        url = self._context.queue_url(self._mapping.source_arn)
        room = self._mapping.batch_size - len(self._pending)
        # An empty batch waits on a long poll, as Lambda's pollers do: a message is taken the
        # moment it arrives, and an idle queue costs one receive a second. One being gathered
        # in a batching window tops up without waiting.
        if self._pending:
            receiver, wait = self._context.aws.client("sqs"), 0
        else:
            if self._receiver is None:
                self._receiver = receiving_client(self._context.aws)
            receiver, wait = self._receiver, RECEIVE_WAIT_SECONDS
        received: list[dict[str, Any]] = receiver.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(10, room)),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        now = time.monotonic()
        if received and not self._pending:
            self._pending_since = now
        self._pending.extend(received)
        if not self._pending:
            self._slots.release()
            # The long poll was the wait: the next one starts at once.
            return None
        window_left = self._pending_since + self._mapping.batching_window_seconds - now
        if len(self._pending) < self._mapping.batch_size and window_left > 0:
            self._slots.release()
            return None if received else window_left
        batch, self._pending = self._pending, []
        thread = threading.Thread(
            target=self._run,
            args=(url, batch),
            name=f"sqs-batch-{self._mapping.function}",
            daemon=True,
        )
        self._batches = [b for b in self._batches if b.is_alive()] + [thread]
        thread.start()
        return None

    def _run(self, url: str, batch: list[dict[str, Any]]) -> None:
        try:
            self._process(url, batch)
        except Exception as error:
            # What a poll that raises would log; the messages come back after their visibility.
            logger.warning(
                "event source batch failed", extra={**self.describe(), "error": str(error)}
            )
        finally:
            self._slots.release()

    def _process(self, url: str, messages: list[dict[str, Any]]) -> None:
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        for record in map(self._record, messages):
            matches = self._filters.matches({**record, "body": maybe_json(record["body"])})
            (kept if matches else dropped).append(record)
        self._delete(url, dropped)
        if not kept:
            return
        invocation = self._context.call(self._mapping, {"Records": kept})
        failed = failed_items(
            invocation,
            [record["messageId"] for record in kept],
            report=self._mapping.report_batch_item_failures,
        )
        if failed is None or failed:
            logger.warning(
                "event source batch failed",
                extra={
                    **self.describe(),
                    "records": len(kept),
                    "error": batch_error(invocation, failed),
                },
            )
        if failed is None:
            return
        self._delete(url, [record for record in kept if record["messageId"] not in failed])

    def _delete(self, url: str, records: list[dict[str, Any]]) -> None:
        sqs = self._context.aws.client("sqs")
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            response = sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(chunk)
                ],
            )
            if response.get("Failed"):
                logger.warning(
                    "event source messages not deleted",
                    extra={**self.describe(), "failed": len(response["Failed"])},
                )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: _message_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._mapping.source_arn,
            "awsRegion": self._context.aws.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = b64(value["BinaryValue"])
    return attribute
