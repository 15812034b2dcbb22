"""Orders placed and cancelled, orders and the catalog read, through the GraphQL API (POST /graphql)."""

from typing import Any

from shop_observability import instrumented

from order_bff import bootstrap
from order_bff.settings import GraphqlSettings

graphql = bootstrap.graphql(GraphqlSettings.from_environment())


@instrumented
def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return graphql.process(event)
