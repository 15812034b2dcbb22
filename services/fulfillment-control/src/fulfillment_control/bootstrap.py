"""The composition root: each function's engine built once, from its validated settings, with the
real adapters unless the caller hands in its own (tests pass fakes; nothing here touches AWS until
the first event, as every client is created on first use).

    listener = bootstrap.listener(ListenerSettings.from_environment())       # a handler, at cold start
    listener = bootstrap.listener(settings, store=InMemoryEventStore())      # a test
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from shop_envelope import now_ms
from shop_observability import adopt_loggers, bind_event
from shop_publisher import EventBridgePublisher, EventPublisher
from shop_streams import ChangeDataCapture, EventProcessor

from fulfillment_control import TIMER_SOURCE
from fulfillment_control.adapters.dynamodb import DynamoDBEventStore
from fulfillment_control.adapters.scheduler import SchedulerTimers
from fulfillment_control.model import Collector, FulfillmentControl
from fulfillment_control.ports import EventStore, Timers
from fulfillment_control.rules import listener as listener_rules
from fulfillment_control.rules import trigger as trigger_rules
from fulfillment_control.settings import ControlSettings, ListenerSettings, TriggerSettings

# The model logs through the standard library; its lines join the function's JSON logs.
adopt_loggers(__package__ or "fulfillment_control")


def listener(
    settings: ListenerSettings,
    *,
    store: EventStore | None = None,
    publisher: EventPublisher | None = None,
) -> EventProcessor:
    """Every event the rules read, from the event hub's stream, collected into the store."""
    return listener_rules.build(
        Collector(store or _store(settings)),
        events=settings.event_factory(),
        publisher=publisher or _bus(settings),
        on_event=bind_event,
    )


def trigger(
    settings: TriggerSettings,
    *,
    store: EventStore | None = None,
    timers: Timers | None = None,
    publisher: EventPublisher | None = None,
    clock: Callable[[], int] = now_ms,
) -> ChangeDataCapture:
    """Each event collected evaluates its order's rules; each fact recorded is published."""
    events = settings.event_factory()
    control = FulfillmentControl(
        store or _store(settings),
        timers
        or SchedulerTimers(
            bus_arn=settings.bus_arn,
            role_arn=settings.timer_role_arn,
            name_prefix=settings.timer_prefix,
            dead_letter_arn=settings.timer_dead_letter_arn,
            events=replace(events, source=TIMER_SOURCE),
        ),
        payment_window_seconds=settings.payment_window_seconds,
        cancellation_window_seconds=settings.cancellation_window_seconds,
        clock=clock,
    )
    return trigger_rules.build(
        control, events=events, publisher=publisher or _bus(settings), on_event=bind_event
    )


def _store(settings: ControlSettings) -> EventStore:
    return DynamoDBEventStore(settings.table_name, retention_seconds=settings.retention_seconds)


def _bus(settings: ControlSettings) -> EventPublisher:
    return EventBridgePublisher(settings.bus_name)
