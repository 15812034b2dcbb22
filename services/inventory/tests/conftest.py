"""Fixtures: the stock ledger as both adapters, a table shaped as serverless.yml makes it in moto's
server (as the local cloud runs it), and the table's stream read back as the Lambda events the
trigger and expiry functions receive. `moto_server`, `aws` and `aws_credentials` come from the
test kit's pytest plugin (shop_testkit.pytest_plugin), which also sorts the tests into tiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

import pytest
from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.adapters.memory import InMemoryStockLedger
from inventory.domain import Money, Product
from inventory.ports import StockLedger
from inventory.table import TTL_ATTRIBUTE, table_definition
from localcloud.aws import Aws
from shop_envelope.settings import FunctionSettings
from shop_testkit import TableStream

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-west-1"
TABLE = "inventory-test"


def create_table(client: DynamoDBClient, name: str = TABLE) -> None:
    client.create_table(**table_definition(name))
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


@pytest.fixture
def dynamodb(aws: Aws) -> DynamoDBClient:
    """An empty inventory table."""
    client: DynamoDBClient = aws.client("dynamodb")
    create_table(client)
    return client


# The DynamoDB ledger is asked for by name, which the tiers plugin cannot see: its mark says it.
@pytest.fixture(params=["memory", pytest.param("dynamodb", marks=pytest.mark.integration)])
def ledger(request: pytest.FixtureRequest) -> StockLedger:
    """The ledger port, once per adapter: the same test holds for both."""
    if request.param == "memory":
        return InMemoryStockLedger()
    client: DynamoDBClient = request.getfixturevalue("dynamodb")
    return DynamoDBStockLedger(TABLE, client=client)


@pytest.fixture
def table_stream(aws: Aws, dynamodb: DynamoDBClient) -> TableStream:
    """The table's stream: each `read()` returns the records written since the last, as the
    Lambda event a function mapped to the stream receives (what moto's stream holds, not typed)."""
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return TableStream(aws.client("dynamodbstreams"), arn, region=REGION)


StockUp = Callable[..., None]


@pytest.fixture
def stock_up() -> StockUp:
    """`stock_up(ledger, SKU_1=5, SKU_2=0)`: products listed with that many units on hand
    (underscores in the keyword are dashes in the sku)."""

    def list_products(ledger: StockLedger, **units: int) -> None:
        for name, on_hand in units.items():
            sku = name.replace("_", "-")
            ledger.list_product(
                Product(sku, f"Product {sku}", Money(1999, "EUR")), initial_stock=on_hand
            )

    return list_products


S = TypeVar("S", bound=FunctionSettings)


class SettingsFor(Protocol):
    def __call__(self, settings_class: type[S], function: str, **environment: str) -> S: ...


@pytest.fixture
def settings_for() -> SettingsFor:
    """`settings_for(ListenerSettings, "listener")`: a function's settings as its stack sets them
    for stage `test` (the service's identity, its bus and table), `environment` on top."""

    def settings(settings_class: type[S], function: str, **environment: str) -> S:
        return settings_class.from_environment(
            {
                "POWERTOOLS_SERVICE_NAME": "inventory",
                "STAGE": "test",
                "AWS_REGION": REGION,
                "AWS_LAMBDA_FUNCTION_NAME": f"inventory-test-{function}",
                "BUS_NAME": "event-hub-test-bus",
                "TABLE_NAME": TABLE,
                **environment,
            }
        )

    return settings
