"""The listener: order events from the stream, as Kinesis delivers them, move the stock."""

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import pytest
from inventory import bootstrap
from inventory.adapters.memory import InMemoryStockLedger
from inventory.domain import ReleaseReason, ReservationStatus, StockLevel
from inventory.events import (
    OrderCancelled,
    OrderExpired,
    OrderFulfillmentRequested,
    OrderPlaced,
    OrderReference,
    PlacedOrder,
)
from inventory.settings import ListenerSettings
from shop_envelope import DomainEvent, EventFactory, FaultEvent, deterministic_id
from shop_streams import EventProcessor
from shop_testkit import FakePublisher, kinesis_event

if TYPE_CHECKING:
    from conftest import SettingsFor

StockUp = Callable[..., None]
bff = EventFactory(source="order-bff", stage="test")
control = EventFactory(source="fulfillment-control", stage="test")


class OrderReviewed(DomainEvent):
    """An event type no inventory handler knows."""

    type: Literal["order-reviewed"] = "order-reviewed"
    order: OrderReference


def placed(order_id: str, **lines: int) -> OrderPlaced:
    order = PlacedOrder.model_validate(
        {
            "id": order_id,
            "lines": [{"sku": sku.replace("_", "-"), "quantity": q} for sku, q in lines.items()],
        }
    )
    return bff.create(
        OrderPlaced, order, partition_key=order_id, id=deterministic_id("order-placed", order_id)
    )


def ended(event_class: type[DomainEvent], order_id: str) -> DomainEvent:
    return control.create(
        event_class,
        OrderReference(id=order_id),
        partition_key=order_id,
        id=deterministic_id(event_class.event_type, order_id),
    )


@pytest.fixture
def ledger(stock_up: StockUp) -> InMemoryStockLedger:
    ledger = InMemoryStockLedger()
    stock_up(ledger, SKU_1=5, SKU_2=2)
    return ledger


@pytest.fixture
def faults() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def listener(
    ledger: InMemoryStockLedger, faults: FakePublisher, settings_for: "SettingsFor"
) -> EventProcessor:
    return bootstrap.listener(
        settings_for(ListenerSettings, "listener"), ledger=ledger, publisher=faults
    )


def sequence_numbers(batch: dict[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in batch["Records"]]


def test_order_placed_reserves_and_its_ending_releases(
    listener: EventProcessor, ledger: InMemoryStockLedger
) -> None:
    # Given three orders placed
    listener.process(
        kinesis_event(placed("o-1", SKU_1=2), placed("o-2", SKU_1=1), placed("o-3", SKU_2=2))
    )
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 3)

    # When one is cancelled, one expires and one is to be fulfilled
    response = listener.process(
        kinesis_event(
            ended(OrderCancelled, "o-1"),
            ended(OrderExpired, "o-2"),
            ended(OrderFulfillmentRequested, "o-3"),
        )
    )

    # Then the first two gave their units back and the third took its units off the shelf
    assert response == {"batchItemFailures": []}
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 0)
    assert ledger.stock("SKU-2") == StockLevel("SKU-2", 0, 0)
    reasons = {o: ledger.reservation(o) for o in ("o-1", "o-2")}
    assert {o: r.reason for o, r in reasons.items() if r} == {
        "o-1": ReleaseReason.ORDER_CANCELLED,
        "o-2": ReleaseReason.ORDER_EXPIRED,
    }


def test_a_malformed_or_unknown_event_is_a_fault_and_the_records_behind_it_are_handled(
    listener: EventProcessor, ledger: InMemoryStockLedger, faults: FakePublisher
) -> None:
    # Given a batch with a record that is not JSON, an order-placed without lines, an event of a
    # type the listener does not know, and a good order behind each
    unknown = bff.create(OrderReviewed, OrderReference(id="o-9"), partition_key="o-9")
    no_lines = placed("o-8", SKU_1=1).model_dump(by_alias=True) | {"order": {"id": "o-8"}}
    batch = kinesis_event(
        b"{not json",
        placed("o-1", SKU_1=1),
        json.dumps(no_lines),
        placed("o-2", SKU_1=1),
        unknown,
        placed("o-3", SKU_1=1),
    )

    # When the listener processes it
    response = listener.process(batch)

    # Then the three bad records are parked as faults saying what is wrong, and not retried,
    assert response == {"batchItemFailures": []}
    errors = [fault.fault.error_type for fault in faults.of_type(FaultEvent)]
    assert errors == ["InvalidEnvelope", "InvalidEvent", "UnknownEventType"]
    assert "order.lines" in faults.of_type(FaultEvent)[1].fault.message
    # and every good order behind them was reserved
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 3)


def test_a_commit_that_comes_before_its_reservation_is_retried(
    listener: EventProcessor, ledger: InMemoryStockLedger, faults: FakePublisher
) -> None:
    # Given fulfillment requested for an order whose order-placed has not been handled yet
    early = kinesis_event(ended(OrderFulfillmentRequested, "o-1"))

    # When it is processed, Then it fails for the stream to retry, and parks nothing yet
    assert listener.process(early)["batchItemFailures"]
    assert faults.of_type(FaultEvent) == []

    # When the order is reserved and the commit is delivered again, Then it takes
    listener.process(kinesis_event(placed("o-1", SKU_1=2)))
    assert listener.process(early) == {"batchItemFailures": []}
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", 3, 0)


def test_a_commit_of_stock_that_is_not_held_is_parked_once_and_not_retried(
    listener: EventProcessor, ledger: InMemoryStockLedger, faults: FakePublisher
) -> None:
    # Given an order that was cancelled after it was reserved
    listener.process(kinesis_event(placed("o-1", SKU_1=2), ended(OrderCancelled, "o-1")))

    # When fulfillment is requested for it anyway, with a good order behind it
    response = listener.process(
        kinesis_event(ended(OrderFulfillmentRequested, "o-1"), placed("o-2", SKU_1=1))
    )

    # Then the commit is parked for a person, and the stream moves on to the next order
    assert response == {"batchItemFailures": []}
    [fault] = faults.of_type(FaultEvent)
    assert (fault.fault.error_type, fault.fault.event_type) == (
        "CannotCommit",
        "order-fulfillment-requested",
    )
    assert ledger.stock("SKU-1") == StockLevel("SKU-1", 5, 1)


def test_redelivered_events_change_nothing_twice(
    listener: EventProcessor, ledger: InMemoryStockLedger
) -> None:
    events = [placed("o-1", SKU_1=2), ended(OrderFulfillmentRequested, "o-1")]

    for _ in range(3):
        listener.process(kinesis_event(*events, *events))

    assert ledger.stock("SKU-1") == StockLevel("SKU-1", 3, 0)
    reservation = ledger.reservation("o-1")
    assert reservation is not None
    assert reservation.status is ReservationStatus.COMMITTED


def test_the_inventorys_own_events_are_skipped(
    listener: EventProcessor, ledger: InMemoryStockLedger, faults: FakePublisher
) -> None:
    own = EventFactory(source="inventory").create(
        OrderReviewed, OrderReference(id="o-1"), partition_key="o-1"
    )

    assert listener.process(kinesis_event(own)) == {"batchItemFailures": []}
    assert faults.published == []


def test_it_subscribes_to_exactly_the_order_events(listener: EventProcessor) -> None:
    assert listener.event_types == {
        "order-placed",
        "order-cancelled",
        "order-expired",
        "order-fulfillment-requested",
    }
