"""One contract per port, held by every adapter: the in-memory twins and the real ones on moto."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from fulfillment_control.adapters.scheduler import SchedulerTimers, at_expression
from fulfillment_control.domain import (
    CancellationReason,
    Collected,
    EventType,
    Fact,
    FactType,
    Window,
)
from fulfillment_control.ports import EventStore, Timers
from localcloud.aws import Aws
from shop_envelope import EventFactory

PLACED = Collected(1_000, "event-1", EventType.ORDER_PLACED, "order-1")
RESERVED = Collected(1_100, "event-2", EventType.INVENTORY_RESERVED, "order-1")
OTHER_ORDER = Collected(1_000, "event-3", EventType.ORDER_PLACED, "order-2")
EXPIRED = Fact("order-1", "expiry", FactType.EXPIRED, 30_000)
CANCELLED = Fact(
    "order-1", "payment-failed", FactType.CANCELLED, 9_000, CancellationReason.PAYMENT_FAILED
)
REJECTED = Fact("order-1", "cancellation-rejected", FactType.CANCELLATION_REJECTED, 9_500)


# ---- the event store ---------------------------------------------------------------------------


def test_an_order_is_what_was_collected_for_it_each_event_once(store: EventStore) -> None:
    assert store.collect(PLACED) is True
    assert store.collect(RESERVED) is True
    assert store.collect(OTHER_ORDER) is True

    assert store.collect(PLACED) is False, "a duplicate is the same event"
    record = store.record_of("order-1")
    assert record.events == {PLACED, RESERVED}
    assert (record.outcome, record.facts) == (None, frozenset())


def test_an_order_with_nothing_collected_has_an_empty_record(store: EventStore) -> None:
    record = store.record_of("order-unknown")

    assert (record.events, record.outcome, record.facts) == (frozenset(), None, frozenset())


def test_the_first_outcome_decided_stands(store: EventStore) -> None:
    assert store.decide(CANCELLED) == CANCELLED

    assert store.decide(EXPIRED) == CANCELLED, "a second decision learns the first"
    assert store.record_of("order-1").outcome == CANCELLED


def test_a_follow_up_fact_is_recorded_once(store: EventStore) -> None:
    assert store.record(REJECTED) is True
    assert store.record(REJECTED) is False

    assert store.record_of("order-1").facts == {"cancellation-rejected"}


def test_outcomes_and_follow_ups_are_not_confused(store: EventStore) -> None:
    with pytest.raises(ValueError, match="terminal"):
        store.record(EXPIRED)
    with pytest.raises(ValueError, match="terminal"):
        store.decide(REJECTED)


# ---- the timers --------------------------------------------------------------------------------

WINDOW = Window("order-1", 1_800_000_000_250)


def test_a_started_window_is_pending_until_cancelled(timers: Timers) -> None:
    timers.start(WINDOW)
    timers.start(Window("order-1", 1_900_000_000_000))  # a second start changes nothing

    assert timers.pending("order-1") == WINDOW
    assert timers.pending("order-2") is None

    timers.cancel("order-1")
    timers.cancel("order-1")  # and a second cancel is no error
    timers.cancel("order-never-started")
    assert timers.pending("order-1") is None


def test_a_cancelled_window_gives_way_to_another_of_another_kind(timers: Timers) -> None:
    cancellation = Window("order-1", 1_800_000_000_000, EventType.CANCELLATION_WINDOW_CLOSED)
    timers.start(WINDOW)

    timers.cancel("order-1")
    timers.start(cancellation)

    assert timers.pending("order-1") == cancellation


def test_a_window_schedule_puts_the_envelope_on_the_bus_once_and_deletes_itself(
    scheduler_timers: SchedulerTimers, aws: Aws
) -> None:
    # When a window is started
    scheduler_timers.start(WINDOW)

    # Then its schedule fires once, at the first second at or after it closes, in UTC
    [summary] = aws.client("scheduler").list_schedules()["Schedules"]
    schedule = aws.client("scheduler").get_schedule(Name=summary["Name"])
    assert schedule["Name"].startswith("fulfillment-control-test-")
    assert schedule["ScheduleExpression"] == "at(2027-01-15T08:00:01)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    # onto the bus, as a service publishes: the envelope as the detail, its type as detail type
    target = schedule["Target"]
    assert target["Arn"].endswith(":event-bus/event-hub-test-bus")
    assert target["EventBridgeParameters"] == {
        "DetailType": "payment-window-closed",
        "Source": "fulfillment-control.timers",
    }
    envelope = json.loads(target["Input"])
    assert envelope["type"] == "payment-window-closed"
    assert envelope["id"] == WINDOW.event_id
    assert envelope["timestamp"] == WINDOW.closes_at
    assert envelope["partitionKey"] == envelope["order"]["id"] == "order-1"
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400


def test_a_schedule_name_that_cannot_fit_is_refused_when_the_timers_are_built() -> None:
    with pytest.raises(ValueError, match="64 characters"):
        SchedulerTimers(
            bus_arn="bus",
            role_arn="role",
            name_prefix="x" * 40,
            events=EventFactory(source="tests"),
            client=object(),
        )


def test_an_at_expression_rounds_up_to_the_second() -> None:
    assert at_expression(1_800_000_000_000) == "at(2027-01-15T08:00:00)"
    assert at_expression(1_800_000_000_001) == "at(2027-01-15T08:00:01)"


def stubbed_timers() -> tuple[SchedulerTimers, Stubber]:
    # Credentials of its own: a stubbed client sends nothing, but signs what it would send.
    client = boto3.client(
        "scheduler",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    timers = SchedulerTimers(
        bus_arn="arn:aws:events:eu-west-1:123456789012:event-bus/bus",
        role_arn="arn:aws:iam::123456789012:role/timers",
        name_prefix="fc-test-",
        dead_letter_arn="arn:aws:sqs:eu-west-1:123456789012:timers-dlq",
        events=EventFactory(source="tests"),
        client=client,
    )
    return timers, Stubber(client)


def test_the_scheduler_is_asked_exactly_for_a_one_shot_schedule_with_its_dead_letter_queue() -> (
    None
):
    timers, stubber = stubbed_timers()
    stubber.add_response(
        "create_schedule",
        {"ScheduleArn": "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/x"},
        {
            "Name": timers.name_of("order-1"),
            "GroupName": "default",
            "ScheduleExpression": "at(2027-01-15T08:00:01)",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": "arn:aws:events:eu-west-1:123456789012:event-bus/bus",
                "RoleArn": "arn:aws:iam::123456789012:role/timers",
                "Input": ANY,
                "EventBridgeParameters": {"DetailType": "payment-window-closed", "Source": "tests"},
                "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
                "DeadLetterConfig": {"Arn": "arn:aws:sqs:eu-west-1:123456789012:timers-dlq"},
            },
        },
    )
    with stubber:
        timers.start(WINDOW)
    stubber.assert_no_pending_responses()


def test_a_scheduler_error_other_than_already_there_or_already_gone_is_raised() -> None:
    timers, stubber = stubbed_timers()
    stubber.add_client_error("create_schedule", "ValidationException")
    stubber.add_client_error("delete_schedule", "ThrottlingException")
    stubber.add_client_error("get_schedule", "AccessDeniedException")
    with stubber:
        for call in (
            lambda: timers.start(WINDOW),
            lambda: timers.cancel("o"),
            lambda: timers.pending("o"),
        ):
            with pytest.raises(ClientError):
                call()
