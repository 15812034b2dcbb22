"""The safety net: a reservation nobody settled is released once DynamoDB's TTL deletes its timer."""

from typing import TYPE_CHECKING, Any

import pytest
from inventory import bootstrap
from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.domain import (
    Line,
    Money,
    Product,
    ReleaseReason,
    ReservationStatus,
    StockLevel,
    new_reservation,
)
from inventory.model import Inventory
from inventory.settings import ExpirySettings
from inventory.table import expiry_item, expiry_key
from shop_envelope import FaultEvent
from shop_streams import ChangeDataCapture
from shop_testkit import FakePublisher, dynamodb_stream_event, remove

if TYPE_CHECKING:
    from conftest import SettingsFor
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def inventory(dynamodb: "DynamoDBClient") -> Inventory:
    inventory = Inventory(DynamoDBStockLedger("inventory-test", client=dynamodb))
    inventory.list_product(Product("MUG", "Mug", Money(1200, "EUR")), initial_stock=5)
    return inventory


@pytest.fixture
def faults() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def expiry(
    inventory: Inventory, faults: FakePublisher, settings_for: "SettingsFor"
) -> ChangeDataCapture:
    return bootstrap.expiry(
        settings_for(ExpirySettings, "expiry"), ledger=inventory.ledger, publisher=faults
    )


def timer_expired(inventory: Inventory, order_id: str) -> dict[str, Any]:
    """The stream record DynamoDB writes when TTL deletes the order's expiry timer."""
    reservation = inventory.ledger.reservation(order_id)
    assert reservation is not None
    item = expiry_item(reservation)
    return dynamodb_stream_event(remove(item, expired_by_ttl=True))


def test_an_expired_timer_releases_its_reservation(
    inventory: Inventory, expiry: ChangeDataCapture
) -> None:
    # Given a reservation that was neither committed nor released
    inventory.reserve("order-1", [Line("MUG", 2)])

    # When DynamoDB's TTL deletes its timer
    response = expiry.process(timer_expired(inventory, "order-1"))

    # Then its units are back and the reservation says why
    assert response == {"batchItemFailures": []}
    assert inventory.ledger.stock("MUG") == StockLevel("MUG", 5, 0)
    released = inventory.ledger.reservation("order-1")
    assert released is not None
    assert (released.status, released.reason) == (
        ReservationStatus.RELEASED,
        ReleaseReason.RESERVATION_EXPIRED,
    )


def test_settling_deletes_the_timer_so_a_settled_reservation_never_expires(
    inventory: Inventory, dynamodb: "DynamoDBClient", expiry: ChangeDataCapture
) -> None:
    inventory.reserve("order-1", [Line("MUG", 2)])
    assert dynamodb.get_item(TableName="inventory-test", Key=_key("order-1")).get("Item")

    inventory.commit("order-1")

    assert "Item" not in dynamodb.get_item(TableName="inventory-test", Key=_key("order-1"))
    # and were an expiry to arrive all the same (TTL deleted it first), it would change nothing
    expiry.process(timer_expired(inventory, "order-1"))
    assert inventory.ledger.stock("MUG") == StockLevel("MUG", 3, 0)


def test_a_timer_deleted_by_a_caller_releases_nothing(
    inventory: Inventory, expiry: ChangeDataCapture
) -> None:
    inventory.reserve("order-1", [Line("MUG", 2)])
    reservation = inventory.ledger.reservation("order-1")
    assert reservation is not None

    expiry.process(dynamodb_stream_event(remove(expiry_item(reservation))))

    assert inventory.ledger.stock("MUG") == StockLevel("MUG", 5, 2)


def test_an_expiry_that_cannot_be_applied_now_is_retried_and_parks_nothing(
    dynamodb: "DynamoDBClient", faults: FakePublisher, settings_for: "SettingsFor"
) -> None:
    # Given a ledger whose table is gone (an outage, a wrong setting)
    expiry = bootstrap.expiry(
        settings_for(ExpirySettings, "expiry"),
        ledger=DynamoDBStockLedger("no-such-table", client=dynamodb),
        publisher=faults,
    )
    timer = expiry_item(new_reservation("order-1", [Line("MUG", 1)], expires_at=1))

    # When its timer expires
    response = expiry.process(dynamodb_stream_event(remove(timer, expired_by_ttl=True)))

    # Then the record is named for the stream to retry (until its retries run out, when the
    # unprocessed function parks it), and no fault is published for the attempt
    assert len(response["batchItemFailures"]) == 1
    assert faults.of_type(FaultEvent) == []


def _key(order_id: str) -> dict[str, Any]:
    return {name: {"S": value} for name, value in expiry_key(order_id).items()}
