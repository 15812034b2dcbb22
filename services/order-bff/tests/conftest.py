"""Fixtures: the view store as both adapters, a table shaped as serverless.yml makes it in moto's
server, the model over it, the GraphQL API driven through real-shaped API Gateway events, and
the sealing of the payment's client secret. `moto_server`, `aws` and `aws_credentials` come from
the test kit's pytest plugin, which also sorts the tests into tiers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest
from localcloud.aws import Aws
from order_bff.adapters.dynamodb import DynamoDBViewStore
from order_bff.adapters.memory import InMemoryViewStore
from order_bff.api import GraphQLApi
from order_bff.domain import Money
from order_bff.model import Shop
from order_bff.ports import ViewStore
from order_bff.rules import graphql as graphql_rules
from order_bff.table import table_definition
from shop_envelope.settings import FunctionSettings
from shop_sealing import InMemorySealer
from shop_testkit import TableStream, http_api_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-west-1"
TABLE = "order-bff-test"
CLOCK_MS = 1_800_000_000_000


@pytest.fixture
def dynamodb(aws: Aws) -> DynamoDBClient:
    """An empty order-bff table."""
    client: DynamoDBClient = aws.client("dynamodb")
    client.create_table(**table_definition(TABLE))
    return client


@pytest.fixture(params=["memory", pytest.param("dynamodb", marks=pytest.mark.integration)])
def views(request: pytest.FixtureRequest) -> ViewStore:
    """The view store port, once per adapter: the same test holds for both."""
    if request.param == "memory":
        return InMemoryViewStore()
    client: DynamoDBClient = request.getfixturevalue("dynamodb")
    return DynamoDBViewStore(TABLE, client=client)


@pytest.fixture
def table_stream(aws: Aws, dynamodb: DynamoDBClient) -> TableStream:
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return TableStream(aws.client("dynamodbstreams"), arn, region=REGION)


class Clock:
    """A clock the test moves: one millisecond per reading, so every write has its own time."""

    def __init__(self, start: int = CLOCK_MS) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now


def list_products(shop: Shop, **prices: int) -> None:
    """`list_products(shop, MUG=1200)`: products in the catalog view as the inventory reports them,
    each with 10 available (underscores in the keyword are dashes in the sku)."""
    for name, amount in prices.items():
        sku = name.replace("_", "-")
        shop.product_updated(sku, f"Product {sku}", Money(amount, "EUR"), version=1)
        shop.stock_changed(sku, 10, version=1)


@pytest.fixture
def dynamodb_shop(dynamodb: DynamoDBClient) -> Shop:
    """The model over the table in moto, with a mug and a kettle in its catalog."""
    shop = Shop(DynamoDBViewStore(TABLE, client=dynamodb), clock=Clock())
    list_products(shop, MUG=1200, KETTLE=6900)
    return shop


@pytest.fixture
def memory_shop() -> Shop:
    """The model over an in-memory store, with a mug and a kettle in its catalog."""
    shop = Shop(InMemoryViewStore(), clock=Clock())
    list_products(shop, MUG=1200, KETTLE=6900)
    return shop


@pytest.fixture
def sealer() -> InMemorySealer:
    return InMemorySealer()


class Ask(Protocol):
    def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        customer: str | None = "customer-a",
        status: int = 200,
    ) -> dict[str, Any]: ...


def asker(api: GraphQLApi) -> Ask:
    def ask(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        customer: str | None = "customer-a",
        status: int = 200,
    ) -> dict[str, Any]:
        # As API Gateway delivers it once its JWT authorizer has accepted the token.
        claims = {"sub": customer, "aud": "localcloud"} if customer is not None else None
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        event = http_api_event("POST", "/graphql", body=body, jwt_claims=claims)
        response = api.process(event)
        assert response["statusCode"] == status, response
        assert response["headers"]["content-type"] == "application/json"
        document: dict[str, Any] = json.loads(response["body"])
        return document

    return ask


@pytest.fixture
def api_for(memory_shop: Shop, sealer: InMemorySealer) -> Callable[[str], Ask]:
    """`api_for(stage)`: the `ask` of the API as that stage builds it."""
    return lambda stage: asker(graphql_rules.build(memory_shop, sealer=sealer, stage=stage))


@pytest.fixture
def api(memory_shop: Shop, sealer: InMemorySealer) -> GraphQLApi:
    return graphql_rules.build(memory_shop, sealer=sealer, stage="test")


@pytest.fixture
def ask(api: GraphQLApi) -> Ask:
    """`ask(query, variables, customer=...)`: the response document of one GraphQL request."""
    return asker(api)


S = TypeVar("S", bound=FunctionSettings)


class SettingsFor(Protocol):
    def __call__(self, settings_class: type[S], function: str, **environment: str) -> S: ...


@pytest.fixture
def settings_for() -> SettingsFor:
    def settings(settings_class: type[S], function: str, **environment: str) -> S:
        return settings_class.from_environment(
            {
                "POWERTOOLS_SERVICE_NAME": "order-bff",
                "STAGE": "test",
                "AWS_REGION": REGION,
                "AWS_LAMBDA_FUNCTION_NAME": f"order-bff-test-{function}",
                "BUS_NAME": "event-hub-test-bus",
                "TABLE_NAME": TABLE,
                "SEALING_KEY_ID": "alias/sealing",
                **environment,
            }
        )

    return settings
