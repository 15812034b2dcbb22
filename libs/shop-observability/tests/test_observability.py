import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import shop_observability
from shop_observability import bind_event, bind_request, instrumented, logger, tracing_enabled
from shop_testkit import LambdaContext, http_api_event

FUNCTION = "inventory-test-listener"


@dataclass
class Event:
    id: str = "event-1"
    type: str = "order-placed"
    correlation_id: str = "order-1"
    seen: list[str] = field(default_factory=list)


def run_in_fresh_process(code: str) -> subprocess.CompletedProcess[str]:
    """A new interpreter, as a Lambda cold start is."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the function's log handler writes (to stdout, for CloudWatch, outside tests)."""
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def test_log_lines_carry_the_function_context_and_the_events_correlation_id(
    log_output: io.StringIO,
) -> None:
    # Given an instrumented handler that binds the event it handles
    @instrumented
    def handle(event: dict[str, Any], context: LambdaContext) -> str:
        bind_event(Event())
        logger.info("order placed", order_id="order-1")
        logging.getLogger("shop_streams.processor").warning(
            "record failed", extra={"record_id": "r-1"}
        )
        return "done"

    # When it is invoked
    result = handle({}, LambdaContext(function_name=FUNCTION))

    # Then both its own line and the library's line are JSON with the same context
    assert result == "done"
    own, library = (line for line in json_lines(log_output.getvalue()) if "message" in line)
    for line in (own, library):
        assert line["correlation_id"] == "order-1"
        assert line["event_id"] == "event-1"
        assert line["event_type"] == "order-placed"
        assert line["function_name"] == FUNCTION
    assert (own["message"], own["order_id"]) == ("order placed", "order-1")
    assert (library["message"], library["record_id"]) == ("record failed", "r-1")


@pytest.mark.parametrize(
    ("headers", "correlation_id"),
    [({"X-Correlation-Id": "session-42"}, "session-42"), ({}, None)],
    ids=["the caller's header", "API Gateway's request id"],
)
def test_an_http_requests_log_lines_carry_its_correlation_id_and_request(
    log_output: io.StringIO, headers: dict[str, str], correlation_id: str | None
) -> None:
    # Given an instrumented HTTP handler that binds its request
    @instrumented
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        bind_request(event)
        logger.info("request handled")
        return {"statusCode": 200}

    # When a real-shaped API Gateway request comes in, with or without the caller's header
    event = http_api_event("POST", "/graphql", body={"query": "{ x }"}, headers=headers)
    handle(event, LambdaContext(function_name=FUNCTION))

    # Then its line names the request, and the flow is the caller's, else the request's own
    [line] = json_lines(log_output.getvalue())
    request_id = event["requestContext"]["requestId"]
    assert line["request_id"] == request_id
    assert line["route"] == "POST /graphql"
    assert line["correlation_id"] == (correlation_id or request_id)


def test_a_services_adopted_loggers_write_through_the_function_logger(
    log_output: io.StringIO,
) -> None:
    # Given a service whose model logs through the standard library, adopted by its handler
    shop_observability.adopt_loggers("a_service")

    @instrumented
    def handle(event: dict[str, Any], context: LambdaContext) -> None:
        bind_event(Event(correlation_id="order-3"))
        logging.getLogger("a_service.model").info("stock reserved", extra={"order_id": "order-3"})

    # When the handler runs
    handle({}, LambdaContext(function_name=FUNCTION))

    # Then the model's line is JSON with the invocation's context and its own fields
    [line] = (line for line in json_lines(log_output.getvalue()) if "message" in line)
    assert (line["message"], line["order_id"]) == ("stock reserved", "order-3")
    assert (line["correlation_id"], line["function_name"]) == ("order-3", FUNCTION)


def test_the_context_of_one_invocation_does_not_leak_into_the_next(log_output: io.StringIO) -> None:
    @instrumented
    def handle(event: dict[str, Any], context: LambdaContext) -> None:
        if event.get("bind"):
            bind_event(Event(correlation_id="order-7"))
        logger.info("handled")

    handle({"bind": True}, LambdaContext(function_name=FUNCTION))
    handle({}, LambdaContext(function_name=FUNCTION))

    first, second = (
        line for line in json_lines(log_output.getvalue()) if line.get("message") == "handled"
    )
    assert first["correlation_id"] == "order-7"
    assert "correlation_id" not in second


def test_a_cold_start_metric_is_flushed_once_per_process() -> None:
    # Given a fresh process, as a Lambda cold start is, invoking an instrumented handler twice
    code = (
        "import shop_observability\n"
        "from shop_testkit import LambdaContext\n"
        "@shop_observability.instrumented\n"
        "def handle(event, context): return None\n"
        "handle({}, LambdaContext()); handle({}, LambdaContext())\n"
    )

    # When it runs
    result = run_in_fresh_process(code)

    # Then exactly one metric document is written, the cold start, in the default namespace
    metrics = [line for line in json_lines(result.stdout) if "_aws" in line]
    assert len(metrics) == 1
    [directive] = metrics[0]["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "autonomous-shop"
    assert directive["Metrics"] == [{"Name": "ColdStart", "Unit": "Count"}]
    assert "Warning" not in result.stderr


def test_instrumented_keeps_the_handlers_name() -> None:
    @instrumented
    def handle(event: dict[str, Any], context: LambdaContext) -> None:
        return None

    assert handle.__name__ == "handle"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
    ],
)
def test_tracing_is_on_in_lambda_unless_disabled(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    for name in ("AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_TRACE_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert tracing_enabled() is expected


def test_an_untraced_function_never_imports_the_xray_sdk() -> None:
    code = (
        "import sys, shop_observability\n"
        "@shop_observability.instrumented\n"
        "def handle(event, context): return None\n"
        "print('aws_xray_sdk' in sys.modules)"
    )
    result = run_in_fresh_process(code)
    assert result.stdout.strip() == "False"


# The X-Ray SDK opens its daemon's UDP socket when the tracer is made, even with tracing disabled.
@pytest.mark.integration
def test_a_traced_function_gets_a_tracer_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here

    @instrumented
    def handle(event: dict[str, Any], context: LambdaContext) -> str:
        return "ok"

    assert shop_observability.tracer() is shop_observability.tracer()
    assert handle({}, LambdaContext(function_name=FUNCTION)) == "ok"
