"""The pieces of one request through an HTTP API: route patterns and their selection order
(`Pattern`), the request as read (`Request`), the response to send (`Response`), and how API
Gateway's payload format 2.0 maps a function's answer to an HTTP response (`response_of`)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from localcloud.http_api.routes import (
    Route,
)
from localcloud.lambda_.functions import Invocation

logger = logging.getLogger(__name__)

# API Gateway's payload quota for HTTP APIs.
MAX_BODY_BYTES = 10 * 1024 * 1024
# Content types API Gateway hands to the function as text; every other body arrives base64-encoded
# (form posts included, a well-known surprise of HTTP APIs).
_TEXT_TYPES = frozenset(
    {"application/json", "application/javascript", "application/xml", "application/graphql"}
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Pattern:
    route: Route
    method: str  # "ANY" for any method; "" for $default
    segments: tuple[str, ...]  # literal segments, or "{name}" for a variable
    greedy: str | None  # the name of a trailing {name+} variable

    @classmethod
    def of(cls, route: Route) -> Pattern:
        if route.route_key == "$default":
            return cls(route, "", (), None)
        method, _, path = route.route_key.partition(" ")
        segments = tuple(segment for segment in path.split("/")[1:] if segment != "")
        if segments and segments[-1].startswith("{") and segments[-1].endswith("+}"):
            return cls(route, method, segments[:-1], segments[-1][1:-2])
        return cls(route, method, segments, None)

    def match(self, method: str, segments: Sequence[str]) -> dict[str, str] | None:
        if self.method not in ("", "ANY", method):
            return None
        if not self.method:
            return {}
        fixed = len(self.segments)
        if self.greedy is None and len(segments) != fixed:
            return None
        if self.greedy is not None and len(segments) <= fixed:
            return None
        parameters = {}
        for pattern, segment in zip(self.segments, segments, strict=False):
            value = urllib.parse.unquote(segment)
            if pattern.startswith("{") and pattern.endswith("}"):
                if not value:
                    return None
                parameters[pattern[1:-1]] = value
            elif pattern != value:
                return None
        if self.greedy is not None:
            parameters[self.greedy] = urllib.parse.unquote("/".join(segments[fixed:]))
        return parameters

    def specificity(self) -> tuple[Any, ...]:
        """Sorts most specific first: literal over variable segment, longer greedy prefix, an
        exact method over ANY, and $default last."""
        variables = tuple(int(segment.startswith("{")) for segment in self.segments)
        return (
            not self.method,
            self.greedy is not None,
            -len(self.segments),
            variables,
            self.method == "ANY",
        )


@dataclass
class Request:
    method: str
    target: str
    protocol: str
    source_ip: str
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str
    epoch_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name]
        return ",".join(values) if values else None


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    function: str | None = None
    route_key: str | None = None

    @classmethod
    def message(cls, status: int, message: str, **context: Any) -> Response:
        body = json.dumps({"message": message}).encode()
        return cls(status, [("content-type", "application/json")], body, **context)


class BodyTooLarge(Exception):
    pass


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        chunks: list[bytes] = []
        size = 0
        while True:
            length = int(handler.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if length == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            size += length
            if size > MAX_BODY_BYTES:
                raise BodyTooLarge
            chunks.append(handler.rfile.read(length))
            handler.rfile.readline()
    length = int(handler.headers.get("content-length") or 0)
    if length > MAX_BODY_BYTES:
        raise BodyTooLarge
    return handler.rfile.read(length) if length else b""


def identity(source: str, request: Request, raw_query: str) -> str | None:
    kind, _, name = source.removeprefix("$request.").partition(".")
    if kind == "header":
        value = request.header(name.lower())
    elif kind == "querystring":
        values = urllib.parse.parse_qs(raw_query).get(name)
        value = values[0] if values else None
    else:
        value = None
    if value is None:
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def scopes_of(claims: Mapping[str, Any]) -> list[str]:
    scopes: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            scopes.extend(value.split())
        elif isinstance(value, list):
            scopes.extend(str(entry) for entry in value)
    return scopes


def claim_text(value: Any) -> str:
    """A claim as API Gateway passes it: a string; a list as `[a b]`."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(claim_text(entry) for entry in value) + "]"
    return json.dumps(value, separators=(",", ":"))


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def response_of(invocation: Invocation | None, **context: Any) -> Response:
    """Maps the function's outcome to the HTTP response, as payload format 2.0 does."""
    if invocation is None:
        # API Gateway answers 503 when the integration outlives TimeoutInMillis; a function that
        # reaches its own timeout first is a function error to API Gateway (500).
        return Response.message(503, "Service Unavailable", **context)
    if not invocation.ok:
        logger.warning(
            "http api function failed",
            extra={"function": invocation.function, "error_type": invocation.error_type},
        )
        return Response.message(500, "Internal Server Error", **context)
    try:
        value = invocation.json()
    except ValueError:
        return _malformed(invocation, "not JSON", **context)
    if not isinstance(value, dict) or "statusCode" not in value:
        # API Gateway infers a 200 JSON response from any other valid JSON.
        return Response(200, [("content-type", "application/json")], invocation.payload, **context)
    status = value["statusCode"]
    body = value.get("body", "")
    headers = value.get("headers") or {}
    cookies = value.get("cookies") or []
    if (
        isinstance(status, bool)
        or not isinstance(status, int)
        or not 100 <= status <= 599
        or not isinstance(body, str | None)
        or not isinstance(headers, dict)
        or not isinstance(cookies, list)
    ):
        return _malformed(
            invocation, "statusCode, body, headers or cookies of the wrong type", **context
        )
    # multiValueHeaders belongs to payload format 1.0: API Gateway ignores it under 2.0.
    response_headers = [(str(key), _header_text(val)) for key, val in headers.items()]
    if not any(key.lower() == "content-type" for key, _ in response_headers):
        response_headers.append(("content-type", "text/plain; charset=utf-8"))
    response_headers += [("set-cookie", str(cookie)) for cookie in cookies]
    data = (body or "").encode()
    if value.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body or "", validate=True)
        except (binascii.Error, ValueError):
            return _malformed(
                invocation, "isBase64Encoded with a body that is not base64", **context
            )
    return Response(status, response_headers, data, **context)


def _malformed(invocation: Invocation, problem: str, **context: Any) -> Response:
    logger.warning(
        "http api function response malformed",
        extra={"function": invocation.function, "problem": problem},
    )
    return Response.message(500, "Internal Server Error", **context)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def new_request_id() -> str:
    # API Gateway's request ids look like "JKJaXmPLvHcESHA=".
    return base64.b64encode(secrets.token_bytes(10)).decode()


def trace_id(epoch_ms: int) -> str:
    return f"Root=1-{epoch_ms // 1000:08x}-{secrets.token_hex(12)}"


def clf_time(epoch_ms: int) -> str:
    moment = time.gmtime(epoch_ms / 1000)
    month = _MONTHS[moment.tm_mon - 1]
    return (
        f"{moment.tm_mday:02d}/{month}/{moment.tm_year}:{time.strftime('%H:%M:%S', moment)} +0000"
    )
