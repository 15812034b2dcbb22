"""The webhook's rules: Stripe's POST authenticated, then handed to the ingress queue, answered
in milliseconds (queue-based load leveling: a burst of webhooks waits on the queue, not on
Stripe's retry schedule). Standard library only: this is the one function whose cold start
Stripe's 10 s delivery timeout can feel.

| request | answer |
| --- | --- |
| no secret to verify with (the parameter missing or unreadable) | 500, nothing processed: fail closed |
| missing or malformed `Stripe-Signature`, no `v1` matches, timestamp beyond ±300 s | 400, generic body |
| a verified body that is not a JSON object | 400 |
| a verified event of a type not ingested | 200, acknowledged and ignored |
| a verified event of an ingested type | 200 once it is on the queue; 500 if the queue refused it |
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from stripe_esg.signature import SignatureRejected, verify
from stripe_esg.stripe_types import INGESTED_TYPES

logger = logging.getLogger(__name__)

Response = dict[str, Any]


class Webhook:
    def __init__(
        self,
        *,
        secrets: Callable[[], Sequence[str]],
        enqueue: Callable[[str, str], None],
        clock: Callable[[], float] = time.time,
        ingested: Collection[str] = INGESTED_TYPES,
    ) -> None:
        """`secrets` gives the accepted signing secrets, current first (raising or empty when
        none can be read); `enqueue(event_id, body)` puts a verified event on the queue."""
        self._secrets = secrets
        self._enqueue = enqueue
        self._clock = clock
        self._ingested = frozenset(ingested)

    def process(self, event: Mapping[str, Any]) -> Response:
        """An API Gateway HTTP API (payload 2.0) request, answered."""
        try:
            secrets = list(self._secrets())
        except Exception as error:
            logger.error("webhook secret unreadable", extra={"error_type": type(error).__name__})
            secrets = []
        if not secrets:
            logger.error("webhook refused: no secret to verify with")
            return _answer(500, {"error": "webhook not configured"})
        try:
            payload = _raw_body(event)
            verify(payload, _header(event, "stripe-signature"), secrets, now=int(self._clock()))
        except (SignatureRejected, ValueError) as rejected:
            logger.warning("webhook signature rejected", extra={"reason": str(rejected)})
            return _answer(400, {"error": "invalid signature"})
        try:
            stripe_event = json.loads(payload)
        except ValueError:
            stripe_event = None
        if not isinstance(stripe_event, dict) or not isinstance(stripe_event.get("id"), str):
            logger.warning("webhook payload is not a Stripe event")
            return _answer(400, {"error": "invalid payload"})
        event_id, event_type = stripe_event["id"], stripe_event.get("type")
        if event_type not in self._ingested:
            logger.info(
                "stripe event ignored",
                extra={"stripe_event_id": event_id, "stripe_event_type": event_type},
            )
            return _answer(200, {"received": True})
        try:
            self._enqueue(event_id, payload.decode())
        except Exception:
            logger.exception("stripe event not queued", extra={"stripe_event_id": event_id})
            return _answer(500, {"error": "not queued"})
        logger.info(
            "stripe event queued",
            extra={"stripe_event_id": event_id, "stripe_event_type": event_type},
        )
        return _answer(200, {"received": True})


def _raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise SignatureRejected("the body is not valid base64") from error
    return str(body).encode()


def _header(event: Mapping[str, Any], name: str) -> str | None:
    # Payload 2.0 lower-cases header names; a test or another proxy may not.
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _answer(status: int, body: Mapping[str, Any]) -> Response:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def build(
    *,
    secrets: Callable[[], Sequence[str]],
    enqueue: Callable[[str, str], None],
    clock: Callable[[], float] = time.time,
) -> Webhook:
    return Webhook(secrets=secrets, enqueue=enqueue, clock=clock)
