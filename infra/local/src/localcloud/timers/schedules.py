"""EventBridge Scheduler one-shot schedules, which moto stores and never fires: `ScheduleRunner`."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import ClientError

from localcloud.aws import Aws
from localcloud.lambda_.functions import Invoker
from localcloud.lifecycle import LoopPart

logger = logging.getLogger(__name__)

_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")

PutEvents = Callable[[Sequence[Mapping[str, Any]]], None]


@dataclass
class _Schedule:
    arn: str
    name: str
    group: str
    due: datetime | None  # None: not a one-shot at() schedule
    target: dict[str, Any]
    delete_after: bool


class ScheduleRunner(LoopPart):
    """Fires EventBridge Scheduler one-shot schedules, `at(yyyy-mm-ddThh:mm:ss)` in the schedule's
    `ScheduleExpressionTimezone` (UTC by default), once each when they come due, if enabled.

    Targets: a Lambda function is invoked with the target's Input (as Scheduler invokes
    asynchronously, a function error does not make the schedule fire again); an event bus gets
    one event, `Detail` = Input, with the DetailType and Source of its EventBridgeParameters (by
    `put_events` when given, e.g. the local cloud's own rule delivery, else moto's PutEvents); an
    SQS queue gets Input as a message. A schedule with ActionAfterCompletion DELETE is then
    deleted; any other is remembered as fired (until it is updated). A target that cannot be
    reached is tried again each round until the RetryPolicy's MaximumEventAgeInSeconds has passed.
    rate() and cron() schedules are left alone."""

    def __init__(
        self,
        aws: Aws,
        invoke: Invoker,
        *,
        interval_seconds: float = 0.5,
        put_events: PutEvents | None = None,
    ) -> None:
        self._aws = aws
        self._invoke = invoke
        self._put_events = put_events
        self._known: dict[tuple[str, datetime], _Schedule] = {}  # (arn, last modified)
        self._fired: set[tuple[str, datetime]] = set()
        self._lock = threading.Lock()
        super().__init__(
            lambda: self.run_due_once(), name="schedules", interval_seconds=interval_seconds
        )

    def run_due_once(self, now: datetime | None = None) -> list[str]:
        """Fire every schedule due at `now` (default: the clock; naive means UTC) that has not
        fired yet; the ARNs of those fired."""
        moment = datetime.now(UTC) if now is None else _aware(now)
        scheduler = self._aws.client("scheduler")
        fired: list[str] = []
        with self._lock:
            listed: set[tuple[str, datetime]] = set()
            for page in scheduler.get_paginator("list_schedules").paginate(State="ENABLED"):
                for summary in page["Schedules"]:
                    version = (summary["Arn"], summary["LastModificationDate"])
                    listed.add(version)
                    if version in self._fired:
                        continue
                    schedule = self._known.get(version) or self._describe(summary)
                    if schedule is None:  # deleted since it was listed
                        continue
                    self._known[version] = schedule
                    if schedule.due is None or schedule.due > moment:
                        continue
                    if self._fire(schedule, moment):
                        fired.append(schedule.arn)
                        self._fired.add(version)
            # Forget deleted and updated schedules: an updated one is a new version.
            self._known = {version: s for version, s in self._known.items() if version in listed}
            self._fired &= listed
        return fired

    def _describe(self, summary: Mapping[str, Any]) -> _Schedule | None:
        """The schedule as it is now; None once it is gone, as when its owner cancels it
        between the listing and this look."""
        scheduler = self._aws.client("scheduler")
        try:
            detail = scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
        except scheduler.exceptions.ResourceNotFoundException:
            return None
        return _Schedule(
            arn=detail["Arn"],
            name=detail["Name"],
            group=detail["GroupName"],
            due=_due(detail["ScheduleExpression"], detail.get("ScheduleExpressionTimezone")),
            target=dict(detail["Target"]),
            delete_after=detail.get("ActionAfterCompletion") == "DELETE",
        )

    def _fire(self, schedule: _Schedule, now: datetime) -> bool:
        """Deliver to the target; False when it should be tried again next round."""
        fields = {"schedule": schedule.arn, "target": schedule.target["Arn"]}
        try:
            self._deliver(schedule.target)
        except Exception as error:
            max_age = schedule.target.get("RetryPolicy", {}).get("MaximumEventAgeInSeconds", 86400)
            if (now - (schedule.due or now)).total_seconds() <= max_age:
                logger.warning("schedule target failed", extra={**fields, "error": str(error)})
                return False
            logger.error("schedule given up", extra={**fields, "error": str(error)})
        else:
            logger.info("schedule fired", extra=fields)
        if schedule.delete_after:
            try:
                self._aws.client("scheduler").delete_schedule(
                    Name=schedule.name, GroupName=schedule.group
                )
            except ClientError as error:
                logger.warning("fired schedule not deleted", extra={**fields, "error": str(error)})
        return True

    def _deliver(self, target: Mapping[str, Any]) -> None:
        arn: str = target["Arn"]
        payload: str = target.get("Input") or "{}"
        service, resource = arn.split(":")[2], arn.split(":", 5)[5]
        if service == "lambda" and resource.startswith("function:"):
            invocation = self._invoke(resource.split(":")[1], payload.encode())
            if not invocation.ok:
                logger.warning(
                    "scheduled invocation failed",
                    extra={"target": arn, "error": invocation.error_type},
                )
        elif service == "events" and resource.startswith("event-bus/"):
            parameters = target.get("EventBridgeParameters") or {}
            entry = {
                "EventBusName": arn,
                "Source": parameters.get("Source", "aws.scheduler"),
                "DetailType": parameters.get("DetailType", "Scheduled Event"),
                "Detail": payload,
            }
            self._send_events([entry])
        elif service == "sqs":
            _, _, _, _, account, name = arn.split(":", 5)
            sqs = self._aws.client("sqs")
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            message: dict[str, Any] = {"QueueUrl": url, "MessageBody": payload}
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group:
                message["MessageGroupId"] = group
            sqs.send_message(**message)
        else:
            raise ValueError(f"unsupported schedule target {arn}")

    def _send_events(self, entries: Sequence[Mapping[str, Any]]) -> None:
        if self._put_events is not None:
            self._put_events(entries)
            return
        response = self._aws.client("events").put_events(Entries=list(entries))
        if response.get("FailedEntryCount"):
            raise ValueError(f"event not put: {response['Entries']}")


def _due(expression: str, timezone: str | None) -> datetime | None:
    match = _AT.fullmatch(expression.strip())
    if match is None:
        return None
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        logger.error("schedule timezone unknown", extra={"timezone": timezone})
        return None
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
