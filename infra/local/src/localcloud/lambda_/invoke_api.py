"""The Lambda Invoke API, served for the functions of the local cloud.

moto's own Invoke needs Docker; this serves `POST /2015-03-31/functions/{name}/invocations` from
the Lambda host instead, so any SDK pointed at it (`AWS_ENDPOINT_URL_LAMBDA`) invokes local
functions as it would in AWS: a function error is a 200 with `X-Amz-Function-Error`, an unknown
function a 404 `ResourceNotFoundException`, a function whose reserved concurrency is 0 a 429
`TooManyRequestsException`, an `Event` invocation a 202 answered at once.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from localcloud.lambda_.functions import FunctionNotFound, FunctionThrottled, Invoker
from localcloud.lifecycle import HttpPart, KeepAliveHandler

logger = logging.getLogger(__name__)

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


class LambdaApiServer(HttpPart):
    def __init__(
        self,
        invoke: Invoker,
        *,
        exists: Callable[[str], bool],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._invoke = invoke
        self._exists = exists
        super().__init__(self._handler(), name="lambda-api", host=host, port=port)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        invoke, exists = self._invoke, self._exists

        def invoke_check(name: str) -> None:
            # A dry run or an event is answered at once, but only for a function that exists.
            if not exists(name):
                raise FunctionNotFound(name)

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                match = INVOKE_PATH.match(self.path.split("?", 1)[0])
                if match is None:
                    self._answer(
                        404,
                        {"Type": "User", "message": f"unknown path {self.path}"},
                        "UnknownOperationException",
                    )
                    return
                # A name, a partial ARN or a full ARN (possibly qualified) all name the function.
                name = unquote(match["name"]).split(":function:")[-1].split(":")[0]
                payload = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}"
                kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
                try:
                    if kind == "DryRun":
                        invoke_check(name)
                        self._answer(204, None)
                    elif kind == "Event":
                        invoke_check(name)
                        threading.Thread(target=invoke, args=(name, payload), daemon=True).start()
                        self._answer(202, None)
                    else:
                        invocation = invoke(name, payload)
                        headers = {"X-Amz-Executed-Version": "$LATEST"}
                        if not invocation.ok:
                            headers["X-Amz-Function-Error"] = "Unhandled"
                        self._send(200, invocation.payload, headers)
                except FunctionNotFound as error:
                    self._answer(
                        404, {"Type": "User", "message": str(error)}, "ResourceNotFoundException"
                    )
                except FunctionThrottled as error:
                    self._answer(
                        429,
                        {
                            "Type": "User",
                            "message": str(error),
                            "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                        },
                        "TooManyRequestsException",
                    )

            def _answer(self, status: int, body: object, error_type: str | None = None) -> None:
                headers = {"x-amzn-ErrorType": error_type} if error_type else {}
                self._send(status, b"" if body is None else json.dumps(body).encode(), headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for header, value in headers.items():
                    self.send_header(header, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                logger.debug("lambda api request", extra={"request": format % args})

        return Handler
