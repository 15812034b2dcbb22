"""The GraphQL API's types and resolvers (strawberry): the storefront's one synchronous door.

Resolvers are thin: each reads the request's context (the shop, the authenticated customer, the
sealer) and asks the model. Domain errors are raised as they are; `api.py` maps each to its
`extensions.code` in one place, and masks anything unexpected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from shop_sealing import Sealer
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from order_bff import domain
from order_bff.domain import CLIENT_SECRET_FIELD, RequestedLine
from order_bff.errors import is_unexpected
from order_bff.model import DEFAULT_PAGE_SIZE, Connection, Shop

# Limits on what one request may ask. The deepest query the schema allows is
# myOrders { edges { node { lines { unitPrice { amount } } } } }: depth 5, the limit.
MAX_DEPTH = 5
MAX_ALIASES = 15
MAX_TOKENS = 2000
# A storefront sends the same few query texts again and again (its order list polled every
# second): each is parsed and validated once per execution environment, not once per request.
# Bounded, so unique texts sent to grow memory only evict each other.
CACHED_DOCUMENTS = 128


@dataclass(frozen=True)
class RequestContext:
    shop: Shop
    customer_id: str
    sealer: Sealer


Info = strawberry.Info[RequestContext, None]

OrderStatus = strawberry.enum(domain.OrderStatus)
CancellationReason = strawberry.enum(domain.CancellationReason)
PaymentStatus = strawberry.enum(domain.PaymentStatus)


def _moment(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


@strawberry.type(description="An amount in the currency's minor unit (cents).")
class Money:
    amount: int
    currency: str

    @classmethod
    def of(cls, money: domain.Money) -> Money:
        return cls(amount=money.amount, currency=money.currency)


@strawberry.type
class Product:
    sku: strawberry.ID
    name: str
    price: Money
    available: int = strawberry.field(description="The stock the inventory last reported.")

    @classmethod
    def of(cls, product: domain.Product) -> Product:
        assert product.name is not None
        assert product.price is not None
        return cls(
            sku=strawberry.ID(product.sku),
            name=product.name,
            price=Money.of(product.price),
            available=product.available,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo


@strawberry.type
class OrderLine:
    sku: strawberry.ID
    name: str
    quantity: int
    unit_price: Money


@strawberry.type
class Payment:
    status: PaymentStatus  # type: ignore[valid-type]
    order_id: strawberry.Private[str]
    sealed_client_secret: strawberry.Private[str | None]

    @strawberry.field(description="For Stripe.js to confirm the payment: the owner's only.")
    def client_secret(self, info: Info) -> str | None:
        # Unsealed here, at the last moment, for the owner (the order was found as theirs).
        if self.sealed_client_secret is None:
            return None
        return info.context.sealer.unseal(
            self.sealed_client_secret, field=CLIENT_SECRET_FIELD, order_id=self.order_id
        )


@strawberry.type
class HistoryEntry:
    type: str
    at: datetime


@strawberry.type
class Order:
    id: strawberry.ID
    status: OrderStatus  # type: ignore[valid-type]
    cancellation_reason: CancellationReason | None  # type: ignore[valid-type]
    lines: list[OrderLine]
    total: Money
    payment: Payment | None
    history: list[HistoryEntry]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: domain.OrderView) -> Order:
        placement = order.placement
        assert placement is not None  # the model hands out placed orders only
        payment = order.payment
        return cls(
            id=strawberry.ID(order.id),
            status=order.status,
            cancellation_reason=order.cancellation_reason,
            lines=[
                OrderLine(
                    sku=strawberry.ID(line.sku),
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=Money.of(line.unit_price),
                )
                for line in placement.lines
            ],
            total=Money.of(placement.total),
            payment=Payment(
                status=payment.status,
                order_id=order.id,
                sealed_client_secret=payment.sealed_client_secret,
            )
            if payment is not None
            else None,
            history=[HistoryEntry(type=e.type, at=_moment(e.at)) for e in order.history],
            created_at=_moment(order.created_at),
            updated_at=_moment(order.updated_at),
        )


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo


def _page_info(connection: Connection[Any]) -> PageInfo:
    return PageInfo(has_next_page=connection.has_next_page, end_cursor=connection.end_cursor)


@strawberry.input
class OrderLineInput:
    sku: strawberry.ID
    quantity: int


@strawberry.input
class PlaceOrderInput:
    lines: list[OrderLineInput]
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="The same key from the same customer returns the same order.",
    )


@strawberry.type
class PlaceOrderPayload:
    order: Order | None


@strawberry.type
class CancelOrderPayload:
    order: Order | None


First = Annotated[int, strawberry.argument(description="At most 100.")]


@strawberry.type
class Query:
    @strawberry.field
    def products(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> ProductConnection:
        connection = info.context.shop.products(first=first, after=after)
        return ProductConnection(
            edges=[ProductEdge(cursor=c, node=Product.of(p)) for c, p in connection.edges],
            page_info=_page_info(connection),
        )

    @strawberry.field
    def product(self, info: Info, sku: strawberry.ID) -> Product | None:
        product = info.context.shop.product(sku)
        return Product.of(product) if product is not None else None

    @strawberry.field(description="Null for an order that does not exist or is not yours.")
    def order(self, info: Info, id: strawberry.ID) -> Order | None:
        order = info.context.shop.order(info.context.customer_id, id)
        return Order.of(order) if order is not None else None

    @strawberry.field(description="Your orders, newest first.")
    def my_orders(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> OrderConnection:
        connection = info.context.shop.my_orders(info.context.customer_id, first=first, after=after)
        return OrderConnection(
            edges=[OrderEdge(cursor=c, node=Order.of(o)) for c, o in connection.edges],
            page_info=_page_info(connection),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation
    def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
        order = info.context.shop.place_order(
            info.context.customer_id,
            [RequestedLine(str(line.sku), line.quantity) for line in input.lines],
            input.idempotency_key,
        )
        return PlaceOrderPayload(order=Order.of(order))

    @strawberry.mutation(description="A request: fulfillment-control decides, and says so.")
    def cancel_order(self, info: Info, id: strawberry.ID) -> CancelOrderPayload:
        order = info.context.shop.cancel_order(info.context.customer_id, id)
        return CancelOrderPayload(order=Order.of(order))


Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


def extensions(*, introspection: bool, masking: Extension) -> list[Extension]:
    """The schema's guards: limits on depth, aliases and tokens, introspection where it is off,
    and the masking of unexpected errors (a fresh instance of each per request); and the caches
    of parsed and validated documents."""
    # The limiters make their rule classes as they are built: made here, once, so a document's
    # validation is cached under the same rules on every request (a new class per request would
    # be a new cache key every time).
    rules = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        partial(AddValidationRules, rules),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(ParserCache, maxsize=CACHED_DOCUMENTS),
        partial(ValidationCache, maxsize=CACHED_DOCUMENTS),
        masking,
    ]


class ShopSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # A client's own mistakes are answers, not incidents: only the unexpected are logged.
        super().process_errors([e for e in errors if is_unexpected(e)], execution_context)


def schema(*, introspection: bool, masking: Extension) -> strawberry.Schema:
    return ShopSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions(introspection=introspection, masking=masking),
    )


def sdl() -> str:
    """The schema as SDL: what `schema.graphql` commits."""
    return strawberry.Schema(query=Query, mutation=Mutation).as_str() + "\n"
