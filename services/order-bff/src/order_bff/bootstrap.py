"""The composition root: each function's engine built once, from its validated settings, with the
real adapters unless the caller hands in its own (tests pass fakes; nothing here touches AWS until
the first request or event, as every client is created on first use).

    graphql = bootstrap.graphql(GraphqlSettings.from_environment())       # a handler, at cold start
    graphql = bootstrap.graphql(settings, views=InMemoryViewStore(), sealer=InMemorySealer())  # a test

strawberry is imported by the graphql function only: the trigger and the listener, which serve no
GraphQL, do not pay for it at cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from shop_envelope import now_ms
from shop_observability import adopt_loggers, bind_event, bind_request
from shop_publisher import EventBridgePublisher, EventPublisher
from shop_streams import ChangeDataCapture, EventProcessor

from order_bff.adapters.dynamodb import DynamoDBViewStore
from order_bff.model import Shop
from order_bff.ports import ViewStore
from order_bff.rules import listener as listener_rules
from order_bff.rules import trigger as trigger_rules
from order_bff.settings import GraphqlSettings, ListenerSettings, OrderBffSettings, TriggerSettings

if TYPE_CHECKING:
    from shop_sealing import Sealer

    from order_bff.api import GraphQLApi

# The model logs through the standard library; its lines join the function's JSON logs.
adopt_loggers(__package__ or "order_bff")


def graphql(
    settings: GraphqlSettings,
    *,
    views: ViewStore | None = None,
    sealer: Sealer | None = None,
    clock: Callable[[], int] = now_ms,
) -> GraphQLApi:
    """The GraphQL API over HTTP: orders placed and cancelled, orders and the catalog read."""
    from shop_sealing import KmsSealer

    from order_bff.rules import graphql as graphql_rules

    shop = Shop(views or DynamoDBViewStore(settings.table_name), clock=clock)
    return graphql_rules.build(
        shop,
        sealer=sealer or KmsSealer(settings.sealing_key_id),
        stage=settings.stage,
        on_request=bind_request,
    )


def trigger(
    settings: TriggerSettings, *, publisher: EventPublisher | None = None
) -> ChangeDataCapture:
    """Orders placed and cancellations requested, from the table's stream, published."""
    return trigger_rules.build(
        events=settings.event_factory(), publisher=publisher or _bus(settings), on_event=bind_event
    )


def listener(
    settings: ListenerSettings,
    *,
    views: ViewStore | None = None,
    publisher: EventPublisher | None = None,
) -> EventProcessor:
    """What the other services report, from the event hub's stream, into the order and catalog
    views."""
    return listener_rules.build(
        Shop(views or DynamoDBViewStore(settings.table_name)),
        events=settings.event_factory(),
        publisher=publisher or _bus(settings),
        on_event=bind_event,
    )


def _bus(settings: OrderBffSettings) -> EventPublisher:
    return EventBridgePublisher(settings.bus_name)
