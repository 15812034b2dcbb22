"""Stands in for AWS Lambda: the execution environments, the Runtime API, and the Invoke API.

What it reproduces: each deployed function runs as a process of its own under the official
runtime interface client (`awslambdaric`), which talks to a Runtime API served here (`runtime_api`)
exactly as it talks to Lambda's, so handler loading, error documents and logging are the client's
own. The host (`host.LambdaHost`) does what the Lambda service does: a clean environment with
Lambda's variables, cold starts (init duration reported), Lambda's init and invocation timeouts,
the 6 MB response limit, init errors and crashes reported with Lambda's error types, and a fresh
environment after any failure Lambda does not survive. It scales out as Lambda does: an invocation
takes an idle warm environment of its function, else starts another (a cold start: a process and a
Runtime API of its own), up to the function's reserved concurrency or the host's limit (4 by
default); idle extra environments are reaped. `invoke_api.LambdaApiServer` serves the
Invoke API (`POST /2015-03-31/functions/{name}/invocations`, RequestResponse, Event, DryRun) for
SDKs pointed at it; moto's own Invoke needs Docker. `functions` holds what every other part needs
to know of a function (`FunctionSpec`, `Invocation`, the `Invoker` protocol).

Where it differs: functions run on the workspace's interpreter and locked dependencies, not the
Lambda runtime image nor their layers; invocations beyond a function's limit wait for an
environment instead of being throttled (a reserved concurrency of 0 alone throttles, with
`FunctionThrottled`; decision 0017), and the host's limit is a few environments, not AWS's burst of
hundreds; a function's most recently used environment is never reaped; no versions or aliases (an
invocation names the function).
"""

from localcloud.lambda_.functions import (
    FunctionNotFound,
    FunctionSpec,
    FunctionThrottled,
    Invocation,
    Invoker,
)
from localcloud.lambda_.host import DEFAULT_CONCURRENCY, LambdaHost
from localcloud.lambda_.invoke_api import LambdaApiServer

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FunctionNotFound",
    "FunctionSpec",
    "FunctionThrottled",
    "Invocation",
    "Invoker",
    "LambdaApiServer",
    "LambdaHost",
]
