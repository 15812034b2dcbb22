"""What both engines share: a batch's report and partial batch response, the one log line of a
failed record, and publishing with the records whose events did not get out named for retry."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shop_envelope import Envelope, EventFactory, FaultEvent
from shop_publisher import EventPublisher, PublishError

from shop_streams.failures import FailureKind
from shop_streams.faults import fault_for
from shop_streams.records import Record

logger = logging.getLogger(__name__)

PartialBatchResponse = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class Failure:
    """A failed record; `fault` is what parks it, for a permanent failure only."""

    record: Record
    error: BaseException
    kind: FailureKind
    fault: FaultEvent | None = None


def failure(
    record: Record,
    error: BaseException,
    kind: FailureKind,
    events: EventFactory,
    event: Envelope | None = None,
) -> Failure:
    """Log the failure (one line, the same for every engine) and, if it is permanent, make the
    fault that parks it."""
    logger.warning(
        "record failed",
        extra={
            "record_id": record.record_id,
            "failure": kind.value,
            "error_type": type(error).__name__,
            "error": str(error),
            "event_type": event.type if event else None,
            "event_id": event.id if event else None,
        },
    )
    if kind is FailureKind.TRANSIENT:
        return Failure(record, error, kind)
    return Failure(record, error, kind, fault_for(record, error, events, event))


@dataclass
class BatchReport:
    """`failed_items` are retried by the source; `faults` park the records that cannot succeed
    (which count as handled once their fault is published)."""

    handled: int = 0
    skipped: int = 0
    produced: int = 0  # domain events handed to the publisher (faults are counted apart)
    failed_items: list[str] = field(default_factory=list)
    faults: list[FaultEvent] = field(default_factory=list)

    def response(self) -> PartialBatchResponse:
        return {
            "batchItemFailures": [
                {"itemIdentifier": item} for item in dict.fromkeys(self.failed_items)
            ]
        }

    def log(self) -> None:
        logger.info(
            "batch processed",
            extra={
                "handled": self.handled,
                "skipped": self.skipped,
                "produced": self.produced,
                "parked": len(self.faults),
                "failed": len(dict.fromkeys(self.failed_items)),
            },
        )


def publish(
    publisher: EventPublisher, outgoing: Sequence[Envelope], origin: Mapping[str, Record]
) -> list[str]:
    """Publish the events (a PutEvents batch or a few); the item identifiers of the records some of
    whose events did not get out, for the source to retry (their ids are deterministic, so a retry
    publishes the very same events)."""
    if not outgoing:
        return []
    try:
        publisher.publish(outgoing)
    except PublishError as error:
        unpublished = {entry.event.id for entry in error.failed}
        logger.error("events not published", extra={"unpublished": len(unpublished)})
        return list(
            dict.fromkeys(
                origin[event_id].item_identifier for event_id in unpublished if event_id in origin
            )
        )
    return []
