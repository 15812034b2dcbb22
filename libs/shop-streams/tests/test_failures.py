"""The two kinds of failure, one kind at a time: a permanent failure is handled with one fault, a
transient one is a batch item failure with none."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from shop_envelope import EventFactory, FaultEvent
from shop_streams import EventProcessor, FailureKind, FailurePolicy, PermanentError
from shop_testkit import FakePublisher, kinesis_event
from shop_testkit.examples import OrderPlaced, order_placed


class StockRuleBroken(Exception):
    """A domain error the service below declares permanent."""


class NotYet(Exception):
    """A "not yet" (a commit before its reservation): nobody declares it permanent."""


class OrderGone(PermanentError):
    """A handler error that says itself that it is permanent."""


def raising(error: BaseException) -> Callable[[OrderPlaced], None]:
    def handler(event: OrderPlaced) -> None:
        raise error

    return handler


def throttled() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
        "TransactWriteItems",
    )


def invalid_payload() -> str:
    event = json.loads(order_placed("o-1").to_json())
    event["order"]["lines"] = "not a list"
    return json.dumps(event)


def unknown_type() -> str:
    return json.dumps(json.loads(order_placed("o-1").to_json()) | {"type": "order-shipped"})


def process(data: Any, handler: Callable[[OrderPlaced], None]) -> tuple[dict[str, Any], list[Any]]:
    faults = FakePublisher()
    processor = EventProcessor(
        events=EventFactory(source="inventory"),
        publisher=faults,
        unknown_types="fault",
        permanent_errors=(StockRuleBroken,),
    )
    processor.on(OrderPlaced)(handler)
    response = processor.process(kinesis_event(data))
    return response, faults.of_type(FaultEvent)


def ok(event: OrderPlaced) -> None:
    return None


@pytest.mark.parametrize(
    ("data", "handler", "error_type"),
    [
        pytest.param(b"{not json", ok, "InvalidEnvelope", id="not-an-envelope"),
        pytest.param(invalid_payload(), ok, "InvalidEvent", id="invalid-payload"),
        pytest.param(unknown_type(), ok, "UnknownEventType", id="type-the-filter-should-stop"),
        pytest.param(
            order_placed("o-1"), raising(StockRuleBroken("held")), "StockRuleBroken", id="declared"
        ),
        pytest.param(order_placed("o-1"), raising(OrderGone("gone")), "OrderGone", id="marked"),
    ],
)
def test_a_permanent_failure_is_handled_with_one_fault(
    data: Any, handler: Callable[[OrderPlaced], None], error_type: str
) -> None:
    response, faults = process(data, handler)

    assert response == {"batchItemFailures": []}
    assert [fault.fault.error_type for fault in faults] == [error_type]


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(throttled(), id="throttling"),
        pytest.param(TimeoutError("read timed out"), id="timeout"),
        pytest.param(NotYet("no reservation yet"), id="not-yet"),
        pytest.param(KeyError("bug"), id="a-bug-a-redeploy-fixes"),
    ],
)
def test_a_transient_failure_is_a_batch_item_failure_without_a_fault(error: Exception) -> None:
    batch = kinesis_event(order_placed("o-1"))

    faults = FakePublisher()
    processor = EventProcessor(
        events=EventFactory(source="inventory"),
        publisher=faults,
        permanent_errors=(StockRuleBroken,),
    )
    processor.on(OrderPlaced)(raising(error))
    response = processor.process(batch)

    sequence = batch["Records"][0]["kinesis"]["sequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence}]}
    assert faults.published == []


def test_the_policy_decides_by_stage_and_declaration() -> None:
    policy = FailurePolicy([StockRuleBroken])

    assert policy.of_reading(ValueError("garbled")) is FailureKind.PERMANENT
    assert policy.of_handling(StockRuleBroken()) is FailureKind.PERMANENT
    assert policy.of_handling(OrderGone()) is FailureKind.PERMANENT
    assert policy.of_handling(NotYet()) is FailureKind.TRANSIENT
    assert FailurePolicy().of_handling(StockRuleBroken()) is FailureKind.TRANSIENT
