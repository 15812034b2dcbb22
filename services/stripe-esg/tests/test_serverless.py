"""What `serverless package` makes of serverless.yml, checked offline: the reliability settings AWS
leaves unsafe by default, least-privilege roles, secrets named and never held, reserved
concurrency where Stripe rate-limits, and the table, queues and filters the code relies on."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from shop_testkit.serverless import (
    Layer,
    PackagedStack,
    assert_filter_lets_through,
    assert_functions_use_the_layer,
    assert_layer_is_built_for,
    assert_least_privilege,
    assert_package_holds_only,
    assert_queue_sources_are_safe,
    assert_runtime_is_the_interpreters,
    assert_stream_mappings_are_safe,
    runtime_of_this_interpreter,
)
from stripe_esg.events import CONSUMED
from stripe_esg.stripe_types import INGESTED_TYPES
from stripe_esg.table import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA, TTL_ATTRIBUTE

SERVICE = Path(__file__).resolve().parents[1]
ROOT = SERVICE.parents[1]
STRIPE_CALLERS = ("Listener", "Worker", "Partner", "Reconcile")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> PackagedStack:
    return PackagedStack.package(SERVICE, tmp_path_factory.mktemp("package"))


def test_the_stream_and_queue_sources_lose_nothing_and_retry_finitely(stack: PackagedStack) -> None:
    assert_stream_mappings_are_safe(stack)
    assert_queue_sources_are_safe(stack)
    assert stack.mapping_of("Listener")["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
    }


def test_every_function_runs_on_the_tested_python_with_its_own_least_privilege_role(
    stack: PackagedStack,
) -> None:
    assert_runtime_is_the_interpreters(stack)
    assert_least_privilege(stack)
    assert_functions_use_the_layer(stack)
    for function, properties in stack.functions().items():
        assert properties["Environment"]["Variables"]["PYTHONPATH"] == "/var/task/src", function


def test_the_listener_lets_through_exactly_the_events_it_consumes(stack: PackagedStack) -> None:
    assert_filter_lets_through(stack, "Listener", [c.event_type for c in CONSUMED])


def test_secrets_are_named_in_the_environment_never_held_there(stack: PackagedStack) -> None:
    for function, properties in stack.functions().items():
        variables = properties["Environment"]["Variables"]
        text = json.dumps(variables)
        for prefix in ("sk_", "whsec_", "pk_"):
            assert prefix not in text, function
        for name, value in variables.items():
            if name.endswith("_PARAMETER"):
                assert str(value).startswith("/stripe-esg/test/"), (function, name)
    webhook = stack.function("Webhook")["Environment"]["Variables"]
    assert webhook["WEBHOOK_SECRET_PARAMETER"] == "/stripe-esg/test/webhook-secret"
    assert (
        webhook["PREVIOUS_WEBHOOK_SECRET_PARAMETER"] == "/stripe-esg/test/webhook-secret-previous"
    )
    for function in STRIPE_CALLERS:
        variables = stack.function(function)["Environment"]["Variables"]
        assert variables["STRIPE_API_KEY_PARAMETER"] == "/stripe-esg/test/api-key", function


def parameter_resources(stack: PackagedStack, function: str) -> list[str]:
    resources: list[str] = []
    for statement in stack.role_statements(function):
        if "ssm:GetParameter" in statement["Action"]:
            found = statement["Resource"]
            resources.extend(r["Fn::Sub"] for r in (found if isinstance(found, list) else [found]))
    return resources


def test_each_function_may_read_only_the_secrets_it_uses(stack: PackagedStack) -> None:
    assert [r.rpartition("parameter")[2] for r in parameter_resources(stack, "Webhook")] == [
        "/stripe-esg/test/webhook-secret",
        "/stripe-esg/test/webhook-secret-previous",
    ]
    for function in STRIPE_CALLERS:
        assert [r.rpartition("parameter")[2] for r in parameter_resources(stack, function)] == [
            "/stripe-esg/test/api-key"
        ], function
    assert parameter_resources(stack, "Unprocessed") == []


def test_the_functions_that_call_stripe_have_reserved_concurrency_and_the_webhook_none(
    stack: PackagedStack,
) -> None:
    for function in STRIPE_CALLERS:
        assert 1 <= stack.function(function)["ReservedConcurrentExecutions"] <= 5, function
    assert "ReservedConcurrentExecutions" not in stack.function("Webhook"), (
        "it only queues: let it scale"
    )


def test_the_listener_runs_batches_of_its_shard_side_by_side_within_its_stripe_concurrency(
    stack: PackagedStack,
) -> None:
    # Each record waits on Stripe: one batch at a time was the shop's slowest hop (decision 0022).
    factor = stack.mapping_of("Listener")["ParallelizationFactor"]
    assert 1 < factor <= stack.function("Listener")["ReservedConcurrentExecutions"]


def test_the_webhook_is_a_public_post_route_that_only_queues(stack: PackagedStack) -> None:
    [route] = stack.of_type("AWS::ApiGatewayV2::Route").values()
    assert route["RouteKey"] == "POST /stripe/webhook"
    assert route.get("AuthorizationType", "NONE") == "NONE", "Stripe signs, it does not log in"
    assert stack.role_actions("Webhook") == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sqs:SendMessage",
        "ssm:GetParameter",
    }
    assert stack.function("Webhook")["Environment"]["Variables"]["QUEUE_URL"] == {
        "Ref": "IngressQueue"
    }


def test_the_stack_names_the_webhook_events_to_enable_which_are_those_ingested(
    stack: PackagedStack,
) -> None:
    enabled = stack.template["Outputs"]["StripeWebhookEvents"]["Value"]
    assert set(enabled.split(",")) == INGESTED_TYPES


def test_only_the_listener_may_seal_and_only_the_client_secret(stack: PackagedStack) -> None:
    sealing = [s for s in stack.role_statements("Listener") if s["Action"] == "kms:Encrypt"]
    assert sealing == [
        {
            "Effect": "Allow",
            "Action": "kms:Encrypt",
            "Resource": {"Fn::ImportValue": "event-hub-test-SealingKeyArn"},
            "Condition": {"StringEquals": {"kms:EncryptionContext:field": "payment.clientSecret"}},
        }
    ]
    others = [
        f for f in stack.functions() if any(a.startswith("kms:") for a in stack.role_actions(f))
    ]
    assert others == ["Listener"]


def test_what_the_worker_cannot_translate_is_kept_then_parked(stack: PackagedStack) -> None:
    queues = stack.of_type("AWS::SQS::Queue")
    ingress = queues["IngressQueue"]
    assert ingress["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["IngressDeadLetterQueue", "Arn"]
    }
    parked_from = sorted(
        m["EventSourceArn"]["Fn::GetAtt"][0] for m in stack.mappings_of("Unprocessed")
    )
    assert parked_from == ["IngressDeadLetterQueue", "StreamFailureQueue"]
    assert stack.function("Unprocessed")["Handler"] == "shop_streams/handlers/unprocessed.handle"


def test_the_partner_function_takes_stripes_eventbridge_events_and_parks_what_it_gives_up_on(
    stack: PackagedStack,
) -> None:
    [rule] = [r for r in stack.of_type("AWS::Events::Rule").values() if "EventPattern" in r]
    assert rule["EventPattern"] == {"source": [{"prefix": "aws.partner/stripe.com"}]}
    [config] = stack.of_type("AWS::Lambda::EventInvokeConfig").values()
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
    }


def test_reconciliation_runs_on_a_schedule(stack: PackagedStack) -> None:
    [rule] = [r for r in stack.of_type("AWS::Events::Rule").values() if "ScheduleExpression" in r]
    assert rule["ScheduleExpression"] == "rate(1 hour)"


def test_the_table_is_the_one_the_adapter_writes(stack: PackagedStack) -> None:
    table: dict[str, Any] = stack.resources["Table"]["Properties"]
    assert table["KeySchema"] == KEY_SCHEMA
    assert table["AttributeDefinitions"] == ATTRIBUTE_DEFINITIONS
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


@pytest.mark.parametrize(
    "function", ["webhook", "listener", "worker", "partner", "reconcile", "unprocessed"]
)
def test_each_function_has_a_package_of_the_services_code_and_nothing_else(
    stack: PackagedStack, function: str
) -> None:
    names = assert_package_holds_only(stack, f"{function}.zip", "src/stripe_esg/")
    assert "src/stripe_esg/handlers/webhook.py" in names
    assert "src/stripe_esg/adapters/memory.py" not in names, "the in-memory fakes are the tests'"


@pytest.mark.skipif(
    os.environ.get("SHOP_SKIP_LAYER_BUILD") == "1", reason="builds the layer: wheels from PyPI"
)
def test_the_layer_holds_every_import_of_the_functions_built_for_the_runtime(
    stack: PackagedStack, tmp_path: Path
) -> None:
    layer = Layer.build(SERVICE, tmp_path / "layer")

    [architecture] = stack.function("Listener")["Architectures"]
    assert_layer_is_built_for(
        layer, runtime=runtime_of_this_interpreter(), architecture=architecture
    )
    for module in [
        "stripe",
        "shop_sealing",
        "shop_streams",
        "aws_lambda_powertools",
        "boto3",
        "pydantic",
    ]:
        assert layer.has_module(module), module
    assert not layer.has_module("stripe_esg"), "the service's own code is in its package"
