"""Powertools logging, metrics and tracing, wired once for every function.

    from shop_observability import instrumented, logger

    @instrumented
    def handle(event, context):
        logger.info("order placed", order_id=order.id)

Logs are JSON with the function's context and the correlation id of the event being handled; the
shared libraries' own logs come out in the same format. The service name and metrics namespace come
from the standard Powertools variables (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`).
The X-Ray SDK is imported only by a function that traces: tracing costs cold start, so it is on in
Lambda unless `POWERTOOLS_TRACE_DISABLED` is set, and never outside Lambda.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

__all__ = [
    "DEFAULT_METRICS_NAMESPACE",
    "LIBRARY_LOGGERS",
    "adopt_loggers",
    "bind_event",
    "bind_request",
    "instrumented",
    "logger",
    "metrics",
    "tracer",
    "tracing_enabled",
]

# The shared libraries log through the standard library under these names.
LIBRARY_LOGGERS = frozenset({"shop_envelope", "shop_publisher", "shop_streams"})

# Metrics need a namespace, or the first flush raises; the standard variable overrides this one.
DEFAULT_METRICS_NAMESPACE = "autonomous-shop"

logger = Logger()
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE
)


def adopt_loggers(*names: str) -> None:
    """Standard-library loggers under `names` write through the function's Powertools logger:
    JSON lines with its context and correlation id. A service's pure model logs with the standard
    library (it knows no Lambda tooling); its handlers adopt the model's loggers once."""
    for name in names:
        logging.getLogger(name)
    copy_config_to_registered_loggers(source_logger=logger, include=set(names))


adopt_loggers(*LIBRARY_LOGGERS)


class TracedEvent(Protocol):
    """What log context needs of an event; any domain event envelope has it."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def correlation_id(self) -> str: ...


def bind_event(event: TracedEvent) -> None:
    """Every log line from here on names the event being handled and its business flow."""
    logger.set_correlation_id(event.correlation_id)
    logger.append_keys(event_id=event.id, event_type=event.type)


# The header a caller may send to tie its request to a flow of its own (a storefront session, a
# test); API Gateway's request id stands in when it sends none.
CORRELATION_HEADER = "x-correlation-id"


def bind_request(event: Mapping[str, Any]) -> None:
    """Every log line from here on names the HTTP request being handled (an API Gateway HTTP API
    event, payload 2.0) and its correlation id: the caller's `x-correlation-id` header, else
    API Gateway's request id. A request has no order id until it has placed one."""
    headers = event.get("headers") or {}
    context = event.get("requestContext") or {}
    request_id = context.get("requestId")
    # API Gateway lower-cases header names in payload 2.0; a hand-made event may not have.
    supplied = next(
        (value for name, value in headers.items() if name.lower() == CORRELATION_HEADER), None
    )
    logger.set_correlation_id(supplied or request_id)
    logger.append_keys(request_id=request_id, route=event.get("routeKey"))


def tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ and not disabled


@functools.cache
def tracer() -> Tracer:
    """The function's tracer, created (and the X-Ray SDK imported) on first use only."""
    from aws_lambda_powertools import Tracer

    return Tracer()


def instrumented[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """Logger context (cleared per invocation), metrics flushed with a cold-start metric, and a
    trace segment when tracing is enabled, around one Lambda handler."""
    wrapped: Callable[..., Any] = logger.inject_lambda_context(clear_state=True)(handler)
    wrapped = metrics.log_metrics(capture_cold_start_metric=True)(wrapped)
    if tracing_enabled():
        wrapped = tracer().capture_lambda_handler(wrapped)

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        with warnings.catch_warnings():
            # An invocation that records no metric of its own is normal, not worth a warning.
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            return wrapped(event, context)

    return invoke  # type: ignore[return-value]
