"""The trigger: every change of the table, read back from its stream in moto, becomes the domain
events it means, published once per fact."""

from typing import TYPE_CHECKING

import pytest
from inventory import bootstrap
from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.domain import (
    Line,
    Money,
    Product,
    ReleaseReason,
    new_reservation,
)
from inventory.events import (
    InventoryCommitted,
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    ProductUpdated,
    StockLevelChanged,
)
from inventory.model import Inventory
from inventory.settings import TriggerSettings
from inventory.table import reservation_item
from shop_envelope import FaultEvent, deterministic_id
from shop_streams import ChangeDataCapture
from shop_testkit import FakePublisher, TableStream, dynamodb_stream_event, modify

if TYPE_CHECKING:
    from conftest import SettingsFor
    from mypy_boto3_dynamodb import DynamoDBClient

CLOCK_MS = 1_800_000_000_000


@pytest.fixture
def inventory(dynamodb: "DynamoDBClient") -> Inventory:
    ledger = DynamoDBStockLedger("inventory-test", client=dynamodb, clock=lambda: CLOCK_MS)
    return Inventory(ledger, hold_seconds=600, clock=lambda: CLOCK_MS)


@pytest.fixture
def published() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def trigger(published: FakePublisher, settings_for: "SettingsFor") -> ChangeDataCapture:
    return bootstrap.trigger(settings_for(TriggerSettings, "trigger"), publisher=published)


@pytest.fixture
def mug(inventory: Inventory, table_stream: TableStream) -> str:
    """A product with 5 units, its listing already read off the stream."""
    inventory.list_product(Product("MUG", "Mug", Money(1200, "EUR")), initial_stock=5)
    table_stream.read()
    return "MUG"


def test_listing_a_product_publishes_it_and_its_stock(
    inventory: Inventory,
    table_stream: TableStream,
    trigger: ChangeDataCapture,
    published: FakePublisher,
) -> None:
    inventory.list_product(Product("MUG", "Mug", Money(1200, "EUR")), initial_stock=5)

    trigger.process(table_stream.read())

    [product] = published.of_type(ProductUpdated)
    [stock] = published.of_type(StockLevelChanged)
    assert product.product.model_dump() == {
        "sku": "MUG",
        "name": "Mug",
        "price": {"amount": 1200, "currency": "EUR"},
        "version": 1,
    }
    assert (stock.stock.on_hand, stock.stock.reserved, stock.stock.available) == (5, 0, 5)
    assert product.partition_key == stock.partition_key == "MUG"
    assert product.timestamp == CLOCK_MS, "stamped with the time of the change"


def test_catalog_changes_publish_only_what_changed(
    inventory: Inventory,
    mug: str,
    table_stream: TableStream,
    trigger: ChangeDataCapture,
    published: FakePublisher,
) -> None:
    # When the same listing is loaded again, then a new price, then a restock
    inventory.list_product(Product(mug, "Mug", Money(1200, "EUR")), initial_stock=5)
    inventory.list_product(Product(mug, "Mug", Money(1500, "EUR")), initial_stock=5)
    inventory.restock(mug, 3)
    trigger.process(table_stream.read())

    # Then a product update for the price, a stock change for the restock, and nothing else
    assert published.types == ["product-updated", "stock-level-changed"]
    assert published.of_type(ProductUpdated)[0].product.price.amount == 1500
    assert published.of_type(StockLevelChanged)[0].stock.on_hand == 8


def test_a_reservation_publishes_inventory_reserved_and_the_stock_it_took(
    inventory: Inventory,
    mug: str,
    table_stream: TableStream,
    trigger: ChangeDataCapture,
    published: FakePublisher,
) -> None:
    inventory.reserve("order-1", [Line(mug, 2)])

    response = trigger.process(table_stream.read())

    assert response == {"batchItemFailures": []}
    [reserved] = published.of_type(InventoryReserved)
    assert reserved.id == deterministic_id("inventory-reserved", "order-1")
    assert reserved.partition_key == reserved.correlation_id == "order-1"
    assert reserved.reservation.model_dump(by_alias=True) == {
        "id": deterministic_id("reservation", "order-1"),
        "orderId": "order-1",
        "lines": [{"sku": "MUG", "quantity": 2}],
        "expiresAt": CLOCK_MS // 1000 + 600,
    }
    [stock] = published.of_type(StockLevelChanged)
    assert (stock.stock.reserved, stock.stock.available, stock.stock.version) == (2, 3, 2)


def test_a_short_order_publishes_which_lines_were_short(
    inventory: Inventory,
    mug: str,
    table_stream: TableStream,
    trigger: ChangeDataCapture,
    published: FakePublisher,
) -> None:
    inventory.reserve("order-1", [Line(mug, 7), Line("TEAPOT", 1)])

    trigger.process(table_stream.read())

    [failed] = published.of_type(InventoryReservationFailed)
    assert [s.model_dump() for s in failed.reservation.shortages] == [
        {"sku": "MUG", "requested": 7, "available": 5},
        {"sku": "TEAPOT", "requested": 1, "available": 0},
    ]
    assert published.types == ["inventory-reservation-failed"], "no stock moved"


@pytest.mark.parametrize(
    ("settle", "expected"),
    [
        ("release", ["inventory-released", "stock-level-changed"]),
        ("commit", ["inventory-committed", "stock-level-changed"]),
    ],
)
def test_settling_publishes_the_outcome_and_the_stock(
    inventory: Inventory,
    mug: str,
    table_stream: TableStream,
    trigger: ChangeDataCapture,
    published: FakePublisher,
    settle: str,
    expected: list[str],
) -> None:
    inventory.reserve("order-1", [Line(mug, 2)])
    table_stream.read()

    if settle == "release":
        inventory.release("order-1", ReleaseReason.ORDER_CANCELLED)
    else:
        inventory.commit("order-1")
    trigger.process(table_stream.read())

    assert published.types == expected
    stock = published.of_type(StockLevelChanged)[0].stock
    if settle == "release":
        [released] = published.of_type(InventoryReleased)
        assert released.reservation.reason is ReleaseReason.ORDER_CANCELLED
        assert (stock.on_hand, stock.reserved) == (5, 0)
    else:
        [committed] = published.of_type(InventoryCommitted)
        assert committed.reservation.lines[0].quantity == 2
        assert (stock.on_hand, stock.reserved) == (3, 0)


def test_an_order_that_ended_before_it_was_reserved_publishes_nothing(
    inventory: Inventory,
    table_stream: TableStream,
    trigger: ChangeDataCapture,
    published: FakePublisher,
) -> None:
    inventory.release("order-1", ReleaseReason.ORDER_CANCELLED)

    trigger.process(table_stream.read())

    assert published.published == []


def test_a_write_that_changed_nothing_publishes_nothing(
    trigger: ChangeDataCapture, published: FakePublisher
) -> None:
    # Given the no-op MODIFY moto records (and DynamoDB does not) for an unchanged reservation
    item = reservation_item(
        new_reservation("order-1", [Line("MUG", 1)], expires_at=1), changed_at=1
    )

    trigger.process(dynamodb_stream_event(modify(item, item)))

    assert published.published == []


def test_a_change_whose_events_were_not_published_is_redelivered_and_publishes_the_same_events(
    inventory: Inventory,
    mug: str,
    table_stream: TableStream,
    trigger: ChangeDataCapture,
    published: FakePublisher,
) -> None:
    # Given EventBridge fails the inventory-reserved event once
    published.fail(lambda event: event.type == "inventory-reserved", times=1)
    inventory.reserve("order-1", [Line(mug, 2)])
    batch = table_stream.read()

    # When the trigger processes the change
    response = trigger.process(batch)

    # Then the reservation's record is named for redelivery
    reservation_record = next(
        r for r in batch["Records"] if r["dynamodb"]["Keys"]["sk"]["S"] == "RESERVATION"
    )
    assert response == {
        "batchItemFailures": [{"itemIdentifier": reservation_record["dynamodb"]["SequenceNumber"]}]
    }

    # When it is redelivered, Then it publishes an event with the very same id
    trigger.process(batch)
    [reserved] = published.of_type(InventoryReserved)
    assert reserved.id == deterministic_id("inventory-reserved", "order-1")


def test_an_unreadable_change_is_parked_and_the_stream_moves_on(
    trigger: ChangeDataCapture, published: FakePublisher
) -> None:
    # Given a reservation item that does not read as a reservation
    broken = {"pk": "RESERVATION#order-1", "sk": "RESERVATION", "status": "lost"}

    # When its change reaches the trigger
    response = trigger.process(dynamodb_stream_event(modify(broken, broken | {"status": "odd"})))

    # Then it is parked once, with what is wrong, and not retried
    assert response == {"batchItemFailures": []}
    [fault] = published.of_type(FaultEvent)
    assert fault.fault.error_type == "UnreadableItem"
    assert "RESERVATION#order-1" in fault.fault.message
    assert "inventory-reserved" not in published.types
