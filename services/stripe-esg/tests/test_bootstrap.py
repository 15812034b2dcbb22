"""The composition root as the handlers use it: settings from the environment, the real adapters
against moto's server (SSM for the secrets, SQS for the ingress queue); each handler no more
than that wiring; and the webhook's import path as light as its cold-start goal needs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from localcloud.aws import Aws
from shop_envelope.settings import SettingsError
from shop_testkit import http_api_event
from stripe_esg import bootstrap
from stripe_esg.adapters.sqs import IngressQueue
from stripe_esg.adapters.ssm import ParameterSecrets
from stripe_esg.ingress import WebhookMisconfigured, WebhookSettings
from stripe_esg.settings import ListenerSettings, WorkerSettings

from tests.conftest import ENVIRONMENT, PREVIOUS_SECRET, SECRET, fixtures, stripe_body

HANDLERS = Path(bootstrap.__file__).parent / "handlers"
FUNCTIONS = {
    "webhook": "Webhook",
    "listener": "Listener",
    "worker": "Worker",
    "partner": "Partner",
    "reconcile": "Reconcile",
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_handler_is_only_its_wiring_through_the_composition_root(function: str) -> None:
    module = ast.parse((HANDLERS / f"{function}.py").read_text())
    statements = [s for s in module.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    docstring, built, handle = statements
    assert isinstance(docstring, ast.Expr)
    assert ast.unparse(built) == (
        f"{function} = bootstrap.{function}({FUNCTIONS[function]}Settings.from_environment())"
    )
    assert isinstance(handle, ast.FunctionDef)
    assert handle.name == "handle"
    assert [ast.unparse(line) for line in handle.body] == [f"return {function}.process(event)"]


def test_the_webhook_imports_neither_pydantic_nor_the_stripe_sdk() -> None:
    # A fresh interpreter, as a cold start: what the webhook's handler module drags in.
    environment = {
        **ENVIRONMENT,
        "QUEUE_URL": "q",
        "WEBHOOK_SECRET_PARAMETER": "/p",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    program = (
        f"import os, sys; os.environ.update({environment!r}); "
        "import stripe_esg.handlers.webhook; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'stripe', 'shop_envelope', 'shop_streams'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout

    assert json.loads(loaded.replace("'", '"')) == []


def test_the_webhook_reads_its_secrets_from_ssm_and_queues_to_sqs(aws: Aws) -> None:
    # Given the two secrets in SSM, as SecureStrings, and the ingress queue
    ssm, sqs = aws.client("ssm"), aws.client("sqs")
    ssm.put_parameter(Name="/stripe-esg/test/webhook-secret", Value=SECRET, Type="SecureString")
    ssm.put_parameter(
        Name="/stripe-esg/test/webhook-secret-previous", Value=PREVIOUS_SECRET, Type="SecureString"
    )
    queue_url = sqs.create_queue(QueueName="stripe-esg-test-ingress")["QueueUrl"]
    settings = WebhookSettings.from_environment(
        {
            **ENVIRONMENT,
            "QUEUE_URL": queue_url,
            "WEBHOOK_SECRET_PARAMETER": "/stripe-esg/test/webhook-secret",
            "PREVIOUS_WEBHOOK_SECRET_PARAMETER": "/stripe-esg/test/webhook-secret-previous",
        }
    )
    body = stripe_body("payment_intent.succeeded", "order-1", "pi_1")

    # When Stripe posts an event signed with the previous secret (a rotation under way)
    webhook = bootstrap.webhook(
        settings,
        secrets=ParameterSecrets(client=ssm).all_of(
            settings.webhook_secret_parameter, str(settings.previous_webhook_secret_parameter)
        ),
        enqueue=IngressQueue(queue_url, client=sqs).send,
    )
    response = webhook.process(
        http_api_event(
            "POST",
            "/stripe/webhook",
            body=body.decode(),
            headers={"Stripe-Signature": fixtures.sign(body, PREVIOUS_SECRET)},
        )
    )

    # Then it is accepted and on the queue as Stripe sent it
    assert response["statusCode"] == 200
    [message] = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == body.decode()
    assert message["MessageAttributes"]["stripeEventId"]["StringValue"] == json.loads(body)["id"]


def test_a_missing_parameter_is_a_lookup_error_naming_it_and_never_a_value(aws: Aws) -> None:
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/stripe-esg/test/api-key", Value="sk_test_abc", Type="SecureString")
    secrets = ParameterSecrets(client=ssm)

    assert secrets.reader("/stripe-esg/test/api-key")() == "sk_test_abc"
    read_both = secrets.all_of("/stripe-esg/test/api-key", "/stripe-esg/test/none")
    assert read_both() == ["sk_test_abc"]
    # a missing optional parameter is not asked for again until the cache's age has passed
    ssm.put_parameter(Name="/stripe-esg/test/none", Value="whsec_new", Type="SecureString")
    assert read_both() == ["sk_test_abc"]
    assert ParameterSecrets(client=ssm, max_age=0).all_of(
        "/stripe-esg/test/api-key", "/stripe-esg/test/none"
    )() == [
        "sk_test_abc",
        "whsec_new",
    ]
    with pytest.raises(LookupError, match="/stripe-esg/test/missing unreadable"):
        secrets.read("/stripe-esg/test/missing")


def test_the_builders_wire_the_real_adapters_without_touching_aws() -> None:
    settings = ListenerSettings.from_environment({**ENVIRONMENT, "AWS_LAMBDA_FUNCTION_NAME": "f"})
    worker_settings = WorkerSettings.from_environment(ENVIRONMENT)

    listener = bootstrap.listener(settings)
    worker = bootstrap.worker(worker_settings)

    assert listener.event_types == {"order-placed", "order-cancelled", "order-expired"}
    assert worker is not None


def test_a_missing_setting_fails_the_cold_start_naming_it() -> None:
    with pytest.raises(SettingsError, match="SEALING_KEY_ID"):
        ListenerSettings.from_environment(
            {k: v for k, v in ENVIRONMENT.items() if k != "SEALING_KEY_ID"}
        )
    with pytest.raises(WebhookMisconfigured, match="QUEUE_URL, WEBHOOK_SECRET_PARAMETER"):
        WebhookSettings.from_environment({"POWERTOOLS_SERVICE_NAME": "stripe-esg", "STAGE": "t"})


def test_settings_default_to_test_mode_and_stripes_own_address() -> None:
    settings = WorkerSettings.from_environment(ENVIRONMENT)

    assert settings.livemode is False
    assert settings.api_base is None
    assert settings.event_factory().source == "stripe-esg"
