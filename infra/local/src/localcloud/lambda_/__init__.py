"""Stands in for AWS Lambda: the execution environments, the Runtime API, and the Invoke API.

What it reproduces: each deployed function runs as a process of its own under the official
runtime interface client (`awslambdaric`), which talks to a Runtime API served here (`runtime_api`)
exactly as it talks to Lambda's, so handler loading, error documents and logging are the client's
own. The host (`host.LambdaHost`) does what the Lambda service does: a clean environment with
Lambda's variables, cold starts (init duration reported), Lambda's init and invocation timeouts,
the 6 MB response limit, init errors and crashes reported with Lambda's error types, and a fresh
environment after any failure Lambda does not survive. `invoke_api.LambdaApiServer` serves the
Invoke API (`POST /2015-03-31/functions/{name}/invocations`, RequestResponse, Event, DryRun) for
SDKs pointed at it; moto's own Invoke needs Docker. `functions` holds what every other part needs
to know of a function (`FunctionSpec`, `Invocation`, the `Invoker` protocol).

Where it differs: functions run on the workspace's interpreter and locked dependencies, not the
Lambda runtime image nor their layers; each function has one execution environment (reserved
concurrency 1: its invocations queue); no versions or aliases (an invocation names the function).
"""

from localcloud.lambda_.functions import FunctionNotFound, FunctionSpec, Invocation, Invoker
from localcloud.lambda_.host import LambdaHost
from localcloud.lambda_.invoke_api import LambdaApiServer

__all__ = [
    "FunctionNotFound",
    "FunctionSpec",
    "Invocation",
    "Invoker",
    "LambdaApiServer",
    "LambdaHost",
]
