import pytest
from shop_publisher import PublishError
from shop_testkit import FakePublisher
from shop_testkit.examples import OrderPlaced, order, order_placed


def test_it_keeps_what_was_published_in_order() -> None:
    published = FakePublisher()

    published.publish([order_placed("o-1"), order_placed("o-2")])
    published.publish([order_placed("o-3")])

    assert [e.order.id for e in published.of_type(OrderPlaced)] == ["o-1", "o-2", "o-3"]
    assert published.types == ["order-placed"] * 3
    assert published.calls == 2


def test_failed_events_are_named_and_the_rest_still_published() -> None:
    # Given a publisher told to fail the events of order o-2
    published = FakePublisher()
    published.fail(lambda e: e.partition_key == "o-2", error_code="ThrottlingException")

    # When three events are published
    with pytest.raises(PublishError, match="ThrottlingException") as raised:
        published.publish([order_placed("o-1"), order_placed("o-2"), order_placed("o-3")])

    # Then exactly that event is named, and the others went out, as the EventBridge adapter does
    assert [e.partition_key for e in raised.value.events] == ["o-2"]
    assert [e.partition_key for e in published.published] == ["o-1", "o-3"]


def test_a_failure_can_be_limited_to_the_next_publishes() -> None:
    published = FakePublisher()
    published.fail(times=1)

    with pytest.raises(PublishError):
        published.publish([order_placed("o-1")])
    published.publish([order_placed("o-1")])

    assert [e.partition_key for e in published.published] == ["o-1"]


def test_an_event_too_large_for_eventbridge_fails_as_it_would_there() -> None:
    published = FakePublisher()
    huge = order_placed("o-1").model_copy(
        update={"order": order("o-1").model_copy(update={"customer_id": "c" * 300_000})}
    )

    with pytest.raises(PublishError) as raised:
        published.publish([huge, order_placed("o-2")])

    assert raised.value.failed[0].error_code == "EntryTooLarge"
    assert [e.partition_key for e in published.published] == ["o-2"]
