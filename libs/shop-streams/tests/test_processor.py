import base64
import json
import logging
from typing import Any

import pytest
from shop_envelope import Envelope, EventFactory, FaultEvent
from shop_streams import EventProcessor, RecordFailed, UnsupportedEvent
from shop_testkit import (
    FakePublisher,
    dynamodb_stream_event,
    eventbridge_event,
    insert,
    kinesis_event,
    sqs_event,
)
from shop_testkit.examples import OrderCancelled, OrderPlaced, order_placed

SERVICE = "inventory"


class CannotReserve(Exception):
    """A domain rule the event breaks: the listener below declares it permanent."""


class Reserver:
    """A handler that records what it saw and can be made to fail for one order: transiently
    (a RuntimeError, as a timeout would be) or, with `permanently`, with a declared domain error."""

    def __init__(self, fail_for: str | None = None, *, permanently: bool = False) -> None:
        self.fail_for = fail_for
        self.permanently = permanently
        self.reserved: list[str] = []

    def __call__(self, event: OrderPlaced) -> None:
        if event.order.id == self.fail_for:
            error = CannotReserve if self.permanently else RuntimeError
            raise error(f"cannot reserve {event.order.id}")
        self.reserved.append(event.order.id)


@pytest.fixture
def faults() -> FakePublisher:
    return FakePublisher()


def listener(faults: FakePublisher, reserver: Reserver, **options: Any) -> EventProcessor:
    processor = EventProcessor(
        events=EventFactory(source=SERVICE, function_name="inventory-test-listener"),
        publisher=faults,
        permanent_errors=(CannotReserve,),
        **options,
    )
    processor.on(OrderPlaced)(reserver)
    return processor


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


def test_a_record_that_can_never_succeed_is_parked_once_and_the_shard_moves_on(
    faults: FakePublisher,
) -> None:
    # Given a Kinesis batch of 100 order-placed events, the 38th of which breaks a domain rule
    reserver = Reserver(fail_for="o-37", permanently=True)
    batch = kinesis_event(*(order_placed(f"o-{i}") for i in range(100)))

    # When the listener processes it
    response = listener(faults, reserver).process(batch)

    # Then no record is left for the stream to retry
    assert response == {"batchItemFailures": []}
    # and the other 99 were handled, in order
    assert reserver.reserved == [f"o-{i}" for i in range(100) if i != 37]
    # and one fault event carries the record exactly as delivered, with the error
    poison = batch["Records"][37]
    [fault] = faults.of_type(FaultEvent)
    assert fault.fault.record == poison
    assert fault.fault.attempts == 1
    assert (fault.fault.error_type, fault.fault.message) == ("CannotReserve", "cannot reserve o-37")
    assert (fault.fault.event_type, fault.fault.event_id) == (
        "order-placed",
        order_placed("o-37").id,
    )
    assert fault.partition_key == "o-37"
    assert fault.correlation_id == "o-37"
    assert fault.tags.source == SERVICE
    assert "CannotReserve" in (fault.fault.stack or "")


def test_a_transient_failure_is_left_to_the_source_and_parks_nothing(
    faults: FakePublisher,
) -> None:
    # Given a batch of 100 whose 38th record fails with an error no one declared permanent
    reserver = Reserver(fail_for="o-37")
    batch = kinesis_event(*(order_placed(f"o-{i}") for i in range(100)))

    # When the listener processes it
    response = listener(faults, reserver).process(batch)

    # Then the partial batch response names only that record, for the stream to retry
    poison = batch["Records"][37]
    assert response == {
        "batchItemFailures": [{"itemIdentifier": poison["kinesis"]["sequenceNumber"]}]
    }
    assert reserver.reserved == [f"o-{i}" for i in range(100) if i != 37]
    # and no fault is published for the attempt: the retries may yet succeed
    assert faults.published == []


def test_a_payload_that_fails_validation_is_a_fault_not_a_crash(faults: FakePublisher) -> None:
    # Given a batch whose middle event has a quantity of zero
    invalid = json.loads(order_placed("o-2").to_json())
    invalid["order"]["lines"][0]["quantity"] = 0
    batch = kinesis_event(order_placed("o-1"), json.dumps(invalid), order_placed("o-3"))
    reserver = Reserver()

    # When it is processed
    response = listener(faults, reserver).process(batch)

    # Then the invalid one is a typed validation fault, parked, and the others are handled
    assert response["batchItemFailures"] == []
    assert reserver.reserved == ["o-1", "o-3"]
    [fault] = faults.of_type(FaultEvent)
    assert fault.fault.error_type == "InvalidEvent"
    assert "order.lines.0.quantity" in fault.fault.message
    # its envelope was valid, so the fault names the event and is keyed on its order
    assert (fault.fault.event_type, fault.fault.event_id) == ("order-placed", invalid["id"])
    assert fault.partition_key == fault.correlation_id == "o-2"


@pytest.mark.parametrize(
    ("data", "error_type"),
    [
        (b"not json at all", "InvalidEnvelope"),
        (b'{"id": "1", "type": "order-placed"}', "InvalidEnvelope"),
        (b"\xff\xfe", "InvalidEnvelope"),
    ],
)
def test_records_that_are_not_events_are_faults(
    faults: FakePublisher, data: bytes, error_type: str
) -> None:
    batch = kinesis_event(data, order_placed("o-1"))

    response = listener(faults, Reserver()).process(batch)

    assert response["batchItemFailures"] == []
    assert [f.fault.error_type for f in faults.of_type(FaultEvent)] == [error_type]


def test_a_record_whose_data_is_not_base64_is_a_fault(faults: FakePublisher) -> None:
    batch = kinesis_event(order_placed("o-1"), order_placed("o-2"))
    batch["Records"][0]["kinesis"]["data"] = "%%% not base64"

    response = listener(faults, Reserver()).process(batch)

    assert response["batchItemFailures"] == []
    assert faults.of_type(FaultEvent)[0].fault.error_type == "Error"


def test_events_this_service_produced_are_skipped(faults: FakePublisher) -> None:
    reserver = Reserver()
    batch = kinesis_event(order_placed("o-1", source=SERVICE), order_placed("o-2"))

    response = listener(faults, reserver).process(batch)

    assert response == {"batchItemFailures": []}
    assert reserver.reserved == ["o-2"]


def test_types_without_a_handler_are_skipped_by_default(faults: FakePublisher) -> None:
    cancelled = json.loads(order_placed("o-1").to_json()) | {"type": "order-shipped"}
    reserver = Reserver()

    response = listener(faults, reserver).process(
        kinesis_event(json.dumps(cancelled), order_placed("o-2"))
    )

    assert response == {"batchItemFailures": []}
    assert reserver.reserved == ["o-2"]
    assert faults.published == []


def test_types_without_a_handler_can_be_faults(faults: FakePublisher) -> None:
    # Given a listener whose subscription filter should only ever let order-placed through
    shipped = json.loads(order_placed("o-1").to_json()) | {"type": "order-shipped"}
    own_shipped = shipped | {"tags": {"source": SERVICE}}
    batch = kinesis_event(json.dumps(shipped), json.dumps(own_shipped))

    # When an order-shipped event arrives anyway
    response = listener(faults, Reserver(), unknown_types="fault").process(batch)

    # Then it is parked as a fault, and still an own event is merely skipped
    assert response["batchItemFailures"] == []
    [fault] = faults.of_type(FaultEvent)
    assert (fault.fault.error_type, fault.fault.event_type) == ("UnknownEventType", "order-shipped")


def test_events_are_routed_by_type(faults: FakePublisher) -> None:
    seen: list[tuple[str, str]] = []
    processor = EventProcessor(events=EventFactory(source=SERVICE), publisher=faults)
    processor.on(OrderPlaced)(lambda e: seen.append(("placed", e.order.id)))
    processor.on(OrderCancelled)(lambda e: seen.append(("cancelled", e.order.id)))
    cancelled = json.loads(order_placed("o-1").to_json()) | {"type": "order-cancelled"}

    processor.process(kinesis_event(order_placed("o-1"), json.dumps(cancelled)))

    assert seen == [("placed", "o-1"), ("cancelled", "o-1")]
    assert processor.event_types == {"order-placed", "order-cancelled"}


def test_the_same_record_failing_again_gives_the_same_fault_id(faults: FakePublisher) -> None:
    batch = kinesis_event(order_placed("o-1"))
    processor = listener(faults, Reserver(fail_for="o-1", permanently=True))

    processor.process(batch)
    processor.process(batch)

    first, second = faults.of_type(FaultEvent)
    assert first.id == second.id


def test_a_fault_that_cannot_be_published_still_leaves_the_record_failed(
    faults: FakePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the bus refuses the fault event
    faults.fail(lambda event: event.type == "fault")
    batch = kinesis_event(order_placed("o-1"), order_placed("o-2"))

    # When a record fails permanently
    with caplog.at_level(logging.ERROR):
        response = listener(faults, Reserver(fail_for="o-1", permanently=True)).process(batch)

    # Then it is reported instead, so the stream retries it: nothing is lost
    assert response["batchItemFailures"] == [{"itemIdentifier": sequence_numbers(batch)[0]}]
    assert "events not published" in caplog.text


def test_a_fault_record_can_be_resubmitted_as_it_was(faults: FakePublisher) -> None:
    # Given a record that failed while the handler was broken
    broken = Reserver(fail_for="o-1", permanently=True)
    listener(faults, broken).process(kinesis_event(order_placed("o-1")))
    [fault] = faults.of_type(FaultEvent)

    # When the parked record is resubmitted to a fixed handler
    fixed = Reserver()
    response = listener(FakePublisher(), fixed).process({"Records": [fault.fault.record]})

    # Then it is handled
    assert response == {"batchItemFailures": []}
    assert fixed.reserved == ["o-1"]


def test_sqs_messages_may_be_bare_envelopes_or_eventbridge_events(faults: FakePublisher) -> None:
    reserver = Reserver()
    batch = sqs_event(
        order_placed("o-1"), json.dumps(eventbridge_event(order_placed("o-2"))), "not json", "[1]"
    )

    response = listener(faults, reserver).process(batch)

    assert reserver.reserved == ["o-1", "o-2"]
    # the two messages that are not events are parked, not returned to the queue
    assert response == {"batchItemFailures": []}
    ids = [record["messageId"] for record in batch["Records"]]
    assert [f.fault.record_id for f in faults.of_type(FaultEvent)] == ids[2:]


def test_a_fifo_queue_stops_at_the_first_failure_to_keep_order(faults: FakePublisher) -> None:
    # Given a FIFO batch whose second message fails
    reserver = Reserver(fail_for="o-2")
    batch = sqs_event(*(order_placed(f"o-{i}") for i in (1, 2, 3, 4)), queue_name="orders.fifo")

    # When it is processed
    response = listener(faults, reserver).process(batch)

    # Then nothing behind the failure was handled, and all of it is returned to the queue
    ids = [record["messageId"] for record in batch["Records"]]
    assert reserver.reserved == ["o-1"]
    assert response == {"batchItemFailures": [{"itemIdentifier": i} for i in ids[1:]]}
    assert faults.published == []


def test_a_fifo_queue_moves_past_a_message_parked_before_the_next_is_handled(
    faults: FakePublisher,
) -> None:
    # Given a FIFO batch whose second message can never succeed, and a bus that takes faults
    reserver = Reserver(fail_for="o-2", permanently=True)
    batch = sqs_event(*(order_placed(f"o-{i}") for i in (1, 2, 3, 4)), queue_name="orders.fifo")

    # When it is processed
    response = listener(faults, reserver).process(batch)

    # Then the second is parked, and the order goes on behind it
    assert response == {"batchItemFailures": []}
    assert reserver.reserved == ["o-1", "o-3", "o-4"]
    assert [f.fault.event_id for f in faults.of_type(FaultEvent)] == [order_placed("o-2").id]


def test_a_fifo_queue_stops_at_a_message_whose_fault_was_not_published(
    faults: FakePublisher,
) -> None:
    faults.fail(lambda event: event.type == "fault")
    reserver = Reserver(fail_for="o-2", permanently=True)
    batch = sqs_event(*(order_placed(f"o-{i}") for i in (1, 2, 3)), queue_name="orders.fifo")

    response = listener(faults, reserver).process(batch)

    ids = [record["messageId"] for record in batch["Records"]]
    assert response == {"batchItemFailures": [{"itemIdentifier": i} for i in ids[1:]]}
    assert reserver.reserved == ["o-1"]


def test_an_eventbridge_event_is_handled_once(faults: FakePublisher) -> None:
    reserver = Reserver()

    response = listener(faults, reserver).process(eventbridge_event(order_placed("o-1")))

    assert response == {"batchItemFailures": []}

    assert reserver.reserved == ["o-1"]


def test_a_transient_eventbridge_failure_raises_for_lambda_to_retry(
    faults: FakePublisher,
) -> None:
    with pytest.raises(RecordFailed, match="cannot reserve o-1") as raised:
        listener(faults, Reserver(fail_for="o-1")).process(eventbridge_event(order_placed("o-1")))

    assert isinstance(raised.value.__cause__, RuntimeError)
    assert faults.published == []


def test_a_permanent_eventbridge_failure_is_parked_and_not_retried(
    faults: FakePublisher,
) -> None:
    event = eventbridge_event(order_placed("o-1"))

    response = listener(faults, Reserver(fail_for="o-1", permanently=True)).process(event)

    assert response == {"batchItemFailures": []}
    assert [f.fault.event_source for f in faults.of_type(FaultEvent)] == ["aws:events"]


def test_a_permanent_eventbridge_failure_whose_fault_is_not_published_raises(
    faults: FakePublisher,
) -> None:
    faults.fail(lambda event: event.type == "fault")
    reserver = Reserver(fail_for="o-1", permanently=True)

    with pytest.raises(RecordFailed, match="cannot reserve o-1"):
        listener(faults, reserver).process(eventbridge_event(order_placed("o-1")))


def test_the_on_event_hook_sees_each_event_before_its_handler(faults: FakePublisher) -> None:
    order: list[str] = []
    reserver = Reserver()
    processor = EventProcessor(
        events=EventFactory(source=SERVICE),
        publisher=faults,
        on_event=lambda e: order.append(e.correlation_id),
    )
    processor.on(OrderPlaced)(lambda e: order.append(f"handled {e.order.id}"))

    processor.process(kinesis_event(order_placed("o-1"), order_placed("o-2")))

    assert order == ["o-1", "handled o-1", "o-2", "handled o-2"]
    assert reserver.reserved == []


def test_misuse_is_refused_clearly(faults: FakePublisher) -> None:
    empty = EventProcessor(events=EventFactory(source=SERVICE), publisher=faults)
    with pytest.raises(LookupError, match="no handlers"):
        empty.process(kinesis_event(order_placed()))

    processor = listener(faults, Reserver())
    with pytest.raises(ValueError, match="already has a handler"):
        processor.on(OrderPlaced)(Reserver())
    with pytest.raises(TypeError, match="ChangeDataCapture"):
        processor.process(dynamodb_stream_event(insert({"pk": "a", "sk": "b"})))
    with pytest.raises(UnsupportedEvent, match="top-level keys"):
        processor.process({"hello": "world"})
    assert processor.process({"Records": []}) == {"batchItemFailures": []}


def test_kinesis_data_is_the_bare_envelope() -> None:
    # The event hub's rule puts `$.detail` on the stream: a record's data is the envelope itself.
    record = kinesis_event(order_placed("o-1"))["Records"][0]
    assert (
        Envelope.model_validate_json(base64.b64decode(record["kinesis"]["data"])).id
        == order_placed("o-1").id
    )
