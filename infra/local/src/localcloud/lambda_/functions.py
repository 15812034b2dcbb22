"""What every part of the local cloud agrees on about Lambda functions: how one is described, and
what invoking it gives back. The host that runs them is `lambdas.LambdaHost`; event sources, rule
targets and HTTP APIs only need something that satisfies `Invoker`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed function, as its CloudFormation resource and package describe it."""

    name: str  # the deployed FunctionName, e.g. "catalog-local-listener"
    handler: str  # as in the template, e.g. "src/catalog/handlers/listener.handle"
    code_dir: Path  # the unpacked deployment package: the function's task root
    environment: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 6.0
    memory_mb: int = 1024
    stack: str = ""  # the stack it belongs to, for messages
    # ReservedConcurrentExecutions: the most execution environments it may have at once (None:
    # the host's own limit; 0: every invocation is throttled, as Lambda throttles it).
    reserved_concurrency: int | None = None

    @property
    def arn(self) -> str:
        from localcloud.aws import ACCOUNT_ID, REGION

        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation, as Lambda reports it."""

    function: str
    request_id: str
    payload: bytes  # the response, or the error document when `error_type` is set
    duration_ms: float
    init_duration_ms: float | None = None  # set on a cold start
    error_type: str | None = None  # e.g. "Runtime.ImportModuleError", "Sandbox.Timedout"
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_type is None

    @property
    def timed_out(self) -> bool:
        return self.error_type == "Sandbox.Timedout"

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None


class Invoker(Protocol):
    def __call__(self, function: str, payload: bytes) -> Invocation:
        """Invoke `function` synchronously with the JSON `payload` and wait for the outcome."""


class FunctionNotFound(LookupError):
    def __init__(self, function: str) -> None:
        super().__init__(f"no function named {function!r} is deployed in the local cloud")


class FunctionThrottled(RuntimeError):
    """Lambda's TooManyRequestsException: the function may not run at all (reserved concurrency
    0). Every other invocation beyond a limit waits for an environment instead (decision 0017)."""

    def __init__(self, function: str) -> None:
        super().__init__(
            f"function {function!r} is throttled: its reserved concurrency is 0 "
            "(ReservedFunctionConcurrentInvocationLimitExceeded)"
        )
