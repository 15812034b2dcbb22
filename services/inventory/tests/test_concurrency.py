"""Twenty orders race for the last five units, as concurrent listener invocations would: each on
its own thread with its own connection to moto's server."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import boto3
from inventory import bootstrap
from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.domain import Line, Money, Product, ReservationStatus, StockLevel
from inventory.events import InventoryReservationFailed, InventoryReserved
from inventory.model import Inventory
from inventory.settings import TriggerSettings
from localcloud.aws import Aws
from shop_testkit import FakePublisher, TableStream

if TYPE_CHECKING:
    from conftest import SettingsFor
    from mypy_boto3_dynamodb import DynamoDBClient

ORDERS = 20
UNITS = 5


def test_twenty_orders_racing_for_five_units_reserve_exactly_five(
    aws: Aws, dynamodb: "DynamoDBClient", table_stream: TableStream, settings_for: "SettingsFor"
) -> None:
    # Given the last five units of a product
    Inventory(DynamoDBStockLedger("inventory-test", client=dynamodb)).list_product(
        Product("LAST", "The last ones", Money(500, "EUR")), initial_stock=UNITS
    )
    table_stream.read()
    start = threading.Barrier(ORDERS)

    def place(number: int) -> ReservationStatus:
        # Each racer is a function instance of its own: its own client, its own connection.
        client = boto3.session.Session().client(
            "dynamodb", endpoint_url=aws.endpoint, region_name=aws.region
        )
        ledger = DynamoDBStockLedger("inventory-test", client=client)
        start.wait()
        return Inventory(ledger).reserve(f"order-{number}", [Line("LAST", 1)]).status

    # When twenty orders for one unit each are reserved at the same moment
    with ThreadPoolExecutor(max_workers=ORDERS) as pool:
        outcomes = list(pool.map(place, range(ORDERS)))

    # Then exactly five hold a unit, fifteen failed, and the shelf says so
    assert outcomes.count(ReservationStatus.RESERVED) == UNITS
    assert outcomes.count(ReservationStatus.FAILED) == ORDERS - UNITS
    ledger = DynamoDBStockLedger("inventory-test", client=dynamodb)
    assert ledger.stock("LAST") == StockLevel("LAST", on_hand=UNITS, reserved=UNITS)

    # And the trigger tells the rest of the system exactly that
    published = FakePublisher()
    bootstrap.trigger(settings_for(TriggerSettings, "trigger"), publisher=published).process(
        table_stream.read()
    )
    assert len(published.of_type(InventoryReserved)) == UNITS
    failed = published.of_type(InventoryReservationFailed)
    assert len(failed) == ORDERS - UNITS
    assert {f.reservation.shortages[0].available for f in failed} == {0}
