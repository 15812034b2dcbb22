"""Stripe events into published domain events, whichever way they came in: the webhook's queue
(`QueueIngress`), Stripe's Amazon EventBridge destination (`PartnerIngress`), or reconciliation
(`Reconciliation`). One core, `Inbox`, so the three are idempotent with one another: an event is
ingested once by its Stripe id, whichever path brings it first.

Failures follow decision 0008: a permanent one (an event that disagrees with our intent, one
without the shape its type promises, a call Stripe refuses) is parked once as a fault carrying
the message and counted handled; a transient one is retried by the source (the queue's
redrive sends what keeps failing to its dead-letter queue, whose function parks it as it is).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shop_envelope import DomainEvent, EventFactory, now_ms
from shop_publisher import EventPublisher
from shop_streams import BatchReport, FailureKind, FailurePolicy, PartialBatchResponse, RecordFailed
from shop_streams.batch import Failure, failure, publish
from shop_streams.records import EVENTBRIDGE, SQS, Record, record_of

from stripe_esg.domain import UnreadableStripeEvent
from stripe_esg.model import Fact, Translation
from stripe_esg.ports import PaymentGateway
from stripe_esg.publishing import PaymentEvents
from stripe_esg.stripe_types import INGESTED_TYPES

logger = logging.getLogger(__name__)

PARTNER_SOURCE_PREFIX = "aws.partner/stripe.com/"
# Where a reconciled event's record comes from, in its fault: Stripe's own event list.
STRIPE_EVENTS = "stripe:events"
# Stripe retries a webhook for three days; reconciliation looks back as far.
RECONCILE_SECONDS = 3 * 24 * 3600


class Inbox:
    def __init__(
        self, translation: Translation, announcements: PaymentEvents, publisher: EventPublisher
    ) -> None:
        self.translation = translation
        self._announcements = announcements
        self._publisher = publisher

    def receive(self, stripe_event: Mapping[str, Any]) -> list[DomainEvent]:
        published: list[DomainEvent] = []

        def announce(facts: list[Fact]) -> None:
            events = [self._announcements.of(fact) for fact in facts]
            if events:
                self._publisher.publish(events)
                published.extend(events)

        self.translation.ingest(stripe_event, announce)
        return published


class _Parking:
    """What the three ingresses share: a failed Stripe event logged once, and parked as a fault
    when no retry can mend it."""

    def __init__(
        self,
        *,
        events: EventFactory,
        publisher: EventPublisher,
        permanent_errors: Iterable[type[BaseException]],
    ) -> None:
        self._events = events
        self._publisher = publisher
        self._policy = FailurePolicy(permanent_errors)

    def failed(self, record: Record, error: BaseException) -> Failure:
        return failure(record, error, self._policy.of_handling(error), self._events)

    def park(self, failures: list[Failure]) -> list[str]:
        """The item identifiers whose faults did not get out (to be retried instead)."""
        faults = {f.fault.id: f for f in failures if f.fault is not None}
        return publish(
            self._publisher,
            [f.fault for f in faults.values() if f.fault is not None],
            {fault_id: f.record for fault_id, f in faults.items()},
        )


def _stripe_event(body: Any) -> Mapping[str, Any]:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as error:
            raise UnreadableStripeEvent(f"the message is not JSON ({error})") from error
    if not isinstance(body, Mapping):
        raise UnreadableStripeEvent("the message is not a Stripe event object")
    return body


class QueueIngress(_Parking):
    """The worker: the webhook's queue, each message a verified Stripe event as Stripe sent it."""

    def __init__(self, inbox: Inbox, **parking: Any) -> None:
        super().__init__(**parking)
        self._inbox = inbox

    def process(self, event: Mapping[str, Any]) -> PartialBatchResponse:
        report = BatchReport()
        parked: list[Failure] = []
        for raw in event.get("Records") or []:
            try:
                report.produced += len(self._inbox.receive(_stripe_event(raw.get("body"))))
            except Exception as error:
                failed = self.failed(record_of(SQS, raw), error)
                if failed.fault is None:
                    report.failed_items.append(failed.record.item_identifier)
                else:
                    report.faults.append(failed.fault)
                    parked.append(failed)
                continue
            report.handled += 1
        report.failed_items.extend(self.park(parked))
        report.log()
        return report.response()


class PartnerIngress(_Parking):
    """Stripe's Amazon EventBridge event destination: the Stripe event is the `detail` of an
    event whose source is `aws.partner/stripe.com/<account>/...`. A transient failure raises, so
    the rule's retry policy (then its dead-letter queue) applies."""

    def __init__(self, inbox: Inbox, **parking: Any) -> None:
        super().__init__(**parking)
        self._inbox = inbox

    def process(self, event: Mapping[str, Any]) -> None:
        record = Record(EVENTBRIDGE, str(event.get("id")), str(event.get("id")), event)
        try:
            if not str(event.get("source", "")).startswith(PARTNER_SOURCE_PREFIX):
                raise UnreadableStripeEvent(
                    f"not a Stripe partner event (source {event.get('source')!r})"
                )
            self._inbox.receive(_stripe_event(event.get("detail")))
        except Exception as error:
            failed = self.failed(record, error)
            if failed.kind is FailureKind.TRANSIENT or self.park([failed]):
                raise RecordFailed(record.record_id, error) from error


@dataclass(frozen=True)
class ReconcileReport:
    listed: int
    published: int
    parked: int
    retried_later: int


class Reconciliation(_Parking):
    """The Stripe events of the last days that the webhook never delivered (or whose delivery
    failed for good) ingested now; those ingested already are skipped by the inbox itself."""

    def __init__(
        self,
        inbox: Inbox,
        gateway: PaymentGateway,
        *,
        clock: Callable[[], int] = now_ms,
        look_back_seconds: int = RECONCILE_SECONDS,
        **parking: Any,
    ) -> None:
        super().__init__(**parking)
        self._inbox = inbox
        self._gateway = gateway
        self._clock = clock
        self._look_back = look_back_seconds

    def process(self, event: Mapping[str, Any]) -> dict[str, int]:  # noqa: ARG002
        """A scheduled invocation (its event says only when): one run, its figures."""
        return vars(self.run())

    def run(self) -> ReconcileReport:
        since = self._clock() // 1000 - self._look_back
        listed = published = 0
        parked: list[Failure] = []
        retried = 0
        for stripe_event in self._gateway.events_since(since, INGESTED_TYPES):
            listed += 1
            event_id = str(stripe_event.get("id"))
            try:
                published += len(self._inbox.receive(stripe_event))
            except Exception as error:
                failed = self.failed(Record(STRIPE_EVENTS, event_id, event_id, stripe_event), error)
                if failed.fault is None:
                    retried += 1  # the next run lists it again
                else:
                    parked.append(failed)
        retried += len(self.park(parked))
        report = ReconcileReport(listed, published, len(parked), retried)
        logger.info("reconciled", extra=vars(report))
        return report
