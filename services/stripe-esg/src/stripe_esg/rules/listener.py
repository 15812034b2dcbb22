"""The listener's rules: which order event does what to the order's payment (egress)."""

from __future__ import annotations

from collections.abc import Callable

from shop_envelope import Envelope, EventFactory
from shop_publisher import EventPublisher
from shop_streams import EventProcessor

from stripe_esg.domain import Money, StripeRejected
from stripe_esg.events import OrderCancelled, OrderExpired, OrderPlaced
from stripe_esg.model import Fact, Payments
from stripe_esg.publishing import PaymentEvents


def build(
    payments: Payments,
    *,
    events: EventFactory,
    announcements: PaymentEvents,
    publisher: EventPublisher,
    on_event: Callable[[Envelope], None] | None = None,
) -> EventProcessor:
    # The filter lets only these types through, so any other is a fault. A call Stripe refuses
    # as made cannot succeed by retrying; Stripe unavailable, or rate limiting us, can: the
    # stream retries it (finitely, then the unprocessed function parks it).
    listener = EventProcessor(
        events=events,
        publisher=publisher,
        unknown_types="fault",
        permanent_errors=(StripeRejected,),
        on_event=on_event,
    )

    def announce(facts: list[Fact]) -> None:
        if facts:
            publisher.publish([announcements.of(fact) for fact in facts])

    @listener.on(OrderPlaced)
    def open_payment(event: OrderPlaced) -> None:
        total = event.order.total
        announce(payments.open(event.order.id, Money.of(total.amount, total.currency)))

    @listener.on(OrderCancelled)
    def settle_cancelled(event: OrderCancelled) -> None:
        announce(payments.end(event.order.id))

    @listener.on(OrderExpired)
    def settle_expired(event: OrderExpired) -> None:
        announce(payments.end(event.order.id))

    return listener
