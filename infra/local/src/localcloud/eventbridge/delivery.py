"""EventBridge rule delivery, as AWS does it: `RuleDelivery` drains each rule target's routed queue
(or takes events straight from the local PutEvents) and delivers each event to the real target
(Kinesis, Lambda, SQS, Firehose or a bus): it skips disabled rules, applies `Input`, `InputPath`
or `InputTransformer`, retries failed deliveries under the target's `RetryPolicy` and dead-letters
them with the attributes AWS adds."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from localcloud.aws import Aws
from localcloud.backoff import backoff_seconds
from localcloud.eventbridge.input import MISSING, compact, event_from_body, select, target_input
from localcloud.eventbridge.queues import Batch, QueueReceiver, receiving_client, stop_receivers
from localcloud.eventbridge.targets import (
    DEFAULT_BUS,
    FIREHOSE,
    KINESIS,
    LAMBDA,
    LAMBDA_ASYNC_RETRIES,
    SQS,
    RuleTarget,
)
from localcloud.lambda_.functions import FunctionNotFound, Invoker
from localcloud.lifecycle import Part

logger = logging.getLogger(__name__)

# Local retries are short: the policy's attempt count and event age still hold, not AWS's waits.
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 1.0
# How long a rule's state (enabled or disabled) is taken as known before it is asked again.
RULE_STATE_SECONDS = 1.0
# Events put through the local cloud's own PutEvents for a Firehose target are gathered for this
# long and put in one PutRecordBatch (at most FIREHOSE_BATCH_RECORDS each), not one call per
# PutEvents: Firehose itself buffers what it is given for its BufferingHints' interval (60 s for
# the event lake) before it writes to the lake, and those calls were six per order (decision 0027).
FIREHOSE_GATHER_SECONDS = 1.0
FIREHOSE_BATCH_RECORDS = 500


class DeliveryFailure(Exception):
    """A delivery that did not happen, with the error code AWS puts on a dead-lettered event."""

    def __init__(self, code: str, message: str, *, retriable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retriable = retriable


class _Stopped(Exception):
    pass


# AWS does not retry what only a person can fix (a missing target, a missing permission): such an
# event goes straight to the dead-letter queue.
_NOT_FOUND = {
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
}
_NO_PERMISSION = {"AccessDenied", "AccessDeniedException", "UnrecognizedClientException"}
_INVALID = {
    "ValidationException",
    "InvalidArgumentException",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidArgument",
    "MissingParameter",
}
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "ServiceUnavailableException",
    "RequestThrottled",
}


def _failure_of(error: Exception) -> DeliveryFailure:
    if isinstance(error, DeliveryFailure):
        return error
    if isinstance(error, FunctionNotFound):
        return DeliveryFailure("NO_RESOURCE", str(error), retriable=False)
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", "")) or str(error)
        if code in _NOT_FOUND:
            return DeliveryFailure("NO_RESOURCE", message, retriable=False)
        if code in _NO_PERMISSION:
            return DeliveryFailure("NO_PERMISSIONS", message, retriable=False)
        if code in _INVALID:
            return DeliveryFailure("INVALID_PARAMETER", message, retriable=False)
        if code in _THROTTLED:
            return DeliveryFailure("THROTTLING", message, retriable=True)
        return DeliveryFailure("SDK_CLIENT_ERROR", message, retriable=True)
    if isinstance(error, BotoConnectionError | ConnectionError | TimeoutError | OSError):
        return DeliveryFailure("CONNECTION_FAILURE", str(error), retriable=True)
    return DeliveryFailure("INTERNAL_ERROR", f"{type(error).__name__}: {error}", retriable=True)


def retry_delay_seconds(retry: int) -> float:
    """The wait before retry number `retry` (0-based): the local cloud's backoff (exponential,
    capped, full jitter), short."""
    return backoff_seconds(
        retry, base_seconds=FIRST_BACKOFF_SECONDS, cap_seconds=MAX_BACKOFF_SECONDS
    )


class RuleDelivery(Part):
    """Delivers the events moto routes to each target's queue to the real target."""

    def __init__(
        self,
        aws: Aws,
        invoke: Invoker,
        *,
        poll_interval_seconds: float = 0.02,
        on_stream_put: Callable[[str, set[str]], None] | None = None,
    ) -> None:
        self._aws = aws
        self._invoke = invoke
        # Told the stream's ARN and shards once records are on them, so that their readers look
        # now (decision 0017).
        self._on_stream_put = on_stream_put or (lambda _arn, _shards: None)
        self._poll_interval_seconds = poll_interval_seconds
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._pollers: dict[str, QueueReceiver] = {}
        self._receiver: Any = None
        self._rule_enabled_at: dict[tuple[str, str], float] = {}
        self._by_rule: dict[tuple[str, str], list[RuleTarget]] = {}
        # Firehose targets' events from `deliver_events`, by the target's identity, until the
        # gatherer's next round puts them.
        self._gathered: dict[int, tuple[RuleTarget, Batch]] = {}
        self._gatherer: threading.Thread | None = None

    def add(self, target: RuleTarget) -> None:
        """Start delivering the target's routed events; adding a target twice changes nothing."""
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("rule delivery is stopped")
            if target.queue_url in self._pollers:
                return
            if self._receiver is None:
                self._receiver = receiving_client(self._aws)
            poller = QueueReceiver(
                self._receiver,
                self._aws.client("sqs"),
                target.queue_url,
                lambda messages: self._handle(target, poller, messages),
                self._stopping,
                name=f"rule-{target.rule_name}-{target.target_id}",
                poll_interval_seconds=self._poll_interval_seconds,
            )
            self._pollers[target.queue_url] = poller.start()
            self._by_rule.setdefault((target.bus_name, target.rule_name), []).append(target)
        logger.info(
            "rule target added",
            extra={"rule": target.rule_name, "target": target.target_id, "arn": target.arn},
        )

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            pollers = list(self._pollers.values())
            gatherer = self._gatherer
        stop_receivers(pollers, self._stopping)
        if gatherer is not None:
            gatherer.join(timeout=10)
        self._put_gathered()  # whatever came after the gatherer's last round

    def _rule_arn(self, target: RuleTarget) -> str:
        if target.rule_arn:
            return target.rule_arn
        on_bus = "" if target.bus_name == DEFAULT_BUS else f"{target.bus_name}/"
        return self._aws.arn("events", f"rule/{on_bus}{target.rule_name}")

    def _enabled(self, target: RuleTarget) -> bool:
        """Whether the rule is enabled. An enabled rule is taken as enabled for RULE_STATE_SECONDS
        (a busy target costs no extra call, and disabling takes effect within that time, as in
        AWS); a disabled one is asked again every time, so enabling it takes effect at once."""
        key = (target.bus_name, target.rule_name)
        enabled_at = self._rule_enabled_at.get(key)
        if enabled_at is not None and time.monotonic() - enabled_at < RULE_STATE_SECONDS:
            return True
        try:
            rule = self._aws.client("events").describe_rule(
                Name=target.rule_name, EventBusName=target.bus_name
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            logger.warning(
                "rule gone, its events dropped",
                extra={"rule": target.rule_name, "bus": target.bus_name},
            )
            return False
        enabled = bool(rule.get("State", "ENABLED") == "ENABLED")
        if enabled:
            self._rule_enabled_at[key] = time.monotonic()
        else:
            self._rule_enabled_at.pop(key, None)
        return enabled

    def targets_of(self, bus_name: str, rule_name: str) -> list[RuleTarget]:
        """The routed targets of one rule (none for a rule this delivery does not know)."""
        return list(self._by_rule.get((bus_name, rule_name), ()))

    def deliver_events(self, target: RuleTarget, events: list[dict[str, Any]]) -> None:
        """Deliver events straight to a rule's target, without its routed queue (for the local
        cloud's own PutEvents): the same rule state, batching, retries and dead-letter queue."""
        if not self._enabled(target):
            return
        sent = str(int(time.time() * 1000))
        messages = [{"Body": json.dumps(e), "Attributes": {"SentTimestamp": sent}} for e in events]
        if target.kind == FIREHOSE and self._gather(target, messages):
            return
        batched = target.kind in (KINESIS, FIREHOSE)
        pending = self._deliver_batch(target, messages) if batched else messages
        for message in pending:
            self._deliver_message(target, message)

    def _gather(self, target: RuleTarget, messages: Batch) -> bool:
        """Keep the messages for the gatherer's next round; False once stopping (the gatherer's
        last round may have passed), when they are to be put now."""
        with self._lock:
            if self._stopping.is_set():
                return False
            self._gathered.setdefault(id(target), (target, []))[1].extend(messages)
            if self._gatherer is None:
                self._gatherer = threading.Thread(
                    target=self._put_gathered_until_stopped, name="firehose-gatherer", daemon=True
                )
                self._gatherer.start()
        return True

    def _put_gathered_until_stopped(self) -> None:
        while not self._stopping.wait(FIREHOSE_GATHER_SECONDS):
            self._put_gathered()

    def _put_gathered(self) -> None:
        """Put each Firehose target's gathered events, a batch per call; what a batch does not
        take goes through one-by-one delivery, with its retries and dead-letter queue."""
        with self._lock:
            gathered, self._gathered = self._gathered, {}
        for target, messages in gathered.values():
            for first in range(0, len(messages), FIREHOSE_BATCH_RECORDS):
                pending = self._deliver_batch(
                    target, messages[first : first + FIREHOSE_BATCH_RECORDS]
                )
                for index, message in enumerate(pending):
                    try:
                        self._deliver_message(target, message)
                    except _Stopped:
                        logger.error(
                            "events not delivered, stopped while retrying",
                            extra={
                                "rule": target.rule_name,
                                "target": target.target_id,
                                "count": len(pending) - index,
                            },
                        )
                        break

    def _handle(self, target: RuleTarget, poller: QueueReceiver, messages: Batch) -> None:
        if not self._enabled(target):
            logger.debug(
                "events skipped, rule disabled",
                extra={
                    "rule": target.rule_name,
                    "target": target.target_id,
                    "count": len(messages),
                },
            )
            self._delete(target, messages)
            return
        # Streams and delivery streams take a whole batch in one call, as AWS's own delivery
        # does; whatever that call does not accept goes through one-by-one delivery, with its
        # retries and dead-letter queue.
        pending = (
            self._deliver_batch(target, messages)
            if target.kind in (KINESIS, FIREHOSE)
            else messages
        )
        done = [m for m in messages if m not in pending]
        for index, message in enumerate(pending):
            try:
                self._deliver_message(target, message)
            except _Stopped:
                self._delete(target, done)
                poller.release(pending[index:])
                return
            done.append(message)
        self._delete(target, done)

    def _delete(self, target: RuleTarget, messages: Batch) -> None:
        for first in range(0, len(messages), 10):
            chunk = messages[first : first + 10]
            self._aws.client("sqs").delete_message_batch(
                QueueUrl=target.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(chunk)
                ],
            )

    def _deliver_batch(self, target: RuleTarget, messages: Batch) -> Batch:
        """Deliver every message in one call; the messages that were not delivered."""
        entries: list[tuple[dict[str, Any], str, str]] = []  # message, payload, partition key
        for message in messages:
            try:
                event, ingestion_time = event_from_body(message["Body"])
                payload = target_input(
                    target, event, rule_arn=self._rule_arn(target), ingestion_time=ingestion_time
                )
            except Exception:
                return list(messages)  # one-by-one delivery reports what is wrong with it
            entries.append((message, payload, self._partition_key(target, event)))
        resource = target.arn.split(":", 5)[5].split("/", 1)[1]
        try:
            if target.kind == KINESIS:
                response = self._aws.client("kinesis").put_records(
                    StreamName=resource,
                    Records=[
                        {"Data": payload.encode(), "PartitionKey": key}
                        for _, payload, key in entries
                    ],
                )
                results = response["Records"]
                shards = {result["ShardId"] for result in results if "ShardId" in result}
                if shards:
                    self._on_stream_put(target.arn, shards)
            else:
                response = self._aws.client("firehose").put_record_batch(
                    DeliveryStreamName=resource,
                    Records=[{"Data": payload.encode()} for _, payload, _ in entries],
                )
                results = response["RequestResponses"]
        except Exception:
            return list(messages)
        return [
            message
            for (message, _, _), result in zip(entries, results, strict=True)
            if "ErrorCode" in result
        ]

    def _partition_key(self, target: RuleTarget, event: dict[str, Any]) -> str:
        key: str = event["id"]
        if target.partition_key_path is not None:
            selected = select(event, target.partition_key_path)
            if selected is not MISSING and selected is not None:
                key = selected if isinstance(selected, str) else compact(selected)
        return key

    def _deliver_message(self, target: RuleTarget, message: dict[str, Any]) -> None:
        try:
            event, ingestion_time = event_from_body(message["Body"])
        except ValueError:
            logger.error(
                "routed message is not an event, dropped",
                extra={"rule": target.rule_name, "target": target.target_id},
            )
            return
        sent_ms = float(message.get("Attributes", {}).get("SentTimestamp", time.time() * 1000))
        retries = 0
        while True:
            try:
                self._deliver(target, event, ingestion_time)
                return
            except _Stopped:
                raise
            except Exception as error:
                failure = _failure_of(error)
            if not failure.retriable:
                self._dead_letter(target, event, failure, retries=retries, exhausted=None)
                return
            if retries == 0:
                logger.warning(
                    "rule target delivery failed, retrying",
                    extra={
                        "rule": target.rule_name,
                        "target": target.target_id,
                        "error_code": failure.code,
                        "error": failure.message,
                    },
                )
            if retries >= target.maximum_retry_attempts:
                self._dead_letter(
                    target, event, failure, retries=retries, exhausted="MaximumRetryAttempts"
                )
                return
            delay = retry_delay_seconds(retries)
            age_seconds = time.time() - sent_ms / 1000
            if age_seconds + delay > target.maximum_event_age_seconds:
                self._dead_letter(
                    target, event, failure, retries=retries, exhausted="MaximumEventAgeInSeconds"
                )
                return
            if self._stopping.wait(delay):
                raise _Stopped
            retries += 1

    def _deliver(
        self, target: RuleTarget, event: dict[str, Any], ingestion_time: float | None
    ) -> None:
        payload = target_input(
            target, event, rule_arn=self._rule_arn(target), ingestion_time=ingestion_time
        )
        resource = target.arn.split(":", 5)[5]
        kind = target.kind
        if kind == KINESIS:
            put = self._aws.client("kinesis").put_record(
                StreamName=resource.split("/", 1)[1],
                Data=payload.encode(),
                PartitionKey=self._partition_key(target, event),
            )
            self._on_stream_put(target.arn, {put["ShardId"]})
        elif kind == LAMBDA:
            self._invoke_async(target, resource.split(":")[1], payload.encode())
        elif kind == SQS:
            account = target.arn.split(":")[4]
            send: dict[str, Any] = {
                "QueueUrl": f"{self._aws.endpoint}/{account}/{resource}",
                "MessageBody": payload,
            }
            if target.message_group_id is not None:
                send["MessageGroupId"] = target.message_group_id
            self._aws.client("sqs").send_message(**send)
        elif kind == FIREHOSE:
            self._aws.client("firehose").put_record(
                DeliveryStreamName=resource.split("/", 1)[1], Record={"Data": payload.encode()}
            )
        else:
            self._forward(target, event)

    def _forward(self, target: RuleTarget, event: dict[str, Any]) -> None:
        """To another bus goes the event itself, as a new event on that bus."""
        entry: dict[str, Any] = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event.get("resources", []),
            "EventBusName": target.arn,
        }
        with contextlib.suppress(KeyError, TypeError, ValueError):
            entry["Time"] = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        response = self._aws.client("events").put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            failed = response["Entries"][0]
            raise DeliveryFailure(
                "SDK_CLIENT_ERROR",
                f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}",
                retriable=True,
            )

    def _invoke_async(self, target: RuleTarget, function: str, payload: bytes) -> None:
        """An asynchronous invocation: once Lambda has the event, a function error is Lambda's to
        retry (twice more), not EventBridge's."""
        for attempt in range(LAMBDA_ASYNC_RETRIES + 1):
            invocation = self._invoke(function, payload)
            if invocation.ok:
                return
            if attempt < LAMBDA_ASYNC_RETRIES and self._stopping.wait(retry_delay_seconds(attempt)):
                raise _Stopped
        logger.error(
            "asynchronous invocation failed after retries",
            extra={
                "rule": target.rule_name,
                "target": target.target_id,
                "function": function,
                "request_id": invocation.request_id,
                "error_type": invocation.error_type,
                "error": invocation.error_message,
            },
        )

    def _dead_letter(
        self,
        target: RuleTarget,
        event: dict[str, Any],
        failure: DeliveryFailure,
        *,
        retries: int,
        exhausted: str | None,
    ) -> None:
        fields = {
            "rule": target.rule_name,
            "target": target.target_id,
            "event_id": event.get("id"),
            "error_code": failure.code,
            "error": failure.message,
            "retries": retries,
        }
        if target.dead_letter_arn is None:
            logger.error("rule target delivery failed, event dropped", extra=fields)
            return
        attributes = {
            "RULE_ARN": self._rule_arn(target),
            "TARGET_ARN": target.arn,
            "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message[:1000] or failure.code,
            "RETRY_ATTEMPTS": str(retries),
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        account, name = target.dead_letter_arn.split(":")[4:6]
        try:
            self._aws.client("sqs").send_message(
                QueueUrl=f"{self._aws.endpoint}/{account}/{name}",
                MessageBody=json.dumps(event),
                MessageAttributes={
                    key: {"DataType": "String", "StringValue": value}
                    for key, value in attributes.items()
                },
            )
        except Exception:
            logger.exception("event not dead-lettered, dropped", extra=fields)
            return
        logger.warning("rule target delivery failed, event dead-lettered", extra=fields)
