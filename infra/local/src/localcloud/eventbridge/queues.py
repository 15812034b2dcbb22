"""Receiving from SQS queues on threads of their own: `QueueReceiver` long-polls one queue (a rule
target's routed queue, or the trail's) and hands each batch to a handler, which deletes what it is
done with. Not to be confused with the SQS event source poller (`event_sources.sqs.SqsPoller`),
which drives a Lambda event source mapping as Lambda does."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Self

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud.aws import CREDENTIALS, Aws
from localcloud.backoff import backoff_seconds
from localcloud.lifecycle import Part

logger = logging.getLogger(__name__)

# A long poll returns as soon as a message arrives, and `stop` ends it with a wake-up message, so
# it is as long as SQS allows: an idle queue costs one receive every 20 seconds, not every second.
RECEIVE_WAIT_SECONDS = 20
# A failed receive is retried after the local cloud's backoff (full jitter), up to this.
FIRST_ERROR_PAUSE_SECONDS = 0.05
ERROR_PAUSE_SECONDS = 1.0


def receiving_client(aws: Aws) -> Any:
    """An SQS client for long polls. Each poller holds a connection through its poll, more than
    the shared client's pool keeps; a session of its own, as boto3's default one is not safe to
    make clients from on several threads."""
    session = boto3.session.Session()
    make_client: Any = session.client
    return make_client(
        "sqs",
        endpoint_url=aws.endpoint,
        region_name=aws.region,
        config=Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 3}),
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
    )


Batch = list[dict[str, Any]]


# Sent by `stop` so that a poller's long poll returns at once; whoever receives it deletes it.
WAKE_UP = "localcloud:wake-up"


class QueueReceiver(Part):
    """Receives from one queue on a thread of its own and hands each batch to `handle`, which
    deletes what it is done with. Messages received once stopping go back to the queue."""

    def __init__(
        self,
        receiver: Any,
        sqs: Any,
        queue_url: str,
        handle: Callable[[Batch], None],
        stopping: threading.Event,
        *,
        name: str,
        poll_interval_seconds: float,
    ) -> None:
        self._receiver = receiver
        self._sqs = sqs
        self.queue_url = queue_url
        self._handle = handle
        self._stopping = stopping
        self._poll_interval_seconds = poll_interval_seconds
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop this receiver alone (`stop_receivers` stops many at once, sharing one event)."""
        stop_receivers([self], self._stopping)

    def wake(self) -> None:
        try:
            self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=WAKE_UP)
        except ClientError:
            logger.debug("poller not woken", extra={"queue": self.queue_url})

    def release(self, messages: Batch) -> None:
        """Make messages visible again at once, for whoever polls the queue next."""
        for message in messages:
            try:
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            except ClientError:
                logger.debug("message not released", extra={"queue": self.queue_url})

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                response = self._receiver.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
                    AttributeNames=["SentTimestamp"],
                )
                messages: Batch = response.get("Messages", [])
                wake_ups = [m for m in messages if m["Body"] == WAKE_UP]
                if wake_ups:
                    messages = [m for m in messages if m["Body"] != WAKE_UP]
                    for wake_up in wake_ups:
                        self._sqs.delete_message(
                            QueueUrl=self.queue_url, ReceiptHandle=wake_up["ReceiptHandle"]
                        )
                if self._stopping.is_set():
                    self.release(messages)
                    break
                if messages:
                    self._handle(messages)
                failures = 0
            except Exception:
                if self._stopping.is_set():
                    break
                if not failures:
                    logger.exception("queue poll failed", extra={"queue": self.queue_url})
                self._stopping.wait(
                    backoff_seconds(
                        failures,
                        base_seconds=FIRST_ERROR_PAUSE_SECONDS,
                        cap_seconds=ERROR_PAUSE_SECONDS,
                    )
                )
                failures += 1
                continue
            if not messages:
                self._stopping.wait(self._poll_interval_seconds)


def stop_receivers(pollers: list[QueueReceiver], stopping: threading.Event) -> None:
    """Stop every poller and wait for each to finish what it holds."""
    stopping.set()
    for poller in pollers:
        poller.wake()
    for poller in pollers:
        poller.thread.join(timeout=RECEIVE_WAIT_SECONDS + 10)
