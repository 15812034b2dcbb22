"""The Lambda Invoke API as the AWS SDK sees it."""

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from localcloud.aws import Aws
from localcloud.lambda_.functions import FunctionNotFound, Invocation
from localcloud.lambda_.invoke_api import LambdaApiServer

# Sockets of their own (the Runtime API is served over loopback HTTP):
# not a unit test, whatever its fixtures.
pytestmark = pytest.mark.integration


class Functions:
    """A fake invoker: `echo` answers with its payload, `broken` raises, others do not exist."""

    def __init__(self) -> None:
        self.invoked = threading.Event()
        self.payloads: list[Any] = []

    def __call__(self, function: str, payload: bytes) -> Invocation:
        if function not in ("echo", "broken"):
            raise FunctionNotFound(function)
        self.payloads.append(json.loads(payload))
        self.invoked.set()
        if function == "broken":
            error = b'{"errorMessage": "boom", "errorType": "RuntimeError"}'
            return Invocation(
                function, "r", error, 1.0, error_type="RuntimeError", error_message="boom"
            )
        return Invocation(function, "r", payload, 1.0)


@pytest.fixture
def functions() -> Functions:
    return Functions()


@pytest.fixture
def lambda_client(functions: Functions) -> Iterator[Any]:
    with LambdaApiServer(functions, exists=lambda name: name in ("echo", "broken")) as server:
        yield Aws(server.url).client("lambda")


def test_a_synchronous_invocation_returns_the_functions_answer(lambda_client: Any) -> None:
    response = lambda_client.invoke(FunctionName="echo", Payload=b'{"n": 1}')

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"n": 1}


def test_a_function_error_is_reported_as_lambda_reports_it(lambda_client: Any) -> None:
    response = lambda_client.invoke(
        FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:broken", Payload=b"{}"
    )

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorMessage"] == "boom"


def test_an_unknown_function_is_resource_not_found(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="nope", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"

    with pytest.raises(ClientError):
        lambda_client.invoke(FunctionName="nope", InvocationType="Event", Payload=b"{}")


def test_an_event_invocation_is_accepted_at_once_and_run(
    lambda_client: Any, functions: Functions
) -> None:
    response = lambda_client.invoke(
        FunctionName="echo", InvocationType="Event", Payload=b'{"n": 2}'
    )

    assert response["StatusCode"] == 202
    assert functions.invoked.wait(5)
    assert functions.payloads == [{"n": 2}]


def test_a_dry_run_invokes_nothing(lambda_client: Any, functions: Functions) -> None:
    assert lambda_client.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204
    assert functions.payloads == []
