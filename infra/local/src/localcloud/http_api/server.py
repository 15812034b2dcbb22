"""`HttpApiServer`: one HTTP API on a loopback port, answering real HTTP requests with API
Gateway's route selection, JWT authorization, payload format 2.0 event, response mapping and
CORS.

Timeouts follow API Gateway's documented split: an integration that outlives its TimeoutInMillis
(30 s from osls) is answered 503 Service Unavailable while the invocation runs on; a function that
reaches its own, shorter timeout is a function error to API Gateway, so 500 Internal Server Error."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

from localcloud.aws import ACCOUNT_ID
from localcloud.http_api.messages import (
    BodyTooLarge,
    Pattern,
    Request,
    Response,
    claim_text,
    clf_time,
    identity,
    is_text,
    new_request_id,
    read_body,
    response_of,
    scopes_of,
    trace_id,
)
from localcloud.http_api.routes import (
    METHODS,
    JwtAuthorizer,
    Route,
)
from localcloud.http_api.signing_key import InvalidToken, LocalSigningKey
from localcloud.lambda_.functions import Invocation, Invoker
from localcloud.lifecycle import HttpPart, KeepAliveHandler

logger = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: HttpApiServer


class _Handler(KeepAliveHandler):
    server: _Server

    def _serve(self) -> None:
        self.server.api._serve(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - the base signature
        # Every request is logged once, with its route and function, by HttpApiServer.
        return


# BaseHTTPRequestHandler dispatches on do_<METHOD>; every method takes the same path.
for _method in METHODS:
    setattr(_Handler, f"do_{_method}", _Handler._serve)


class HttpApiServer(HttpPart):
    """One HTTP API on a local port: routes, JWT authorizers and CORS, with payload format 2.0."""

    def __init__(
        self,
        routes: Sequence[Route],
        invoke: Invoker,
        signing_key: LocalSigningKey,
        *,
        name: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
        stage: str = "$default",
        cors: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.stage = stage
        self.api_id = hashlib.sha256((name or "http-api").encode()).hexdigest()[:10]
        self._patterns = sorted((Pattern.of(route) for route in routes), key=Pattern.specificity)
        self._invoke = invoke
        self._signing_key = signing_key
        self._cors = dict(cors) if cors else None
        # A short poll keeps stop() quick: shutdown() waits for the loop to look again.
        super().__init__(
            _Handler,
            name=f"http-api-{name}",
            host=host,
            port=port,
            server_class=_Server,
            poll_interval=0.05,
            join_seconds=5,
        )
        cast(_Server, self._server).api = self
        if stage != "$default":
            self.url += f"/{stage}"

    def start(self) -> Self:
        super().start()
        logger.info(
            "http api serving",
            extra={"api": self.name, "url": self.url, "routes": len(self._patterns)},
        )
        return self

    # -- one request --------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        request_id = new_request_id()
        try:
            request = Request(
                method=handler.command.upper(),
                target=handler.path,
                protocol=handler.request_version,
                source_ip=str(handler.client_address[0]),
                headers=list(handler.headers.items()),
                body=read_body(handler),
                request_id=request_id,
            )
            response = self._respond(request)
        except BodyTooLarge:
            handler.close_connection = True
            response = Response.message(413, "Request Entity Too Large")
        except Exception:
            logger.exception("http api request crashed", extra={"api": self.name})
            response = Response.message(500, "Internal Server Error")
        logger.info(
            "http api request",
            extra={
                "api": self.name,
                "method": handler.command,
                "path": handler.path.partition("?")[0],
                "route_key": response.route_key,
                "status": response.status,
                "function": response.function,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        handler.send_response(response.status)
        for key, value in response.headers:
            handler.send_header(key, value)
        handler.send_header("apigw-requestid", request_id)
        handler.send_header("content-length", str(len(response.body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(response.body)

    def _respond(self, request: Request) -> Response:
        preflight = self._preflight(request)
        if preflight is not None:
            return preflight
        response = self._route(request)
        return self._with_cors(request, response)

    def _route(self, request: Request) -> Response:
        raw_path, _, raw_query = request.target.partition("?")
        path = raw_path
        if self.stage != "$default":
            prefix = f"/{self.stage}"
            if raw_path != prefix and not raw_path.startswith(prefix + "/"):
                return Response.message(404, "Not Found")
            path = raw_path[len(prefix) :] or "/"
        segments = path.split("/")[1:]
        if segments == [""]:
            segments = []
        for pattern in self._patterns:
            parameters = pattern.match(request.method, segments)
            if parameters is not None:
                break
        else:
            return Response.message(404, "Not Found")
        route = pattern.route
        context: dict[str, Any] = {"function": route.function, "route_key": route.route_key}
        authorizer: dict[str, Any] | None = None
        if route.authorizer is not None:
            outcome = self._authorize(route, route.authorizer, request, raw_query)
            if isinstance(outcome, Response):
                outcome.route_key = route.route_key
                return outcome
            authorizer = outcome
        event = self._event(request, route, raw_path, raw_query, parameters, authorizer)
        return response_of(self._call(route, json.dumps(event).encode()), **context)

    def _authorize(
        self, route: Route, authorizer: JwtAuthorizer, request: Request, raw_query: str
    ) -> Response | dict[str, Any]:
        token = identity(authorizer.identity_source, request, raw_query)
        if not token:
            logger.info(
                "http api token missing", extra={"api": self.name, "route_key": route.route_key}
            )
            return Response.message(401, "Unauthorized")
        try:
            claims = self._signing_key.verify(
                token, issuer=self._signing_key.issuer, audience=authorizer.audience
            )
        except InvalidToken as error:
            logger.info(
                "http api token refused",
                extra={"api": self.name, "route_key": route.route_key, "reason": error.reason},
            )
            return Response.message(401, "Unauthorized")
        scopes = scopes_of(claims)
        if route.scopes and not set(route.scopes) & set(scopes):
            logger.info(
                "http api token lacks scope",
                extra={
                    "api": self.name,
                    "route_key": route.route_key,
                    "required": list(route.scopes),
                },
            )
            return Response.message(403, "Forbidden")
        return {
            "jwt": {
                "claims": {name: claim_text(value) for name, value in claims.items()},
                # API Gateway fills this only for routes that require scopes.
                "scopes": scopes if route.scopes else None,
            }
        }

    def _call(self, route: Route, payload: bytes) -> Invocation | None:
        """The function's outcome, or None when the integration timed out."""
        outcome: list[Invocation | Exception] = []
        done = threading.Event()

        def invoke() -> None:
            try:
                outcome.append(self._invoke(route.function, payload))
            except Exception as error:
                outcome.append(error)
            finally:
                done.set()

        # The invocation runs on when the integration gives up, as a Lambda invocation does.
        threading.Thread(
            target=invoke, name=f"http-api-invoke-{route.function}", daemon=True
        ).start()
        if not done.wait(route.timeout_seconds):
            logger.warning(
                "http api integration timed out",
                extra={
                    "api": self.name,
                    "function": route.function,
                    "timeout_s": route.timeout_seconds,
                },
            )
            return None
        result = outcome[0]
        if isinstance(result, Exception):
            logger.error(
                "http api invoke failed",
                extra={"api": self.name, "function": route.function, "error": repr(result)},
            )
            return Invocation(route.function, "", b"", 0.0, error_type=type(result).__name__)
        return result

    def _event(
        self,
        request: Request,
        route: Route,
        raw_path: str,
        raw_query: str,
        parameters: Mapping[str, str],
        authorizer: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        headers: dict[str, list[str]] = {}
        for key, value in request.headers:
            headers.setdefault(key.lower(), []).append(value)
        cookie_headers = headers.pop("cookie", [])
        cookies = [
            cookie.strip()
            for header in cookie_headers
            for cookie in header.split(";")
            if cookie.strip()
        ]
        headers.setdefault("x-forwarded-for", [request.source_ip])
        headers.setdefault("x-forwarded-proto", ["http"])
        headers.setdefault("x-forwarded-port", [self.url.split(":")[2].split("/")[0]])
        headers.setdefault("x-amzn-trace-id", [trace_id(request.epoch_ms)])
        host = (headers.get("host") or [""])[0]
        query: dict[str, list[str]] = {}
        for key, value in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        route_key = route.route_key
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": {key: ",".join(values) for key, values in headers.items()},
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = {
                key: ",".join(values) for key, values in query.items()
            }
        context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "apiId": self.api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": request.header("user-agent") or "",
            },
            "requestId": request.request_id,
            "routeKey": route_key,
            "stage": self.stage,
            "time": clf_time(request.epoch_ms),
            "timeEpoch": request.epoch_ms,
        }
        if authorizer is not None:
            context["authorizer"] = authorizer
        event["requestContext"] = context
        if parameters:
            event["pathParameters"] = dict(parameters)
        if request.body:
            if is_text(request.header("content-type")):
                event["body"] = request.body.decode("utf-8", errors="replace")
                event["isBase64Encoded"] = False
            else:
                event["body"] = base64.b64encode(request.body).decode()
                event["isBase64Encoded"] = True
        else:
            event["isBase64Encoded"] = False
        return event

    # -- CORS ---------------------------------------------------------------------------------

    def _allowed_origin(self, origin: str | None) -> str | None:
        if self._cors is None or origin is None:
            return None
        allowed = [str(entry) for entry in self._cors.get("AllowOrigins") or []]
        if "*" in allowed:
            return "*"
        return origin if origin.lower() in {entry.lower() for entry in allowed} else None

    def _preflight(self, request: Request) -> Response | None:
        # With CORS configured API Gateway answers preflights itself, before any route or
        # authorizer, whether or not an OPTIONS route exists.
        if (
            self._cors is None
            or request.method != "OPTIONS"
            or request.header("origin") is None
            or request.header("access-control-request-method") is None
        ):
            return None
        response = Response(204, [])
        origin = self._allowed_origin(request.header("origin"))
        if origin is None:
            return response
        cors = self._cors
        response.headers.append(("access-control-allow-origin", origin))
        if cors.get("AllowMethods"):
            response.headers.append(
                ("access-control-allow-methods", ",".join(cors["AllowMethods"]))
            )
        if cors.get("AllowHeaders"):
            allow_headers = ",".join(str(header).lower() for header in cors["AllowHeaders"])
            response.headers.append(("access-control-allow-headers", allow_headers))
        if cors.get("MaxAge") is not None:
            response.headers.append(("access-control-max-age", str(cors["MaxAge"])))
        if cors.get("AllowCredentials"):
            response.headers.append(("access-control-allow-credentials", "true"))
        return response

    def _with_cors(self, request: Request, response: Response) -> Response:
        if self._cors is None:
            return response
        # API Gateway ignores the CORS headers of the integration when CORS is configured.
        response.headers = [
            (key, value)
            for key, value in response.headers
            if not key.lower().startswith("access-control-")
        ]
        origin = self._allowed_origin(request.header("origin"))
        if origin is None:
            return response
        response.headers.append(("access-control-allow-origin", origin))
        if self._cors.get("ExposeHeaders"):
            exposed = ",".join(str(header).lower() for header in self._cors["ExposeHeaders"])
            response.headers.append(("access-control-expose-headers", exposed))
        if self._cors.get("AllowCredentials"):
            response.headers.append(("access-control-allow-credentials", "true"))
        return response
