"""Webhook delivery as Stripe does it: every event POSTed to the endpoint, signed afresh on each
attempt (`Stripe-Signature: t=<ts>,v1=<HMAC-SHA256>`), retried on failure after the configured
delays (Stripe's own schedule is hours apart; the fake's is seconds), redirects counted as
failures, and the events of one PaymentIntent kept in order."""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from localcloud.lifecycle import Part
from localcloud.stripe.params import (
    WEBHOOK_TIMEOUT_SECONDS,
    WEBHOOK_USER_AGENT,
    stripe_signature_header,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to deliver an event; `status_code` is None when no HTTP answer came back."""

    event_id: str
    event_type: str
    attempt: int
    url: str | None
    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class Pending:
    event_id: str
    event_type: str
    payload: bytes
    attempts: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Stripe treats a redirect from a webhook endpoint as a failed delivery.
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


class WebhookSender(Part):
    """One background thread; events of one ordering key go out one at a time, in order.

    A failing event holds back the later events of its key while it is retried, so a receiver
    never sees `payment_intent.succeeded` before the `payment_intent.created` it follows.
    """

    def __init__(
        self,
        *,
        url: Callable[[], str | None],
        secret: str,
        clock: Callable[[], float],
        retry_delays: Sequence[float],
        record: Callable[[WebhookDelivery], None],
        settle: Callable[[str], None],
    ) -> None:
        self._url = url
        self._secret = secret
        self._clock = clock
        self._delays = tuple(retry_delays)
        self._record = record
        self._settle = settle
        self._queues: dict[str, deque[Pending]] = {}
        self._due: list[tuple[float, int, str]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._opener = urllib.request.build_opener(
            # The receiver is local: never route it through a proxy from the environment.
            urllib.request.ProxyHandler({}),
            _NoRedirect(),
        )

    def start(self) -> Self:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            dropped = sum(len(queue) for queue in self._queues.values())
            self._queues.clear()
            self._due.clear()
            self._condition.notify_all()
        if dropped:
            logger.warning("webhook deliveries dropped at stop", extra={"dropped": dropped})
        if self._thread is not None:
            self._thread.join(timeout=WEBHOOK_TIMEOUT_SECONDS + 1)
            self._thread = None

    def enqueue(self, key: str, pending: Pending) -> None:
        with self._condition:
            queue = self._queues.get(key)
            if queue is None:
                self._queues[key] = deque([pending])
                self._schedule(key, time.monotonic())
            else:
                queue.append(pending)

    def wait_idle(self, timeout: float) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: not self._queues, timeout)

    def _schedule(self, key: str, when: float) -> None:
        heapq.heappush(self._due, (when, next(self._sequence), key))
        self._condition.notify_all()

    def _run(self) -> None:
        while True:
            with self._condition:
                key = self._next_key()
                if key is None:
                    return
                pending = self._queues[key][0]
            delivery = self._attempt(pending)
            self._record(delivery)
            final = delivery.succeeded or pending.attempts > len(self._delays)
            if final:
                if not delivery.succeeded:
                    logger.error(
                        "webhook delivery abandoned",
                        extra={
                            "event_id": pending.event_id,
                            "event_type": pending.event_type,
                            "attempts": pending.attempts,
                        },
                    )
                # Settled before leaving the queue, so a waiter woken by an empty queue sees it;
                # and outside the condition, as request threads take the account lock first.
                self._settle(pending.event_id)
            with self._condition:
                queue = self._queues.get(key)
                if not queue or queue[0] is not pending:
                    continue  # stopped meanwhile
                if not final:
                    self._schedule(key, time.monotonic() + self._delays[pending.attempts - 1])
                    continue
                queue.popleft()
                if queue:
                    self._schedule(key, time.monotonic())
                else:
                    del self._queues[key]
                    self._condition.notify_all()

    def _next_key(self) -> str | None:
        """Wait for the next due ordering key; None once stopping."""
        while not self._stopping:
            if not self._due:
                self._condition.wait()
                continue
            when, _, key = self._due[0]
            delay = when - time.monotonic()
            if delay > 0:
                self._condition.wait(delay)
                continue
            heapq.heappop(self._due)
            if key in self._queues:
                return key
        return None

    def _attempt(self, pending: Pending) -> WebhookDelivery:
        pending.attempts += 1
        url = self._url()
        attempt = WebhookDelivery(pending.event_id, pending.event_type, pending.attempts, url)
        if url is None:
            return _replace(attempt, error="no webhook endpoint configured")
        # Stripe signs every attempt afresh, with the time of that attempt.
        signature = stripe_signature_header(pending.payload, self._secret, int(self._clock()))
        request = urllib.request.Request(
            url,
            data=pending.payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": WEBHOOK_USER_AGENT,
                "Accept": "*/*; q=0.5, application/xml",
                "Cache-Control": "no-cache",
                "Stripe-Signature": signature,
            },
        )
        try:
            with self._opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
                result = _replace(attempt, status_code=response.status)
        except urllib.error.HTTPError as error:
            error.close()
            result = _replace(attempt, status_code=error.code)
        except (urllib.error.URLError, OSError) as error:
            result = _replace(attempt, error=str(getattr(error, "reason", error)))
        if not result.succeeded:
            logger.warning(
                "webhook delivery failed",
                extra={
                    "event_id": pending.event_id,
                    "event_type": pending.event_type,
                    "attempt": pending.attempts,
                    "status_code": result.status_code,
                    "error": result.error,
                },
            )
        return result


def _replace(delivery: WebhookDelivery, **changes: Any) -> WebhookDelivery:
    return dataclasses.replace(delivery, **changes)
