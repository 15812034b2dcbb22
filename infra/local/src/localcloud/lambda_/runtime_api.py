"""One execution environment (`Sandbox`): a function process under the official runtime interface
client (`awslambdaric`), and the Lambda Runtime API
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) served to it on a loopback port
of its own: `/invocation/next`, `/response`, `/error` and `/init/error`, with Lambda's deadlines,
error types and response size limit. The host that keeps one per function is `host.LambdaHost`."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from localcloud.lambda_.functions import FunctionSpec
from localcloud.lifecycle import HttpPart, KeepAliveHandler

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
API_PREFIX = "/2018-06-01/runtime"
# Lambda's own limits: the init phase may take 10 s, and a synchronous response at most 6 MB.
INIT_TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
# Lambda's task root: a PYTHONPATH in a function's configuration may name it.
LAMBDA_TASK_ROOT = "/var/task"
# How often a Runtime API server looks for shutdown: closing a sandbox waits up to this long.
SERVER_POLL_SECONDS = 0.05
# The error types Lambda's Runtime API passes on as they are; any other becomes an unknown one.
RUNTIME_ERROR_TYPE = re.compile(r"(Runtime|Function)\.[A-Z][a-zA-Z]+")


@dataclass
class Outcome:
    payload: bytes
    error_type: str | None = None
    error_message: str | None = None


@dataclass
class Request:
    id: str
    payload: bytes
    timeout_seconds: float
    delivered_at: float | None = None  # monotonic, when the runtime took it from /next
    outcome: Outcome | None = None


def error_document(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def _parse_error_document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        document = {"errorMessage": body.decode(errors="replace")}
    return document if isinstance(document, dict) else {"errorMessage": str(document)}


def _runtime_error_type(header: str | None) -> str:
    """The error type Lambda reports for an init error: the runtime's header when it names a
    Runtime or Function error, else "Runtime.Unknown" (as Lambda's Runtime API normalises it; an
    exception raised at import arrives as its class name)."""
    if header and RUNTIME_ERROR_TYPE.fullmatch(header):
        return header
    if header and header.startswith("Function."):
        return "Function.Unknown"
    return "Runtime.Unknown"


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


class _RuntimeApiServer(ThreadingHTTPServer):
    # A /next request blocks until an invocation arrives; closing must not wait for it.
    block_on_close = False
    daemon_threads = True
    sandbox: Sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A process that exits or is killed drops its connection: that is the sandbox's business
        # (it sees the exit), not a server error to print.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _RuntimeApiHandler(KeepAliveHandler):
    @property
    def sandbox(self) -> Sandbox:
        return cast(_RuntimeApiServer, self.server).sandbox

    def do_GET(self) -> None:
        if self.path != f"{API_PREFIX}/invocation/next":
            self._reply(HTTPStatus.NOT_FOUND, error_document("InvalidPath", self.path))
            return
        request = self.sandbox.next_request()
        if request is None:
            # The sandbox is closing and its process is being killed: no answer is owed, and an
            # error status would make the client crash rather than exit.
            self.close_connection = True
            return
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request.id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + request.timeout_seconds) * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": self.sandbox.spec.arn,
            "Lambda-Runtime-Trace-Id": _trace_id(),
            "Content-Type": "application/json",
        }
        self._reply(HTTPStatus.OK, request.payload, headers)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.removeprefix(API_PREFIX).strip("/").split("/")
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        match parts:
            case ["invocation", request_id, "response"]:
                status = self.sandbox.respond(request_id, body)
            case ["invocation", request_id, "error"]:
                status = self.sandbox.fail(request_id, body, error_type)
            case ["init", "error"]:
                status = self.sandbox.fail_init(body, error_type)
            case _:
                status = HTTPStatus.NOT_FOUND
        if status == HTTPStatus.ACCEPTED:
            self._reply(status, json.dumps({"status": "OK"}).encode())
        else:
            self._reply(status, error_document(status.phrase.replace(" ", ""), self.path))

    def _reply(
        self, status: HTTPStatus, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Every request would otherwise be written to the host's stderr.
        pass


class _RuntimeApi(HttpPart):
    """The Runtime API of one sandbox, on a loopback port of its own."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(
            _RuntimeApiHandler,
            name=f"runtime-api-{sandbox.spec.name}",
            host=HOST,
            server_class=_RuntimeApiServer,
            poll_interval=SERVER_POLL_SECONDS,
        )
        cast(_RuntimeApiServer, self._server).sandbox = sandbox


@dataclass
class Sandbox:
    """One execution environment: a function process and the Runtime API server it talks to.

    It serves one invocation at a time; once it fails in a way Lambda would not survive (init
    error, timeout, exit) it is closed and the next invocation starts a fresh one."""

    spec: FunctionSpec
    environment: dict[str, str]
    command: list[str]
    log_file: Path | None
    started_at: float = 0.0
    first_next_at: float | None = None
    exit_code: int | None = None
    closed: bool = False
    _request: Request | None = None
    _condition: threading.Condition = field(default_factory=threading.Condition)
    _api: _RuntimeApi | None = None
    _process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._api = _RuntimeApi(self).start()
        self.environment["AWS_LAMBDA_RUNTIME_API"] = f"{HOST}:{self._api.port}"
        log = self.log_file.open("ab") if self.log_file else None
        try:
            self.started_at = time.monotonic()
            self._process = subprocess.Popen(
                self.command,
                cwd=self.spec.code_dir,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log or subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                # Its own process group, so that killing it also kills whatever the handler spawned.
                start_new_session=True,
            )
        except BaseException:
            self._api.stop()
            raise
        finally:
            if log:
                log.close()
        threading.Thread(target=self._watch, name=f"lambda-{self.spec.name}", daemon=True).start()

    @property
    def alive(self) -> bool:
        with self._condition:
            return not self.closed and self.exit_code is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _watch(self) -> None:
        assert self._process is not None
        code = self._process.wait()
        with self._condition:
            self.exit_code = code
            self._condition.notify_all()

    # The Runtime API, called from the server's threads.

    def next_request(self) -> Request | None:
        with self._condition:
            if self.first_next_at is None:
                self.first_next_at = time.monotonic()
                self._condition.notify_all()
            self._condition.wait_for(
                lambda: (
                    self.closed
                    or (self._request is not None and self._request.delivered_at is None)
                )
            )
            if self.closed or self._request is None:
                return None
            self._request.delivered_at = time.monotonic()
            self._condition.notify_all()
            return self._request

    def respond(self, request_id: str, body: bytes) -> HTTPStatus:
        if len(body) > MAX_RESPONSE_BYTES:
            message = f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
            outcome = Outcome(
                error_document("Function.ResponseSizeTooLarge", message),
                "Function.ResponseSizeTooLarge",
                message,
            )
            return self._settle(request_id, outcome, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return self._settle(request_id, Outcome(body), HTTPStatus.ACCEPTED)

    def fail(self, request_id: str, body: bytes, header_type: str | None) -> HTTPStatus:
        document = _parse_error_document(body)
        error_type = str(document.get("errorType") or header_type or "Runtime.Unknown")
        outcome = Outcome(body, error_type, str(document.get("errorMessage", "")))
        return self._settle(request_id, outcome, HTTPStatus.ACCEPTED)

    def fail_init(self, body: bytes, header_type: str | None) -> HTTPStatus:
        document = _parse_error_document(body)
        error_type = _runtime_error_type(header_type)
        where = f" in stack {self.spec.stack!r}" if self.spec.stack else ""
        cause = str(document.get("errorMessage", ""))
        if document.get("errorType") and document["errorType"] != error_type:
            cause = f"{document['errorType']}: {cause}"
        message = f"Function {self.spec.name!r}{where} failed to initialise ({error_type}): {cause}"
        with self._condition:
            request = self._request
            if request is None or request.delivered_at is not None or request.outcome:
                return HTTPStatus.FORBIDDEN
            request.outcome = Outcome(body, error_type, message)
            self._condition.notify_all()
        return HTTPStatus.ACCEPTED

    def _settle(self, request_id: str, outcome: Outcome, status: HTTPStatus) -> HTTPStatus:
        with self._condition:
            request = self._request
            if request is None or request.id != request_id or request.delivered_at is None:
                return HTTPStatus.BAD_REQUEST
            if request.outcome is not None:
                return HTTPStatus.BAD_REQUEST
            request.outcome = outcome
            self._condition.notify_all()
        return status

    # The host's side.

    def run(self, request: Request) -> tuple[Outcome, float, float | None]:
        """Hand `request` to the process and wait for its outcome; returns it with the duration
        and, when this invocation is the one that found the process initialising, the init
        duration. Closes the sandbox after any failure that Lambda does not survive."""
        cold = self.first_next_at is None
        invoked_at = time.monotonic()
        with self._condition:
            self._request = request
            self._condition.notify_all()
            delivered = self._condition.wait_for(
                lambda: request.delivered_at is not None or self._finished(request),
                timeout=INIT_TIMEOUT_SECONDS,
            )
            if delivered and request.delivered_at is not None:
                remaining = request.delivered_at + request.timeout_seconds - time.monotonic()
                self._condition.wait_for(lambda: self._finished(request), timeout=remaining)
            outcome = request.outcome or self._failure(request)
            ended_at = time.monotonic()
            init_ready = self.first_next_at or ended_at
            self._request = None
        init_duration = (init_ready - self.started_at) * 1000 if cold else None
        duration = (ended_at - (request.delivered_at or invoked_at)) * 1000
        if outcome.error_type is not None and request.outcome is not outcome:
            self.close()
        elif request.delivered_at is None:
            self.close()  # the function never got past init
        return outcome, duration, init_duration

    def _finished(self, request: Request) -> bool:
        return request.outcome is not None or self.exit_code is not None or self.closed

    def _failure(self, request: Request) -> Outcome:
        if self.exit_code is not None:
            how = (
                f"signal: {signal.Signals(-self.exit_code).name}"
                if self.exit_code < 0
                else f"exit status {self.exit_code}"
            )
            message = f"Runtime exited with error: {how}"
            return Outcome(
                error_document("Runtime.ExitError", message), "Runtime.ExitError", message
            )
        if self.closed:
            message = "Runtime was stopped by the host"
            return Outcome(
                error_document("Runtime.ExitError", message), "Runtime.ExitError", message
            )
        if request.delivered_at is None:
            message = f"Init timed out after {INIT_TIMEOUT_SECONDS:.2f} seconds"
        else:
            message = f"Task timed out after {request.timeout_seconds:.2f} seconds"
        return Outcome(error_document("Sandbox.Timedout", message), "Sandbox.Timedout", message)

    def close(self) -> None:
        """Kill the process (and its group) and stop serving it; idempotent and thread-safe."""
        with self._condition:
            if self.closed:
                return
            self.closed = True
            self._condition.notify_all()
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        if self._api is not None:
            self._api.stop()
