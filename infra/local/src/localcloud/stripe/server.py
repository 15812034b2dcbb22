"""`FakeStripe`: the fake Stripe on a loopback port, an `HttpPart` once started: API-key
authentication as Stripe answers it, each request handed to the account under one lock, answered
with Stripe's headers, and the events sent to the webhook URL."""

from __future__ import annotations

import base64
import binascii
import copy
import fnmatch
import hmac
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

from localcloud.lifecycle import HttpPart, KeepAliveHandler, Part
from localcloud.stripe.account import Account
from localcloud.stripe.params import (
    API_VERSION,
    ApiError,
    Json,
    new_id,
)
from localcloud.stripe.state import Response, dump
from localcloud.stripe.webhooks import Pending, WebhookDelivery, WebhookSender

logger = logging.getLogger(__name__)

# The CORS headers api.stripe.com sends on every answer, so that Stripe.js (or a page's own fetch
# with the publishable key) reads them from any origin. No cookie is ever used: the key is the
# credential, so `*` is what Stripe answers and what is safe here.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Allow-Methods": "GET, HEAD, PUT, PATCH, POST, DELETE",
    "Access-Control-Expose-Headers": (
        "Request-Id, Stripe-Manage-Version, X-Stripe-External-Auth-Required, "
        "X-Stripe-Privileged-Session-Required"
    ),
    "Access-Control-Max-Age": "300",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStripe


class _RequestHandler(KeepAliveHandler):
    def do_GET(self) -> None:
        cast(_Server, self.server).fake._serve(self, "GET")

    def do_POST(self) -> None:
        cast(_Server, self.server).fake._serve(self, "POST")

    def do_DELETE(self) -> None:
        cast(_Server, self.server).fake._serve(self, "DELETE")

    def do_OPTIONS(self) -> None:
        _preflight(self)

    def log_message(self, format: str, *args: Any) -> None:
        # The stdlib writes access lines to stderr; route them through logging instead.
        logger.debug("stripe fake http", extra={"line": format % args})


@dataclass(frozen=True)
class ApiRequest:
    """One request the fake answered, as a test wants to see it (never the API key)."""

    method: str
    path: str
    idempotency_key: str | None
    status: int


class FakeStripe(Part):
    """Stripe on localhost: point the SDK at `url` (`base_addresses={"api": url}`).

    Every event is kept (GET /v1/events) and, when a webhook URL is set, POSTed to it signed with
    `webhook_secret`; `webhook_events` limits which types are sent, as an endpoint's
    enabled_events does. `deliveries` records every attempt, `requests` every API request.

    The publishable key (`pk_test_...`) is accepted, as Stripe accepts it, only for what Stripe.js
    does in a browser: retrieving and confirming a PaymentIntent with that intent's
    `client_secret`; every other use of it is refused with Stripe's 403. `fail_next` makes the
    next requests fail as Stripe's own outages do, for tests of a caller's retries.
    """

    def __init__(
        self,
        *,
        api_key: str = "sk_test_localcloud",
        publishable_key: str = "pk_test_localcloud",
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_localcloud",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        webhook_retry_delays: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
        webhook_events: Collection[str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.publishable_key = publishable_key
        self.requests: list[ApiRequest] = []
        self._failures: list[int] = []
        self.webhook_secret = webhook_secret
        self.deliveries: list[WebhookDelivery] = []
        self._webhook_url = webhook_url
        self._webhook_events = None if webhook_events is None else tuple(webhook_events)
        self._host = host
        self._port = port
        self._clock = clock
        self._lock = threading.Lock()
        self._http: HttpPart | None = None
        self._account = Account(clock=clock, wants_event=self._wants, publish=self._publish)
        self._sender = WebhookSender(
            url=lambda: self._webhook_url,
            secret=webhook_secret,
            clock=clock,
            retry_delays=webhook_retry_delays,
            record=lambda delivery: self.deliveries.append(delivery),
            settle=self._settle,
        )

    @property
    def url(self) -> str:
        if self._http is None:
            raise RuntimeError("FakeStripe is not started")
        return self._http.url

    def start(self) -> Self:
        # A fresh server each start, so a stopped fake can start again (on a new port, unless one
        # was given).
        self._http = HttpPart(
            _RequestHandler,
            name="stripe-fake",
            host=self._host,
            port=self._port,
            server_class=_Server,
            poll_interval=0.05,
            join_seconds=None,
        )
        cast(_Server, self._http.server).fake = self
        self._http.start()
        self._sender.start()
        logger.info("stripe fake started", extra={"url": self.url})
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None
        self._sender.stop()

    def set_webhook_url(self, url: str | None, *, events: Collection[str] | None = None) -> None:
        """Events created from now on go to `url`, those of the `events` types (patterns such as
        `payment_intent.*`) when given, as an endpoint registered with those enabled_events;
        queued ones go there at their next attempt."""
        self._webhook_url = url
        if events is not None:
            self._webhook_events = tuple(events)

    def wait_for_webhooks(self, timeout: float = 10.0) -> None:
        """Block until every queued webhook is delivered or given up."""
        if not self._sender.wait_idle(timeout):
            raise TimeoutError(f"webhooks still pending after {timeout}s")

    def fail_next(self, count: int, *, status: int = 500) -> None:
        """The next `count` API requests are answered `status` with Stripe's `api_error` body,
        as during an outage: nothing is done, and nothing is kept for their idempotency keys."""
        with self._lock:
            self._failures.extend([status] * count)

    def events(self) -> list[Json]:
        """Every event so far, oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._account.events.values()))

    # -- internals ---------------------------------------------------------------------------

    def _wants(self, event_type: str) -> bool:
        if self._webhook_url is None:
            return False
        patterns = self._webhook_events
        return patterns is None or any(fnmatch.fnmatchcase(event_type, p) for p in patterns)

    def _publish(self, key: str, event: Json) -> None:
        self._sender.enqueue(key, Pending(event["id"], event["type"], dump(event)))

    def _settle(self, event_id: str) -> None:
        with self._lock:
            self._account.settle(event_id)

    def _authenticate(self, header: str | None) -> bool:
        """Whether the request carries the publishable key (else it carries the secret key)."""
        if not header:
            raise ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
                kept=False,
                headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
            )
        scheme, _, credentials = header.partition(" ")
        key = credentials.strip()
        if scheme.lower() == "basic":
            try:
                key = base64.b64decode(key).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        elif scheme.lower() != "bearer":
            key = ""
        if hmac.compare_digest(key.encode(), self.publishable_key.encode()):
            return True
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
            raise ApiError(
                401,
                f"Invalid API Key provided: {shown}",
                kept=False,
                headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
            )
        return False

    def _serve(self, http: BaseHTTPRequestHandler, method: str) -> None:
        request_id = new_id("req_", 14)
        split = urllib.parse.urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length).decode() if length else ""
        source = raw if method == "POST" else split.query
        pairs = urllib.parse.parse_qsl(source, keep_blank_values=True)
        idempotency_key = http.headers.get("Idempotency-Key")
        try:
            publishable = self._authenticate(http.headers.get("Authorization"))
            with self._lock:
                failure = self._failures.pop(0) if self._failures else None
                if failure is not None:
                    raise ApiError(
                        failure, "An unknown error occurred", type_="api_error", kept=False
                    )
                response = self._account.handle(
                    method, split.path, pairs, request_id, idempotency_key, publishable=publishable
                )
        except ApiError as error:
            body = dump(error.body(request_id, int(self._clock())))
            response = Response(error.status, body, error.headers)
        except Exception:
            # A bug in the fake answers as Stripe's own failures do, so the caller sees an APIError.
            logger.exception(
                "stripe fake request crashed",
                extra={"method": method, "path": split.path, "request_id": request_id},
            )
            crash = ApiError(500, "An unknown error occurred", type_="api_error", kept=False)
            response = Response(500, dump(crash.body(request_id, int(self._clock()))))
        self.requests.append(ApiRequest(method, split.path, idempotency_key, response.status))
        logger.info(
            "stripe fake request",
            extra={
                "method": method,
                "path": split.path,
                "status": response.status,
                "request_id": request_id,
            },
        )
        http.send_response(response.status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(response.body)))
        http.send_header("Request-Id", request_id)
        http.send_header("Stripe-Version", http.headers.get("Stripe-Version") or API_VERSION)
        for name, value in CORS_HEADERS.items():
            http.send_header(name, value)
        http.send_header("Cache-Control", "no-cache, no-store")
        # Closing each connection lets stop() return without clients holding threads open.
        http.send_header("Connection", "close")
        for name, value in response.headers.items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(response.body)
        http.close_connection = True


def _preflight(http: BaseHTTPRequestHandler) -> None:
    """A browser's CORS preflight, answered as Stripe answers it: 204, no authentication (a
    preflight carries no Authorization), the request's origin and asked-for headers allowed."""
    headers = {**CORS_HEADERS, "Access-Control-Allow-Origin": http.headers.get("Origin") or "*"}
    asked = http.headers.get("Access-Control-Request-Headers")
    if asked:
        headers["Access-Control-Allow-Headers"] = asked
    http.send_response(204)
    for name, value in headers.items():
        http.send_header(name, value)
    http.send_header("Vary", "Origin")
    http.send_header("Content-Length", "0")
    http.send_header("Connection", "close")
    http.end_headers()
    http.close_connection = True
