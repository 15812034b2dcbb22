"""The EventBridge Scheduler adapter of the timers: one one-shot schedule per order's open window.

A window (the payment window, or the cancellation window that replaces it) is an `at(...)` schedule (UTC, to the second; EventBridge Scheduler fires it within the
minute on AWS, the local cloud's schedule runner within a second) whose target is the event hub's
bus: at its time, Scheduler puts the window's envelope (`payment-window-closed`, or
`cancellation-window-closed`) on the bus as a
service publishes it (`Source` and `DetailType` as the publisher sets them, the envelope as
`Detail`), the hub forwards it to the stream, and the listener collects it like any other event.
It deletes itself after it fired (`ActionAfterCompletion: DELETE`); cancelling deletes it before.

A schedule is named after its order (a hash of the id, under the stack's prefix), so starting a
window while the order has one is refused by Scheduler (`ConflictException`) and changes nothing,
and a cancel needs nothing but the order id.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from shop_envelope import EventFactory

from fulfillment_control.domain import EventType, Window
from fulfillment_control.events import (
    CancellationWindowClosed,
    OrderReference,
    PaymentWindowClosed,
)

# EventBridge Scheduler's limit on a schedule's name.
MAX_NAME_LENGTH = 64
# How long Scheduler keeps trying to put an event on the bus when it cannot: the hub's own rules
# keep trying for a day, and so does a timer.
MAX_EVENT_AGE_SECONDS = 24 * 3600
MAX_RETRY_ATTEMPTS = 185


_EVENT_OF = {
    EventType.PAYMENT_WINDOW_CLOSED: PaymentWindowClosed,
    EventType.CANCELLATION_WINDOW_CLOSED: CancellationWindowClosed,
}


def at_expression(moment_ms: int) -> str:
    """The `at()` expression of the first whole second at or after `moment_ms`, in UTC."""
    second = datetime.fromtimestamp(math.ceil(moment_ms / 1000), UTC)
    return f"at({second:%Y-%m-%dT%H:%M:%S})"


class SchedulerTimers:
    def __init__(
        self,
        *,
        bus_arn: str,
        role_arn: str,
        name_prefix: str,
        events: EventFactory,
        dead_letter_arn: str | None = None,
        group: str = "default",
        client: Any = None,
    ) -> None:
        """`role_arn` is the role Scheduler assumes to put the event on `bus_arn` (and to send
        what it gives up on to `dead_letter_arn`); `events` stamps the windows' events."""
        if len(name_prefix) + 32 > MAX_NAME_LENGTH:
            raise ValueError(
                f"the schedule name prefix {name_prefix!r} leaves no room for the order's hash "
                f"in {MAX_NAME_LENGTH} characters"
            )
        self._bus_arn = bus_arn
        self._role_arn = role_arn
        self._prefix = name_prefix
        self._events = events
        self._dead_letter_arn = dead_letter_arn
        self._group = group
        self._client = client

    @property
    def client(self) -> Any:
        # Created on first use: importing or building the timers never touches AWS.
        if self._client is None:
            import boto3

            self._client = boto3.client("scheduler")
        return self._client

    def name_of(self, order_id: str) -> str:
        return self._prefix + uuid.uuid5(uuid.NAMESPACE_URL, order_id).hex

    def start(self, window: Window) -> None:
        event = self._events.create(
            _EVENT_OF[window.kind],
            OrderReference(id=window.order_id),
            partition_key=window.order_id,
            id=window.event_id,
            timestamp=window.closes_at,
        )
        target: dict[str, Any] = {
            "Arn": self._bus_arn,
            "RoleArn": self._role_arn,
            "Input": event.to_json(),
            "EventBridgeParameters": {"DetailType": event.type, "Source": event.tags.source},
            "RetryPolicy": {
                "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                "MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
            },
        }
        if self._dead_letter_arn is not None:
            target["DeadLetterConfig"] = {"Arn": self._dead_letter_arn}
        try:
            self.client.create_schedule(
                Name=self.name_of(window.order_id),
                GroupName=self._group,
                ScheduleExpression=at_expression(window.closes_at),
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target=target,
            )
        except ClientError as error:
            if _code(error) != "ConflictException":
                raise

    def cancel(self, order_id: str) -> None:
        try:
            self.client.delete_schedule(Name=self.name_of(order_id), GroupName=self._group)
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":
                raise

    def pending(self, order_id: str) -> Window | None:
        try:
            schedule = self.client.get_schedule(Name=self.name_of(order_id), GroupName=self._group)
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":
                raise
            return None
        envelope = json.loads(schedule["Target"]["Input"])
        return Window(
            envelope["order"]["id"], int(envelope["timestamp"]), EventType(envelope["type"])
        )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
