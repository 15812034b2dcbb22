"""The park function's work: each fault message of an SQS batch into the store, one at a time.

The parker never publishes a fault of its own: a fault about parking a fault would come back to
it. A message it cannot read or store is named in the partial batch response instead, so SQS
delivers it again and, after the queue's maxReceiveCount, moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from shop_envelope import FaultEvent
from shop_streams.records import records_of

logger = logging.getLogger(__name__)


class Parking(Protocol):
    def park(self, fault: FaultEvent, *, envelope: str | None = None) -> None: ...


class Parker:
    def __init__(self, store: Parking) -> None:
        self._store = store

    def process(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        failures: list[dict[str, str]] = []
        for record in records_of(event):
            try:
                # A bare envelope (the rule's InputPath) or a whole EventBridge event, unwrapped.
                body = record.body()
                envelope = body.decode() if isinstance(body, bytes) else json.dumps(body)
                fault = FaultEvent.model_validate_json(envelope)
                self._store.park(fault, envelope=envelope)
            except Exception as error:  # one message's failure is that message's only
                logger.warning(
                    "fault message not parked",
                    extra={
                        "message_id": record.item_identifier,
                        "error_type": type(error).__name__,
                        "error": str(error)[:500],
                    },
                )
                failures.append({"itemIdentifier": record.item_identifier})
                continue
            logger.info(
                "fault parked",
                extra={
                    "fault_id": fault.id,
                    "function": fault.tags.function_name,
                    "event_type": fault.fault.event_type,
                    "error_type": fault.fault.error_type,
                    "attempts": fault.fault.attempts,
                },
            )
        return {"batchItemFailures": failures}
