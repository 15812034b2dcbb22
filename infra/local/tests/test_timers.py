"""TTL expiry and one-shot schedules, against moto (which does neither by itself)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from localcloud.aws import Aws
from localcloud.event_sources import EventSourceMapping, EventSourceRunner
from localcloud.lambda_.functions import FunctionNotFound, Invocation
from localcloud.testing import eventually
from localcloud.timers import ScheduleRunner, TtlDeletes, TtlSweeper, ttl

ROLE = "arn:aws:iam::123456789012:role/scheduler"


class FakeFunction:
    """Records every payload; answers null, or raises `missing` times first as if undeployed."""

    def __init__(self, *, missing: int = 0) -> None:
        self.payloads: list[tuple[str, Any]] = []
        self._missing = missing
        self._lock = threading.Lock()

    def __call__(self, function: str, payload: bytes) -> Invocation:
        with self._lock:
            if self._missing:
                self._missing -= 1
                raise FunctionNotFound(function)
            self.payloads.append((function, json.loads(payload)))
        return Invocation(function, str(uuid.uuid4()), b"null", 1.0)

    def snapshot(self) -> list[tuple[str, Any]]:
        with self._lock:
            return list(self.payloads)


def ttl_table(aws: Aws, name: str = "sessions", *, ttl: bool = True) -> str:
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
        )
    arn: str = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return arn


def item(pk: str, expires: dict[str, str] | None) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": "1"}} | ({"expires": expires} if expires else {})


def keys_left(aws: Aws, table: str) -> list[str]:
    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(i["pk"]["S"] for i in items)


# -- TTL -------------------------------------------------------------------------------------


def test_the_sweep_deletes_only_items_whose_ttl_has_passed(aws: Aws) -> None:
    # Given items expired, due later, without TTL, with a non-number TTL and one from long ago
    ttl_table(aws)
    ttl_table(aws, "no-ttl", ttl=False)
    now = time.time()
    dynamodb = aws.client("dynamodb")
    for pk, expires in [
        ("expired", {"N": str(int(now - 10))}),
        ("expires-now", {"N": str(int(now))}),
        ("later", {"N": str(int(now + 60))}),
        ("never", None),
        ("text", {"S": str(int(now - 10))}),
        ("ancient", {"N": str(int(now - 6 * 365 * 24 * 3600))}),
    ]:
        dynamodb.put_item(TableName="sessions", Item=item(pk, expires))
    dynamodb.put_item(TableName="no-ttl", Item=item("expired", {"N": str(int(now - 10))}))

    # When the sweeper runs once
    deleted = TtlSweeper(aws).sweep_once(now)

    # Then only the expired items of the table with TTL are gone
    assert deleted == 2
    assert keys_left(aws, "sessions") == ["ancient", "later", "never", "text"]
    assert keys_left(aws, "no-ttl") == ["expired"]


def test_a_ttl_delete_reaches_the_function_marked_as_one(aws: Aws) -> None:
    # Given a table with TTL, its stream read by a function, and the sweeper sharing its deletes
    stream = ttl_table(aws)
    sweeper = TtlSweeper(aws)
    function = FakeFunction()
    runner = EventSourceRunner(
        aws, function, poll_interval_seconds=0.02, ttl_deletes=sweeper.deletes
    )
    runner.add(EventSourceMapping(function="fn", source_arn=stream, batch_size=10))
    dynamodb = aws.client("dynamodb")
    try:
        # When one item expires and another is deleted by a caller
        dynamodb.put_item(
            TableName="sessions", Item=item("expired", {"N": str(int(time.time()) - 10)})
        )
        dynamodb.put_item(TableName="sessions", Item=item("deleted", None))
        assert sweeper.sweep_once() == 1
        dynamodb.delete_item(TableName="sessions", Key={"pk": {"S": "deleted"}, "sk": {"N": "1"}})

        # Then the TTL delete's REMOVE carries the service identity, the caller's does not
        def removes() -> list[dict[str, Any]]:
            records = [r for _, event in function.snapshot() for r in event["Records"]]
            return [r for r in records if r["eventName"] == "REMOVE"]

        eventually(lambda: len(removes()) == 2)
        expired, deleted = removes()
        assert expired["dynamodb"]["Keys"]["pk"] == {"S": "expired"}
        assert expired["userIdentity"] == {
            "type": "Service",
            "principalId": "dynamodb.amazonaws.com",
        }
        assert deleted["dynamodb"]["Keys"]["pk"] == {"S": "deleted"}
        assert "userIdentity" not in deleted
    finally:
        runner.stop()


def test_ttl_deletes_are_claimed_once_per_poller_and_again_for_the_same_record() -> None:
    # Given a TTL delete of one item, expected at t=100
    deletes = TtlDeletes()
    keys = {"pk": {"S": "a"}, "blob": {"B": b"\x01"}}
    deletes.expect("t", keys, at=100.0)
    first, second = object(), object()

    # When pollers read REMOVE records of that item / Then:
    # a REMOVE older than the delete is not it
    assert not deletes.claim("t", keys, consumer=first, sequence_number="1", deleted_at=90.0)
    # the first REMOVE after it is, every time that record is read again, for each poller
    assert deletes.claim("t", keys, consumer=first, sequence_number="2", deleted_at=100.5)
    assert deletes.claim("t", keys, consumer=first, sequence_number="2", deleted_at=100.5)
    assert deletes.claim("t", {"pk": {"S": "a"}, "blob": {"B": "AQ=="}}, consumer=second,
                         sequence_number="2", deleted_at=100.5)  # fmt: skip
    # a later REMOVE of the same item by a caller is not
    assert not deletes.claim("t", keys, consumer=first, sequence_number="3", deleted_at=101.0)
    # and a delete that did not happen is forgotten
    deletes.expect("t", {"pk": {"S": "b"}}, at=100.0)
    deletes.forget("t", {"pk": {"S": "b"}})
    assert not deletes.claim(
        "t", {"pk": {"S": "b"}}, consumer=first, sequence_number="4", deleted_at=101.0
    )


def test_a_tables_ttl_setting_is_read_again_only_once_the_last_reading_is_old(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a table without TTL holding an expired item, swept once
    ttl_table(aws, ttl=False)
    expired = item("expired", {"N": str(int(time.time()) - 10)})
    aws.client("dynamodb").put_item(TableName="sessions", Item=expired)
    sweeper = TtlSweeper(aws)
    assert sweeper.sweep_once() == 0

    # When its TTL is enabled
    aws.client("dynamodb").update_time_to_live(
        TableName="sessions", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )

    # Then the sweeper goes by what it read until that is SETTINGS_SECONDS old, then expires it
    assert sweeper.sweep_once() == 0
    monkeypatch.setattr(ttl, "SETTINGS_SECONDS", 0.0)
    assert sweeper.sweep_once() == 1


def test_the_sweeper_runs_on_its_own_once_started(aws: Aws) -> None:
    # Given an expired item
    ttl_table(aws)
    aws.client("dynamodb").put_item(
        TableName="sessions", Item=item("expired", {"N": str(int(time.time()) - 10)})
    )

    # When the sweeper is started
    sweeper = TtlSweeper(aws, interval_seconds=0.05).start()
    try:
        # Then the item goes
        eventually(lambda: keys_left(aws, "sessions") == [])
    finally:
        sweeper.stop()


# -- schedules -------------------------------------------------------------------------------


def at(moment: datetime) -> str:
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def schedule(aws: Aws, name: str, when: str, target: dict[str, Any], **extra: Any) -> None:
    aws.client("scheduler").create_schedule(
        Name=name,
        ScheduleExpression=when,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"RoleArn": ROLE, **target},
        **extra,
    )


def schedule_names(aws: Aws) -> list[str]:
    return sorted(s["Name"] for s in aws.client("scheduler").list_schedules()["Schedules"])


DUE = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_an_at_schedule_fires_once_at_its_time_and_is_deleted(aws: Aws) -> None:
    # Given a one-shot schedule for a function, deleted after completion
    function_arn = aws.arn("lambda", "function:expire-order")
    schedule(
        aws,
        "expire-o1",
        at(DUE),
        {"Arn": function_arn, "Input": '{"orderId": "o1"}'},
        ActionAfterCompletion="DELETE",
    )
    function = FakeFunction()
    runner = ScheduleRunner(aws, function)

    # When the runner looks before its time, at its time, and after
    before = runner.run_due_once(DUE - timedelta(seconds=1))
    fired = runner.run_due_once(DUE)
    after = runner.run_due_once(DUE + timedelta(seconds=5))

    # Then the function was invoked once with the input, and the schedule is gone
    assert (before, after) == ([], [])
    assert fired == [aws.arn("scheduler", "schedule/default/expire-o1")]
    assert function.snapshot() == [("expire-order", {"orderId": "o1"})]
    assert schedule_names(aws) == []


def test_a_schedule_kept_after_completion_fires_only_once(aws: Aws) -> None:
    # Given a one-shot schedule that is not deleted after completion
    schedule(aws, "once", at(DUE), {"Arn": aws.arn("lambda", "function:fn"), "Input": "{}"})
    function = FakeFunction()
    runner = ScheduleRunner(aws, function)

    # When the runner passes its time twice
    runner.run_due_once(DUE)
    runner.run_due_once(DUE + timedelta(minutes=1))

    # Then it fired once and is still there
    assert len(function.snapshot()) == 1
    assert schedule_names(aws) == ["once"]


def test_a_schedule_deleted_while_the_runner_looks_is_skipped_and_the_rest_fire(aws: Aws) -> None:
    # Given two due schedules, the first of which its owner cancels just as the runner reads it
    function_arn = aws.arn("lambda", "function:fn")
    schedule(aws, "cancelled", at(DUE), {"Arn": function_arn, "Input": '{"n": 1}'})
    schedule(aws, "kept", at(DUE), {"Arn": function_arn, "Input": '{"n": 2}'})
    scheduler = aws.client("scheduler")

    def cancel_first(params: dict[str, Any], **_: Any) -> None:
        if params["Name"] == "cancelled":
            scheduler.delete_schedule(Name="cancelled")

    scheduler.meta.events.register("before-parameter-build.scheduler.GetSchedule", cancel_first)
    function = FakeFunction()

    # When the runner passes their time
    try:
        fired = ScheduleRunner(aws, function).run_due_once(DUE)
    finally:
        scheduler.meta.events.unregister(
            "before-parameter-build.scheduler.GetSchedule", cancel_first
        )

    # Then the round went on: the cancelled one did not fire and the other did
    assert fired == [aws.arn("scheduler", "schedule/default/kept")]
    assert function.snapshot() == [("fn", {"n": 2})]


def test_a_schedule_time_is_read_in_its_timezone(aws: Aws) -> None:
    # Given a schedule at noon in Berlin (11:00 UTC in winter)
    schedule(
        aws,
        "berlin",
        "at(2030-01-01T12:00:00)",
        {"Arn": aws.arn("lambda", "function:fn")},
        ScheduleExpressionTimezone="Europe/Berlin",
    )
    function = FakeFunction()
    runner = ScheduleRunner(aws, function)

    # When the runner looks just before and at 11:00 UTC
    assert runner.run_due_once(datetime(2030, 1, 1, 10, 59, 59, tzinfo=UTC)) == []
    fired = runner.run_due_once(datetime(2030, 1, 1, 11, 0, 0, tzinfo=UTC))

    # Then it fires at 11:00 UTC, with an empty object when it has no input
    assert len(fired) == 1
    assert function.snapshot() == [("fn", {})]


def test_a_schedule_puts_an_event_on_a_bus(aws: Aws) -> None:
    # Given a bus whose rule forwards everything from the scheduler to a queue
    events, sqs = aws.client("events"), aws.client("sqs")
    bus_arn = events.create_event_bus(Name="hub")["EventBusArn"]
    url = sqs.create_queue(QueueName="seen")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="all", EventBusName="hub", EventPattern='{"source": ["orders"]}')
    events.put_targets(Rule="all", EventBusName="hub", Targets=[{"Id": "q", "Arn": queue_arn}])
    schedule(
        aws,
        "timeout",
        at(DUE),
        {
            "Arn": bus_arn,
            "Input": '{"orderId": "o1"}',
            "EventBridgeParameters": {"DetailType": "order-timed-out", "Source": "orders"},
        },
    )

    # When it comes due
    ScheduleRunner(aws, FakeFunction()).run_due_once(DUE)

    # Then the event is on the bus with the input as its detail
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"]) == ("orders", "order-timed-out")
    assert event["detail"] == {"orderId": "o1"}


def test_a_schedule_sends_a_message_to_a_queue(aws: Aws) -> None:
    # Given a schedule targeting a queue
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    schedule(aws, "job", at(DUE), {"Arn": aws.arn("sqs", "jobs"), "Input": "run"})

    # When it comes due
    ScheduleRunner(aws, FakeFunction()).run_due_once(DUE)

    # Then the queue holds its input
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert message["Body"] == "run"


def test_a_schedule_whose_target_fails_is_tried_again(aws: Aws) -> None:
    # Given a schedule for a function not deployed yet the first time round
    schedule(aws, "retry", at(DUE), {"Arn": aws.arn("lambda", "function:fn")})
    function = FakeFunction(missing=1)
    runner = ScheduleRunner(aws, function)

    # When the runner comes round twice
    first = runner.run_due_once(DUE)
    second = runner.run_due_once(DUE + timedelta(seconds=1))

    # Then the second round delivers it
    assert first == []
    assert len(second) == 1
    assert len(function.snapshot()) == 1


def test_recurring_schedules_are_left_alone(aws: Aws) -> None:
    # Given a rate schedule
    schedule(aws, "every-minute", "rate(1 minute)", {"Arn": aws.arn("lambda", "function:fn")})
    function = FakeFunction()

    # When the runner comes round / Then nothing fires
    assert ScheduleRunner(aws, function).run_due_once(DUE) == []
    assert function.snapshot() == []


def test_a_disabled_schedule_does_not_fire(aws: Aws) -> None:
    # Given a disabled one-shot schedule
    schedule(aws, "off", at(DUE), {"Arn": aws.arn("lambda", "function:fn")}, State="DISABLED")
    function = FakeFunction()

    # When its time has passed / Then it does not fire
    assert ScheduleRunner(aws, function).run_due_once(DUE) == []
    assert function.snapshot() == []


def test_the_schedule_runner_fires_on_its_own_once_started(aws: Aws) -> None:
    # Given a schedule due in a second
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    schedule(
        aws,
        "soon",
        at(when),
        {"Arn": aws.arn("lambda", "function:fn")},
        ActionAfterCompletion="DELETE",
    )
    function = FakeFunction()

    # When the runner is started
    runner = ScheduleRunner(aws, function, interval_seconds=0.05).start()
    try:
        # Then it fires once, not before its time
        eventually(lambda: function.snapshot(), timeout=5)
        assert datetime.now(UTC) >= when
        eventually(lambda: schedule_names(aws) == [])
        assert len(function.snapshot()) == 1
    finally:
        runner.stop()
