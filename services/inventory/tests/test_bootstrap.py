"""The composition root as the handlers use it: settings from the environment, the real adapters
against moto's server, events from the bus read back through a rule, as the rest of the system
would see them; and each handler no more than that wiring."""

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from inventory import bootstrap
from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.domain import Line, Money, Product, StockLevel
from inventory.events import OrderPlaced, PlacedOrder
from inventory.model import DEFAULT_HOLD_SECONDS, Inventory
from inventory.settings import ExpirySettings, ListenerSettings, TriggerSettings
from inventory.table import expiry_item
from localcloud.aws import Aws
from localcloud.testing import eventually
from shop_envelope import EventFactory
from shop_envelope.settings import SettingsError
from shop_testkit import TableStream, dynamodb_stream_event, kinesis_event, remove

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


HANDLERS = Path(bootstrap.__file__).parent / "handlers"


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
    listener = bootstrap.listener(ListenerSettings.from_environment())
    listener_response = listener.process(kinesis_event(placed))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "inventory-test-trigger")
    trigger = bootstrap.trigger(TriggerSettings.from_environment())
    trigger_response = trigger.process(table_stream.read())

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

    expiry = bootstrap.expiry(ExpirySettings.from_environment())
    response = expiry.process(
        dynamodb_stream_event(remove(expiry_item(reservation), expired_by_ttl=True))
    )

    assert response == {"batchItemFailures": []}
    assert inventory.ledger.stock("MUG") == StockLevel("MUG", 5, 0)


def test_a_missing_setting_fails_the_cold_start_naming_it() -> None:
    with pytest.raises(SettingsError, match="TABLE_NAME: Field required"):
        ListenerSettings.from_environment(
            {"POWERTOOLS_SERVICE_NAME": "inventory", "STAGE": "test", "BUS_NAME": BUS}
        )


def test_settings_are_validated_and_default_once() -> None:
    identity = {"POWERTOOLS_SERVICE_NAME": "inventory", "STAGE": "t", "BUS_NAME": "b"}
    with pytest.raises(SettingsError, match="RESERVATION_HOLD_SECONDS"):
        ListenerSettings.from_environment(
            identity | {"TABLE_NAME": "x", "RESERVATION_HOLD_SECONDS": "soon"}
        )
    settings = ListenerSettings.from_environment(
        identity | {"TABLE_NAME": "x", "AWS_LAMBDA_FUNCTION_NAME": "f"}
    )
    assert settings.reservation_hold_seconds == DEFAULT_HOLD_SECONDS
    assert settings.event_factory().function_name == "f"
    assert settings.event_factory().source == "inventory"


@pytest.mark.parametrize("function", ["listener", "trigger", "expiry"])
def test_each_handler_is_only_its_wiring_through_the_composition_root(function: str) -> None:
    # A handler builds its engine once, at cold start, from its settings, and hands every event
    # to it: anything more is a rule in the wrong place.
    module = ast.parse((HANDLERS / f"{function}.py").read_text())
    statements = [s for s in module.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    docstring, built, handle = statements
    assert isinstance(docstring, ast.Expr)
    assert ast.unparse(built) == (
        f"{function} = bootstrap.{function}({function.title()}Settings.from_environment())"
    )
    assert isinstance(handle, ast.FunctionDef)
    assert handle.name == "handle"
    assert [ast.unparse(line) for line in handle.body] == [f"return {function}.process(event)"]
