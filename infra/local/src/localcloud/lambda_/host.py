"""The Lambda host: every deployed function runs in execution environments of its own, each a
process under the official AWS Lambda Runtime Interface Client (`awslambdaric`) served the Lambda
Runtime API by a `Sandbox`.

Handler loading, the event loop, error documents and logging are therefore the client's own, as in
Lambda; the host supplies what the Lambda service does: execution environments started on demand
up to a concurrency limit, cold starts, timeouts, and the outcome of each invocation."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.aws import Aws
from localcloud.lambda_.functions import (
    FunctionNotFound,
    FunctionSpec,
    FunctionThrottled,
    Invocation,
)
from localcloud.lambda_.runtime_api import LAMBDA_TASK_ROOT, Request, Sandbox, error_document
from localcloud.lifecycle import LoopPart, Part

logger = logging.getLogger(__name__)

# The only parts of the host's environment a function sees: Lambda starts from a clean one too.
INHERITED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
# The most execution environments one function may have at once when its template reserves none.
# AWS allows a burst of hundreds; each environment here is a Python process of some 60 MB, and a
# 2-core CI runner hosts four services and the event hub (decision 0017).
DEFAULT_CONCURRENCY = 4
# An environment idle this long is reaped, except a function's most recently used one: AWS reaps
# idle environments after minutes it does not promise; keeping one warm keeps the journeys'
# latency free of cold starts while the extra processes of a burst go away.
IDLE_SECONDS = 60.0
REAP_INTERVAL_SECONDS = 5.0


@dataclass
class _Function:
    spec: FunctionSpec
    limit: int  # the most environments at once: reserved concurrency, else the host's limit
    # Warm environments waiting for an invocation, with when each became idle (monotonic); the
    # most recently used last, and taken first.
    idle: list[tuple[Sandbox, float]] = field(default_factory=list)
    environments: int = 0  # every environment of the function: starting, busy or idle
    condition: threading.Condition = field(default_factory=threading.Condition)


class LambdaHost(Part):
    """Runs deployed functions as Lambda does: execution environments started on demand.

    `deploy` registers a function (or replaces it; the next invocation starts the new code).
    `invoke` satisfies `functions.Invoker` and is thread-safe: an invocation takes an idle warm
    environment of the function if there is one, else starts a new one (a cold start: a new
    process, its own Runtime API, the handler's init run again), up to the function's limit, its
    reserved concurrency or else the host's `concurrency`; beyond it, the invocation waits for an
    environment to be free, as Lambda's asynchronous and event-source invocations wait out a
    throttle (decision 0017). A reserved concurrency of 0 throttles every invocation
    (`FunctionThrottled`). Each environment serves one invocation at a time. One that fails at init,
    times out or exits is gone, and a later invocation cold-starts a fresh one; nothing a function
    does stops the host or the other functions. Once started, the host reaps environments idle for
    `idle_seconds`, except each function's most recently used one. `after_invocation(spec)` is
    told of every invocation once it has ended (the local cloud wakes the pollers of the tables
    the function may have written).
    """

    def __init__(
        self,
        aws: Aws,
        *,
        python: str = sys.executable,
        log_dir: Path | None = None,
        extra_path: Sequence[Path] = (),
        concurrency: int = DEFAULT_CONCURRENCY,
        idle_seconds: float = IDLE_SECONDS,
        after_invocation: Callable[[FunctionSpec], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"a function's concurrency must be at least 1, not {concurrency}")
        self._aws = aws
        self._python = python
        self._log_dir = log_dir
        self._extra_path = tuple(extra_path)
        self._concurrency = concurrency
        self._idle_seconds = idle_seconds
        self._after_invocation = after_invocation
        self._lock = threading.Lock()
        self._functions: dict[str, _Function] = {}
        self._invocations: list[Invocation] = []
        # Environments serving an invocation, by identity: `stop` kills them too.
        self._busy: dict[int, Sandbox] = {}
        self._stopped = False
        self._reaper = LoopPart(
            self.reap_idle, name="lambda-reaper", interval_seconds=REAP_INTERVAL_SECONDS
        )

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        with self._lock:
            return {name: function.spec for name, function in self._functions.items()}

    def start(self) -> LambdaHost:
        self._reaper.start()
        return self

    def limit(self, function: str) -> int:
        """How many environments `function` may have at once."""
        with self._lock:
            deployed = self._functions.get(function)
        if deployed is None:
            raise FunctionNotFound(function)
        return deployed.limit

    def deploy(self, spec: FunctionSpec) -> None:
        limit = (
            self._concurrency if spec.reserved_concurrency is None else spec.reserved_concurrency
        )
        with self._lock:
            if self._stopped:
                raise RuntimeError("the Lambda host is stopped")
            function = self._functions.get(spec.name)
            if function is None:
                self._functions[spec.name] = _Function(spec, limit)
                return
        # Idle environments of the old code go now; busy ones finish their invocation and go then.
        with function.condition:
            function.spec, function.limit = spec, limit
            stale = self._take_idle(function)
            function.condition.notify_all()
        for sandbox in stale:
            sandbox.close()

    def invoke(self, function: str, payload: bytes) -> Invocation:
        with self._lock:
            deployed = self._functions.get(function)
        if deployed is None:
            raise FunctionNotFound(function)
        sandbox, spec = self._acquire(deployed)
        request = Request(str(uuid.uuid4()), payload, spec.timeout_seconds)
        if sandbox is None:
            try:
                sandbox = self._start(spec)
            except OSError as error:
                self._release(deployed, None)
                invocation = self._unstartable(spec, request, error)
                self._record(spec, invocation)
                return invocation
            except BaseException:
                self._release(deployed, None)
                raise
        try:
            outcome, duration, init_duration = sandbox.run(request)
        finally:
            self._release(deployed, sandbox)
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

    def environments(self, function: str) -> int:
        """How many execution environments `function` has now: starting, busy or idle."""
        with self._lock:
            deployed = self._functions.get(function)
        if deployed is None:
            raise FunctionNotFound(function)
        with deployed.condition:
            return deployed.environments

    def reap_idle(self) -> int:
        """Close every environment idle for `idle_seconds` but each function's most recently
        used one; returns how many were closed. The host's reaper calls it every few seconds."""
        deadline = time.monotonic() - self._idle_seconds
        with self._lock:
            functions = list(self._functions.values())
        reaped: list[Sandbox] = []
        for function in functions:
            with function.condition:
                reaped += self._take_idle(function, idle_before=deadline, keep_newest=True)
        for sandbox in reaped:
            logger.info(
                "lambda environment reaped",
                extra={"function": sandbox.spec.name, "pid": sandbox.pid},
            )
            sandbox.close()
        return len(reaped)

    def stop(self) -> None:
        """Kill every function process and close every Runtime API server; final."""
        self._reaper.stop()
        with self._lock:
            self._stopped = True
            functions = list(self._functions.values())
        idle: list[Sandbox] = []
        for function in functions:
            with function.condition:
                idle += self._take_idle(function)
                function.condition.notify_all()
        for sandbox in idle:
            sandbox.close()
        with self._lock:
            busy = list(self._busy.values())
        for sandbox in busy:
            sandbox.close()

    # Environments: taken, started, given back.

    def _acquire(self, function: _Function) -> tuple[Sandbox | None, FunctionSpec]:
        """A warm environment of the current code, or (None, spec) with a slot to start one in;
        waits while the function has as many environments as it may, all busy."""
        stale: list[Sandbox] = []
        try:
            with function.condition:
                while True:
                    if self._stopped:
                        raise RuntimeError("the Lambda host is stopped")
                    spec = function.spec
                    if function.limit == 0:
                        raise FunctionThrottled(spec.name)
                    while function.idle:
                        sandbox, _ = function.idle.pop()
                        if sandbox.alive and sandbox.spec is spec:
                            self._mark_busy(sandbox)
                            return sandbox, spec
                        function.environments -= 1
                        stale.append(sandbox)
                    if function.environments < function.limit:
                        function.environments += 1
                        return None, spec
                    function.condition.wait()
        finally:
            for sandbox in stale:
                sandbox.close()

    def _release(self, function: _Function, sandbox: Sandbox | None) -> None:
        """Give back an environment after its invocation (None: one that never started)."""
        if sandbox is not None:
            self._mark_idle(sandbox)
        with function.condition:
            keep = (
                sandbox is not None
                and sandbox.alive
                and sandbox.spec is function.spec
                and not self._stopped
            )
            if keep:
                assert sandbox is not None
                function.idle.append((sandbox, time.monotonic()))
            else:
                function.environments -= 1
            function.condition.notify()
        if sandbox is not None and not keep:
            sandbox.close()

    def _take_idle(
        self, function: _Function, *, idle_before: float | None = None, keep_newest: bool = False
    ) -> list[Sandbox]:
        """Remove the idle environments (those idle since before `idle_before`, all but the most
        recently used with `keep_newest`); the caller holds the function's condition, and closes
        them once it has let go of it."""
        candidates = function.idle[:-1] if keep_newest else function.idle
        taken = [
            sandbox for sandbox, since in candidates if idle_before is None or since < idle_before
        ]
        gone = {id(sandbox) for sandbox in taken}
        function.idle = [entry for entry in function.idle if id(entry[0]) not in gone]
        function.environments -= len(taken)
        return taken

    def _mark_busy(self, sandbox: Sandbox) -> None:
        with self._lock:
            self._busy[id(sandbox)] = sandbox

    def _mark_idle(self, sandbox: Sandbox) -> None:
        with self._lock:
            self._busy.pop(id(sandbox), None)

    def _start(self, spec: FunctionSpec) -> Sandbox:
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
            self._busy[id(sandbox)] = sandbox
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
        if self._after_invocation is not None:
            self._after_invocation(spec)
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
