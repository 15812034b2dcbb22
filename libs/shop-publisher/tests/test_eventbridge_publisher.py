"""The EventBridge adapter against the exact PutEvents call shapes (botocore Stubber)."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from shop_envelope import Envelope
from shop_publisher import (
    MAX_BYTES_PER_CALL,
    EventBridgePublisher,
    PublishError,
    batches,
    entry_size,
)
from shop_testkit.examples import OrderPlaced, order_placed

BUS = "shop-bus"


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "events", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def publisher(client: Any, sleeps: list[float]) -> EventBridgePublisher:
    return EventBridgePublisher(BUS, client=client, sleep=sleeps.append, jitter=lambda: 1.0)


def entry(event: Envelope) -> dict[str, str]:
    return {
        "EventBusName": BUS,
        "Source": event.tags.source,
        "DetailType": event.type,
        "Detail": event.to_json(),
    }


def accepted(count: int) -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": f"eb-{i}"} for i in range(count)]}


def events(count: int, *, quantity: int = 1) -> list[OrderPlaced]:
    return [order_placed(f"o-{i}", quantity=quantity) for i in range(count)]


def big_event(order_id: str, approximate_bytes: int) -> OrderPlaced:
    placed = order_placed(order_id)
    padded = placed.order.model_copy(update={"customer_id": "c" * approximate_bytes})
    return placed.model_copy(update={"order": padded})


def test_an_entry_is_source_detail_type_and_the_envelope_as_detail(
    publisher: EventBridgePublisher, stubber: Stubber
) -> None:
    # Given one order-placed event
    placed = order_placed("o-1")
    stubber.add_response("put_events", accepted(1), {"Entries": [entry(placed)]})

    # When it is published
    publisher.publish([placed])

    # Then the detail is exactly the envelope (the stubber checked the call shape)
    assert json.loads(entry(placed)["Detail"])["partitionKey"] == "o-1"


def test_batches_split_at_ten_entries(publisher: EventBridgePublisher, stubber: Stubber) -> None:
    # Given 25 small events
    many = events(25)
    for chunk in (many[:10], many[10:20], many[20:]):
        stubber.add_response(
            "put_events", accepted(len(chunk)), {"Entries": [entry(e) for e in chunk]}
        )

    # When they are published, Then three calls of 10, 10 and 5 entries go out, in order
    publisher.publish(many)


def test_batches_split_at_256_kb(publisher: EventBridgePublisher, stubber: Stubber) -> None:
    # Given three events of about 100 KB: any two fit in 256 KB, all three do not
    heavy = [big_event(f"o-{i}", 100_000) for i in range(3)]
    assert entry_size(entry(heavy[0])) > 100_000
    stubber.add_response("put_events", accepted(2), {"Entries": [entry(e) for e in heavy[:2]]})
    stubber.add_response("put_events", accepted(1), {"Entries": [entry(heavy[2])]})

    # When they are published, Then they go out in two calls of two and one
    publisher.publish(heavy)


def test_an_entry_exactly_at_the_limit_is_sent_and_one_byte_more_is_refused(
    publisher: EventBridgePublisher, stubber: Stubber
) -> None:
    # Given an event padded to exactly 256 KB and one a byte larger
    probe = big_event("o-1", 1)
    at_limit = big_event("o-1", 1 + MAX_BYTES_PER_CALL - entry_size(entry(probe)))
    over = big_event("o-2", 2 + MAX_BYTES_PER_CALL - entry_size(entry(probe)))
    assert entry_size(entry(at_limit)) == MAX_BYTES_PER_CALL
    stubber.add_response("put_events", accepted(1), {"Entries": [entry(at_limit)]})

    # When both are published
    with pytest.raises(PublishError) as raised:
        publisher.publish([over, at_limit])

    # Then the one at the limit went out, and the error names the oversized one only
    assert raised.value.events == (over,)
    assert raised.value.failed[0].error_code == "EntryTooLarge"


def test_only_the_failed_entries_are_retried(
    publisher: EventBridgePublisher, stubber: Stubber, sleeps: list[float]
) -> None:
    # Given a call where EventBridge fails entries 2 and 4 of five
    five = events(5)
    stubber.add_response(
        "put_events",
        {
            "FailedEntryCount": 2,
            "Entries": [
                {"EventId": "a"},
                {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"},
                {"EventId": "c"},
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
                {"EventId": "e"},
            ],
        },
        {"Entries": [entry(e) for e in five]},
    )
    # and the retry, which must carry exactly those two, succeeds
    stubber.add_response("put_events", accepted(2), {"Entries": [entry(five[1]), entry(five[3])]})

    # When they are published
    publisher.publish(five)

    # Then it backed off once before the retry
    assert sleeps == [0.05]


def test_entries_that_keep_failing_raise_naming_each_one(
    client: Any, stubber: Stubber, sleeps: list[float]
) -> None:
    # Given a publisher allowed three attempts, and one entry of two that fails every time
    publisher = EventBridgePublisher(
        BUS, client=client, max_attempts=3, sleep=sleeps.append, jitter=lambda: 1.0
    )
    good, bad = events(2)
    failing = {"ErrorCode": "InternalFailure", "ErrorMessage": "nope"}
    stubber.add_response(
        "put_events",
        {"FailedEntryCount": 1, "Entries": [{"EventId": "a"}, failing]},
        {"Entries": [entry(good), entry(bad)]},
    )
    for _ in range(2):
        stubber.add_response(
            "put_events", {"FailedEntryCount": 1, "Entries": [failing]}, {"Entries": [entry(bad)]}
        )

    # When they are published
    with pytest.raises(
        PublishError, match="1 event\\(s\\) not published: InternalFailure"
    ) as raised:
        publisher.publish([good, bad])

    # Then the error names exactly the failing event, with the last error, after exponential backoff
    assert [(f.event, f.error_code, f.error_message) for f in raised.value.failed] == [
        (bad, "InternalFailure", "nope")
    ]
    assert sleeps == [0.05, 0.1]


def test_backoff_is_capped_and_jittered(client: Any) -> None:
    publisher = EventBridgePublisher(
        BUS, client=client, backoff_max_seconds=0.3, jitter=lambda: 0.5
    )
    assert [publisher._backoff(attempt) for attempt in (1, 2, 3, 4, 5)] == [
        0.025,
        0.05,
        0.1,
        0.15,
        0.15,
    ]


def test_a_call_that_raises_names_every_event_not_yet_accepted(
    publisher: EventBridgePublisher, stubber: Stubber
) -> None:
    # Given 15 events: the first call of 10 succeeds, the second raises
    fifteen = events(15)
    stubber.add_response("put_events", accepted(10), {"Entries": ANY})
    stubber.add_client_error(
        "put_events", service_error_code="AccessDeniedException", service_message="denied"
    )

    # When they are published
    with pytest.raises(PublishError, match="AccessDeniedException") as raised:
        publisher.publish(fifteen)

    # Then the five of the failed call are named, with the cause kept
    assert raised.value.events == tuple(fifteen[10:])
    assert raised.value.__cause__ is not None


def test_a_call_that_raises_during_a_retry_names_only_the_entries_still_pending(
    publisher: EventBridgePublisher, stubber: Stubber
) -> None:
    three = events(3)
    stubber.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [{"EventId": "a"}, {"EventId": "b"}, {"ErrorCode": "InternalFailure"}],
        },
        {"Entries": ANY},
    )
    stubber.add_client_error(
        "put_events", service_error_code="InternalException", http_status_code=500
    )

    with pytest.raises(PublishError) as raised:
        publisher.publish(three)

    assert raised.value.events == (three[2],)


def test_nothing_to_publish_makes_no_call(
    publisher: EventBridgePublisher, stubber: Stubber
) -> None:
    publisher.publish([])


def test_the_client_is_created_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no AWS region configured at all
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    # nor an instance to ask: botocore would look the region up over the network (the unit tier's
    # --disable-socket found that), and time out on a laptop
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    # When a publisher is created, Then nothing touches AWS yet
    publisher = EventBridgePublisher(BUS)

    # and the missing region is only an error once it publishes, naming the unpublished event
    with pytest.raises(PublishError, match="NoRegionError") as raised:
        publisher.publish(events(1))
    assert "region" in str(raised.value.__cause__)


def test_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EventBridgePublisher(BUS, max_attempts=0)


def test_batching_keeps_order_within_both_limits() -> None:
    sized = [(i, size) for i, size in enumerate([5, 5, 5, 1, 9, 1, 1, 1])]
    assert list(batches(sized, max_count=3, max_bytes=10)) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert list(batches([], max_count=3, max_bytes=10)) == []


def test_entry_size_follows_the_documented_formula() -> None:
    assert entry_size({"Source": "ab", "DetailType": "cd", "Detail": "é"}) == 6
    assert (
        entry_size({"Time": "whatever", "Resources": ["arn:1", "r"], "Source": "s"}) == 14 + 6 + 1
    )
