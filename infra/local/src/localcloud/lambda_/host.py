"""The Lambda host: every deployed function runs as its own process under the official AWS Lambda
Runtime Interface Client (`awslambdaric`), served the Lambda Runtime API by a `Sandbox`.

Handler loading, the event loop, error documents and logging are therefore the client's own, as in
Lambda; the host supplies what the Lambda service does: the execution environment, cold starts,
timeouts, and the outcome of each invocation."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.aws import Aws
from localcloud.lambda_.functions import FunctionNotFound, FunctionSpec, Invocation
from localcloud.lambda_.runtime_api import LAMBDA_TASK_ROOT, Request, Sandbox, error_document
from localcloud.lifecycle import Part

logger = logging.getLogger(__name__)

# The only parts of the host's environment a function sees: Lambda starts from a clean one too.
INHERITED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")


@dataclass
class _Function:
    spec: FunctionSpec
    # Serialises this function's invocations: one execution environment, concurrency 1.
    invoke_lock: threading.Lock = field(default_factory=threading.Lock)
    sandbox: Sandbox | None = None


class LambdaHost(Part):
    """Runs deployed functions as Lambda does, one process per function.

    `deploy` registers a function (or replaces it; the next invocation starts the new code);
    the process starts on its first invocation, a cold start, and then stays warm. `invoke`
    satisfies `functions.Invoker` and is thread-safe: each function has a single execution
    environment, so its invocations are served one at a time (reserved concurrency 1), while
    different functions run in parallel. A function that fails at init, times out or exits loses
    its process, and its next invocation cold-starts a fresh one; nothing a function does stops the
    host or the other functions.
    """

    def __init__(
        self,
        aws: Aws,
        *,
        python: str = sys.executable,
        log_dir: Path | None = None,
        extra_path: Sequence[Path] = (),
    ) -> None:
        self._aws = aws
        self._python = python
        self._log_dir = log_dir
        self._extra_path = tuple(extra_path)
        self._lock = threading.Lock()
        self._functions: dict[str, _Function] = {}
        self._invocations: list[Invocation] = []
        self._stopped = False

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        with self._lock:
            return {name: function.spec for name, function in self._functions.items()}

    def deploy(self, spec: FunctionSpec) -> None:
        with self._lock:
            if self._stopped:
                raise RuntimeError("the Lambda host is stopped")
            function = self._functions.get(spec.name)
            if function is None:
                self._functions[spec.name] = _Function(spec)
                return
            function.spec = spec
        # An idle environment of the old code goes now; a busy one finishes its invocation and is
        # replaced by the next.
        if function.invoke_lock.acquire(blocking=False):
            try:
                self._retire_stale(function)
            finally:
                function.invoke_lock.release()

    def invoke(self, function: str, payload: bytes) -> Invocation:
        with self._lock:
            deployed = self._functions.get(function)
        if deployed is None:
            raise FunctionNotFound(function)
        with deployed.invoke_lock:
            spec = deployed.spec
            self._retire_stale(deployed)
            request = Request(str(uuid.uuid4()), payload, spec.timeout_seconds)
            sandbox = deployed.sandbox
            if sandbox is None or not sandbox.alive:
                try:
                    sandbox = self._start(deployed, spec)
                except OSError as error:
                    invocation = self._unstartable(spec, request, error)
                    self._record(spec, invocation)
                    return invocation
            outcome, duration, init_duration = sandbox.run(request)
        invocation = Invocation(
            function=spec.name,
            request_id=request.id,
            payload=outcome.payload,
            duration_ms=duration,
            init_duration_ms=init_duration,
            error_type=outcome.error_type,
            error_message=outcome.error_message,
        )
        self._record(spec, invocation)
        return invocation

    def invocations(self, function: str | None = None) -> list[Invocation]:
        with self._lock:
            return [i for i in self._invocations if function is None or i.function == function]

    def stop(self) -> None:
        """Kill every function process and close every Runtime API server; final."""
        with self._lock:
            self._stopped = True
            sandboxes = [f.sandbox for f in self._functions.values() if f.sandbox is not None]
        for sandbox in sandboxes:
            sandbox.close()

    def _retire_stale(self, function: _Function) -> None:
        if function.sandbox is not None and function.sandbox.spec is not function.spec:
            function.sandbox.close()
            function.sandbox = None

    def _start(self, function: _Function, spec: FunctionSpec) -> Sandbox:
        log_file = None
        if self._log_dir is not None:
            self._log_dir.mkdir(parents=True, exist_ok=True)
            log_file = self._log_dir / f"{spec.name}.log"
        sandbox = Sandbox(
            spec=spec,
            environment=self._environment(spec),
            command=[self._python, "-m", "awslambdaric", spec.handler],
            log_file=log_file,
        )
        # Registered under the host lock, so that `stop` either sees it or forbids it.
        with self._lock:
            if self._stopped:
                raise RuntimeError("the Lambda host is stopped")
            sandbox.start()
            function.sandbox = sandbox
        logger.info(
            "lambda cold start",
            extra={"function": spec.name, "stack": spec.stack, "pid": sandbox.pid},
        )
        return sandbox

    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        code_dir = spec.code_dir.resolve()
        environment = {k: v for k, v in os.environ.items() if k in INHERITED_ENVIRONMENT}
        environment |= self._aws.environment()
        environment |= spec.environment
        python_path = [str(code_dir)]
        # A configured PYTHONPATH is kept, with Lambda's task root read as this function's.
        for entry in spec.environment.get("PYTHONPATH", "").split(os.pathsep):
            if entry:
                if entry == LAMBDA_TASK_ROOT or entry.startswith(LAMBDA_TASK_ROOT + "/"):
                    entry = str(code_dir) + entry.removeprefix(LAMBDA_TASK_ROOT)
                python_path.append(str(code_dir / entry))
        python_path += [str(path) for path in self._extra_path]
        today = time.strftime("%Y/%m/%d", time.gmtime())
        environment |= {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": spec.handler,
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(python_path)),
        }
        return environment

    def _unstartable(self, spec: FunctionSpec, request: Request, error: OSError) -> Invocation:
        # What Lambda reports when it cannot execute the runtime's entry point.
        message = f"Function {spec.name!r} could not be started: {error}"
        return Invocation(
            function=spec.name,
            request_id=request.id,
            payload=error_document("Runtime.InvalidEntrypoint", message),
            duration_ms=0.0,
            error_type="Runtime.InvalidEntrypoint",
            error_message=message,
        )

    def _record(self, spec: FunctionSpec, invocation: Invocation) -> None:
        with self._lock:
            self._invocations.append(invocation)
        if invocation.error_type is not None:
            logger.warning(
                "lambda invocation failed",
                extra={
                    "function": spec.name,
                    "stack": spec.stack,
                    "error_type": invocation.error_type,
                    "error_message": invocation.error_message,
                    "request_id": invocation.request_id,
                },
            )
