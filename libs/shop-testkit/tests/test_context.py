"""The test Lambda context answers what handlers and Powertools ask of the real one."""

from __future__ import annotations

from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from shop_testkit.context import LambdaContext


def test_context_derives_arn_and_log_names_from_the_function() -> None:
    # When a context is made for a named function
    context = LambdaContext(function_name="orders-api", region="us-east-1")

    # Then its ARN and log names follow AWS's patterns
    assert (
        context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
    )
    assert context.log_group_name == "/aws/lambda/orders-api"
    assert "[$LATEST]" in context.log_stream_name
    assert context.memory_limit_in_mb == 256


def test_explicit_fields_are_kept() -> None:
    # When the ARN and request id are given
    context = LambdaContext(invoked_function_arn="arn:x", aws_request_id="req-1")

    # Then they are not overwritten by derived ones
    assert (context.invoked_function_arn, context.aws_request_id) == ("arn:x", "req-1")


def test_each_context_has_its_own_request_id() -> None:
    # Then two invocations never share a request id
    assert LambdaContext().aws_request_id != LambdaContext().aws_request_id


def test_remaining_time_counts_down_to_zero_from_the_timeout() -> None:
    # Given a context with a 1 s timeout and a clock the test moves
    now = [100.0]
    context = LambdaContext(timeout_ms=1_000, clock=lambda: now[0])

    # When time passes
    at_start = context.get_remaining_time_in_millis()
    now[0] += 0.4
    later = context.get_remaining_time_in_millis()
    now[0] += 5
    past_deadline = context.get_remaining_time_in_millis()

    # Then the remaining time falls with it and never goes negative
    assert (at_start, later, past_deadline) == (1_000, 600, 0)


def test_default_remaining_time_is_thirty_seconds() -> None:
    # Then a fresh context has close to the default 30 s left
    assert 29_000 < LambdaContext().get_remaining_time_in_millis() <= 30_000


def test_powertools_logger_reads_the_context() -> None:
    # When Powertools' logger captures the context, as inject_lambda_context does
    context = LambdaContext(function_name="fn", memory_limit_in_mb=512)
    model = build_lambda_context_model(context)

    # Then it finds every field it logs
    assert model.function_name == "fn"
    assert model.function_memory_size == 512
    assert model.function_arn == context.invoked_function_arn
    assert model.function_request_id == context.aws_request_id
