"""The graphql function's rules: the schema, its limits and its error codes, over the model.

Introspection is on where developers explore the API (the `local` and `dev` stages) and off
everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shop_sealing import Sealer

from order_bff.api import GraphQLApi
from order_bff.errors import CodedErrors
from order_bff.model import Shop
from order_bff.schema import RequestContext, schema

INTROSPECTION_STAGES = frozenset({"local", "dev"})


def build(
    shop: Shop,
    *,
    sealer: Sealer,
    stage: str,
    on_request: Callable[[Mapping[str, Any]], None] | None = None,
) -> GraphQLApi:
    return GraphQLApi(
        schema(introspection=stage in INTROSPECTION_STAGES, masking=CodedErrors),
        context_for=lambda customer_id: RequestContext(shop, customer_id, sealer),
        on_request=on_request,
    )
