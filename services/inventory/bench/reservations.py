"""Reservations per second: a 1,000-record Kinesis batch of order-placed events through the
listener, its ledger writing to moto's server (as in the local cloud), against the least a
reservation could cost there: one PutItem per order on the same server.

Each order holds one to three products, so each reservation is one transaction of three to five
items. The ratio says what the listener, its validation and its all-or-nothing transaction cost
over a plain write; the figure in reservations/s says how fast the local cloud drains a backlog.
"""

import time

from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.domain import Money, Product
from inventory.events import OrderPlaced, PlacedOrder
from inventory.model import Inventory
from inventory.rules import listener as listener_rules
from inventory.table import table_definition
from localcloud.aws import Aws
from localcloud.moto import MotoServer
from shop_bench import Comparison, report
from shop_envelope import EventFactory
from shop_testkit import FakePublisher, kinesis_event

RECORDS = 1_000
PRODUCTS = [f"SKU-{n:02}" for n in range(20)]
bff = EventFactory(source="order-bff")


def batch(prefix: str) -> dict:
    events = []
    for number in range(RECORDS):
        lines = [
            {"sku": PRODUCTS[(number + offset * 7) % len(PRODUCTS)], "quantity": 1 + offset}
            for offset in range(1 + number % 3)
        ]
        order_id = f"{prefix}-{number}"
        order = PlacedOrder.model_validate({"id": order_id, "lines": lines})
        events.append(bff.create(OrderPlaced, order, partition_key=order_id))
    return kinesis_event(*events)


with MotoServer() as server:
    aws = Aws(server.url)
    dynamodb = aws.client("dynamodb")
    for table in ("reservations", "plain-writes"):
        dynamodb.create_table(**table_definition(table))
    inventory = Inventory(DynamoDBStockLedger("reservations", client=dynamodb))
    for sku in PRODUCTS:
        inventory.list_product(Product(sku, sku, Money(100, "EUR")), initial_stock=1_000_000)
    listener = listener_rules.build(
        inventory, events=EventFactory(source="inventory"), publisher=FakePublisher()
    )
    orders = batch("order")

    started = time.perf_counter()
    response = listener.process(orders)
    reserving = time.perf_counter() - started
    assert response == {"batchItemFailures": []}, response

    started = time.perf_counter()
    for number in range(RECORDS):
        dynamodb.put_item(
            TableName="plain-writes",
            Item={"pk": {"S": f"ORDER#{number}"}, "sk": {"S": "ORDER"}},
        )
    writing = time.perf_counter() - started

print(
    report(
        "inventory: reserving a 1,000-record batch against moto's server",
        [
            Comparison(
                "per reservation, listener + transaction vs one PutItem",
                reserving / RECORDS,
                writing / RECORDS,
                unit="ms",
                scale=1e3,
            )
        ],
    )
)
print(f"  {RECORDS / reserving:.0f} reservations/s ({RECORDS / writing:.0f} plain writes/s)")
