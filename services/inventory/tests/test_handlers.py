"""The handlers as Lambda loads them: settings from the environment, real clients against moto's
server, events from the bus read back through a rule, as the rest of the system would see them."""

import importlib
import json
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.adapters.items import expiry_item
from inventory.domain import Line, Money, Product, StockLevel
from inventory.events import OrderPlaced, PlacedOrder
from inventory.model import Inventory
from inventory.settings import ListenerSettings, SettingsError
from localcloud.aws import Aws
from localcloud.testing import eventually
from shop_envelope import EventFactory
from shop_testkit import LambdaContext, TableStream, dynamodb_stream_event, kinesis_event, remove

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BUS = "event-hub-test-bus"


@pytest.fixture
def bus_events(aws: Aws) -> Callable[[], list[dict[str, Any]]]:
    """Everything put on the bus, read back through a rule to a queue (moto delivers to SQS)."""
    events, sqs = aws.client("events"), aws.client("sqs")
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="everything")["QueueUrl"]
    queue_arn = aws.arn("sqs", "everything")
    events.put_rule(
        Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["inventory"]})
    )
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
    seen: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return seen

    return read


@pytest.fixture
def environment(aws: Aws, dynamodb: "DynamoDBClient", monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        **aws.environment(),
        "STAGE": "test",
        "BUS_NAME": BUS,
        "TABLE_NAME": "inventory-test",
        "POWERTOOLS_SERVICE_NAME": "inventory",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)


def load(handler: str) -> ModuleType:
    """The handler module imported afresh, as a cold start does."""
    sys.modules.pop(f"inventory.handlers.{handler}", None)
    return importlib.import_module(f"inventory.handlers.{handler}")


@pytest.fixture
def inventory(dynamodb: "DynamoDBClient") -> Inventory:
    inventory = Inventory(DynamoDBStockLedger("inventory-test", client=dynamodb))
    inventory.list_product(Product("MUG", "Mug", Money(1200, "EUR")), initial_stock=5)
    return inventory


@pytest.mark.usefixtures("environment")
def test_the_listener_reserves_and_the_trigger_publishes_to_the_bus(
    inventory: Inventory,
    table_stream: TableStream,
    bus_events: Callable[[], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an order placed, as the stream delivers it to the listener
    table_stream.read()  # the catalog's own changes are not this test's
    order = PlacedOrder.model_validate({"id": "order-1", "lines": [{"sku": "MUG", "quantity": 2}]})
    placed = EventFactory(source="order-bff").create(OrderPlaced, order, partition_key="order-1")

    # When the listener handles it, and the trigger handles the table's changes
    listener_response = load("listener").handle(
        kinesis_event(placed), LambdaContext(function_name="inventory-test-listener")
    )
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "inventory-test-trigger")
    trigger_response = load("trigger").handle(
        table_stream.read(), LambdaContext(function_name="inventory-test-trigger")
    )

    # Then the stock is held and inventory-reserved is on the bus, from the inventory
    assert listener_response == trigger_response == {"batchItemFailures": []}
    assert inventory.ledger.stock("MUG") == StockLevel("MUG", 5, 2)
    eventually(lambda: len(bus_events()) >= 2)
    on_bus = bus_events()
    assert sorted(event["detail-type"] for event in on_bus) == [
        "inventory-reserved",
        "stock-level-changed",
    ]
    reserved = next(e for e in on_bus if e["detail-type"] == "inventory-reserved")
    assert reserved["source"] == "inventory"
    assert reserved["detail"]["tags"]["functionName"] == "inventory-test-trigger"
    assert reserved["detail"]["reservation"]["orderId"] == "order-1"


@pytest.mark.usefixtures("environment")
def test_the_expiry_handler_releases_what_ttl_expired(inventory: Inventory) -> None:
    reservation = inventory.reserve("order-1", [Line("MUG", 2)])

    response = load("expiry").handle(
        dynamodb_stream_event(remove(expiry_item(reservation), expired_by_ttl=True)),
        LambdaContext(function_name="inventory-test-expiry"),
    )

    assert response == {"batchItemFailures": []}
    assert inventory.ledger.stock("MUG") == StockLevel("MUG", 5, 0)


def test_a_missing_setting_fails_the_cold_start_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("BUS_NAME", BUS)
    monkeypatch.delenv("TABLE_NAME", raising=False)

    with pytest.raises(SettingsError, match="TABLE_NAME: Field required"):
        load("listener")


def test_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="RESERVATION_HOLD_SECONDS"):
        ListenerSettings.from_environment(
            {
                "STAGE": "t",
                "BUS_NAME": "b",
                "TABLE_NAME": "x",
                "RESERVATION_HOLD_SECONDS": "soon",
            }
        )
    settings = ListenerSettings.from_environment(
        {"STAGE": "t", "BUS_NAME": "b", "TABLE_NAME": "x", "AWS_LAMBDA_FUNCTION_NAME": "f"}
    )
    assert settings.reservation_hold_seconds == 7200
    assert settings.event_factory().function_name == "f"
