"""HTTP APIs served on localhost as API Gateway serves them with payload format 2.0.

moto ignores `AWS::ApiGatewayV2::*`, so the transform takes those resources out of the stack and
this module serves them: `routes_from_template` reads the routes, integrations and JWT authorizers
that `serverless package` emits for `httpApi` events, and `HttpApiServer` answers real HTTP
requests with API Gateway's route selection, JWT authorization, v2.0 event, response mapping and
CORS. `LocalSigningKey` is the local cloud's identity provider: the tokens it signs are the only
ones a JWT authorizer here accepts.

Timeouts follow API Gateway's documented split: an integration that outlives its TimeoutInMillis
(30 s from osls) is answered 503 Service Unavailable while the invocation runs on; a function that
reaches its own, shorter timeout is a function error to API Gateway, so 500 Internal Server Error.

Where this departs from API Gateway, on purpose:

- A JWT authorizer trusts the local signing key in place of the issuer it names: that issuer
  (an identity provider on the internet, its JWKS out of reach) cannot sign tokens here. Tokens are
  verified against the local key and its issuer; the route's audience and scopes are enforced as
  configured.
- A route's integration invokes the function by name; an alias qualifier is not kept.
- Custom (Lambda) and IAM authorizers, and payload format 1.0, are refused when the routes are
  read, never served unprotected or in another shape.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import RSAKey

from localcloud.aws import ACCOUNT_ID
from localcloud.lambda_.functions import Invocation, Invoker
from localcloud.lifecycle import Part

logger = logging.getLogger(__name__)

DEFAULT_ISSUER = "https://localcloud.local/"
DEFAULT_IDENTITY_SOURCE = "$request.header.Authorization"
# API Gateway's own ceiling for an HTTP API integration, and what osls sets on every integration.
DEFAULT_INTEGRATION_TIMEOUT_SECONDS = 30.0
# API Gateway's payload quota for HTTP APIs.
MAX_BODY_BYTES = 10 * 1024 * 1024
ALGORITHM = "RS256"

# Content types API Gateway hands to the function as text; every other body arrives base64-encoded
# (form posts included, a well-known surprise of HTTP APIs).
_TEXT_TYPES = frozenset(
    {"application/json", "application/javascript", "application/xml", "application/graphql"}
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class TemplateShapeError(ValueError):
    """A HTTP API resource this module cannot read; the message names the resource."""

    def __init__(self, logical_id: str, problem: str) -> None:
        super().__init__(f"HTTP API resource {logical_id}: {problem}")
        self.logical_id = logical_id


class InvalidToken(Exception):
    """A token the local identity provider does not vouch for; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class JwtAuthorizer:
    name: str
    issuer: str
    audience: tuple[str, ...]
    identity_source: str = DEFAULT_IDENTITY_SOURCE


@dataclass(frozen=True)
class Route:
    route_key: str  # "GET /orders/{id}", "ANY /{proxy+}" or "$default"
    function: str  # the deployed function name
    authorizer: JwtAuthorizer | None = None
    scopes: tuple[str, ...] = ()
    timeout_seconds: float = (
        DEFAULT_INTEGRATION_TIMEOUT_SECONDS  # the integration's TimeoutInMillis
    )


# ---------------------------------------------------------------------------------------------
# Reading the routes from the template


def routes_from_template(
    template: Mapping[str, Any],
    function_name: Callable[[str], str],
    *,
    resolve: Callable[[Any], str] | None = None,
) -> list[Route]:
    """The routes of the template's `AWS::ApiGatewayV2::Route` resources, in template order.

    `function_name(logical_id)` gives the deployed name of the function an integration targets
    (an ARN is accepted too). `resolve(value)` turns an intrinsic function in an authorizer's
    issuer or audience (a `Ref` to a user pool client, say) into its value; without it such a value
    is an error, since guessing it would make every token fail or every token pass.
    """
    resources: Mapping[str, Any] = template.get("Resources") or {}
    routes = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::ApiGatewayV2::Route":
            continue
        properties = resource.get("Properties") or {}
        route_key = properties.get("RouteKey")
        if not isinstance(route_key, str) or not _valid_route_key(route_key):
            raise TemplateShapeError(logical_id, f"unreadable RouteKey {route_key!r}")
        integration_id = _integration_of(logical_id, properties.get("Target"))
        function, timeout = _integration(resources, integration_id, function_name)
        authorizer, scopes = _authorization(logical_id, properties, resources, resolve)
        routes.append(Route(route_key, function, authorizer, scopes, timeout))
    return routes


def cors_from_template(template: Mapping[str, Any]) -> dict[str, Any] | None:
    """The `CorsConfiguration` of the template's HTTP API, as `HttpApiServer(cors=...)` takes it."""
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") == "AWS::ApiGatewayV2::Api":
            cors = (resource.get("Properties") or {}).get("CorsConfiguration")
            return dict(cors) if cors else None
    return None


def _valid_route_key(route_key: str) -> bool:
    if route_key == "$default":
        return True
    method, _, path = route_key.partition(" ")
    return method in (*_METHODS, "ANY") and path.startswith("/")


def _integration_of(route_id: str, target: Any) -> str:
    # osls: {"Fn::Join": ["/", ["integrations", {"Ref": <Integration>}]]}
    if isinstance(target, Mapping) and "Fn::Join" in target:
        separator, parts = target["Fn::Join"]
        if separator == "/" and len(parts) == 2 and parts[0] == "integrations":
            reference = parts[1]
            if isinstance(reference, Mapping) and isinstance(reference.get("Ref"), str):
                return str(reference["Ref"])
    if isinstance(target, Mapping) and isinstance(target.get("Fn::Sub"), str):
        text = target["Fn::Sub"]
        if text.startswith("integrations/${") and text.endswith("}"):
            return str(text[len("integrations/${") : -1])
    raise TemplateShapeError(route_id, f"Target {target!r} does not reference an integration")


def _integration(
    resources: Mapping[str, Any], logical_id: str, function_name: Callable[[str], str]
) -> tuple[str, float]:
    resource = resources.get(logical_id)
    if not resource or resource.get("Type") != "AWS::ApiGatewayV2::Integration":
        raise TemplateShapeError(logical_id, "the route's integration is not in the template")
    properties = resource.get("Properties") or {}
    if properties.get("IntegrationType") != "AWS_PROXY":
        raise TemplateShapeError(
            logical_id, "only AWS_PROXY (Lambda proxy) integrations are served"
        )
    if str(properties.get("PayloadFormatVersion", "")) != "2.0":
        raise TemplateShapeError(logical_id, "only payload format version 2.0 is served")
    uri = properties.get("IntegrationUri")
    if isinstance(uri, str):
        return _function_from_arn(logical_id, uri), _timeout(properties)
    targets = _function_references(resources, uri)
    if len(targets) != 1:
        raise TemplateShapeError(logical_id, f"cannot tell the function of IntegrationUri {uri!r}")
    return _function_from_arn(logical_id, function_name(targets[0])), _timeout(properties)


def _timeout(properties: Mapping[str, Any]) -> float:
    millis = properties.get("TimeoutInMillis")
    return int(millis) / 1000 if millis is not None else DEFAULT_INTEGRATION_TIMEOUT_SECONDS


def _function_references(resources: Mapping[str, Any], value: Any) -> list[str]:
    """The logical ids of the functions `value` points at, following aliases and versions."""
    if isinstance(value, list):
        return [found for item in value for found in _function_references(resources, item)]
    if not isinstance(value, Mapping):
        return []
    if "Ref" in value:
        referenced = str(value["Ref"])
        return [] if referenced.startswith("AWS::") else [_follow(resources, referenced)]
    if "Fn::GetAtt" in value:
        attribute = value["Fn::GetAtt"]
        parts = attribute.split(".", 1) if isinstance(attribute, str) else list(attribute)
        return [_follow(resources, str(parts[0]))]
    return [found for item in value.values() for found in _function_references(resources, item)]


def _follow(resources: Mapping[str, Any], logical_id: str) -> str:
    resource = resources.get(logical_id) or {}
    if resource.get("Type") in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        inner = _function_references(
            resources, (resource.get("Properties") or {}).get("FunctionName")
        )
        if len(inner) == 1:
            return inner[0]
    return logical_id


def _function_from_arn(logical_id: str, name_or_arn: str) -> str:
    if not name_or_arn.startswith("arn:"):
        return name_or_arn
    # arn:aws:lambda:region:account:function:name[:qualifier], possibly inside an apigateway URI
    _, found, rest = name_or_arn.partition(":function:")
    if not found:
        raise TemplateShapeError(logical_id, f"{name_or_arn!r} is not a function ARN")
    return rest.split("/", 1)[0].split(":", 1)[0]


def _authorization(
    route_id: str,
    properties: Mapping[str, Any],
    resources: Mapping[str, Any],
    resolve: Callable[[Any], str] | None,
) -> tuple[JwtAuthorizer | None, tuple[str, ...]]:
    kind = properties.get("AuthorizationType", "NONE")
    if kind == "NONE":
        return None, ()
    if kind != "JWT":
        raise TemplateShapeError(route_id, f"authorization type {kind} is not served locally")
    reference = properties.get("AuthorizerId")
    if not isinstance(reference, Mapping) or not isinstance(reference.get("Ref"), str):
        raise TemplateShapeError(
            route_id, f"AuthorizerId {reference!r} is not a Ref to an authorizer"
        )
    scopes = properties.get("AuthorizationScopes") or []
    if not all(isinstance(scope, str) for scope in scopes):
        raise TemplateShapeError(route_id, f"unreadable AuthorizationScopes {scopes!r}")
    return _authorizer(str(reference["Ref"]), resources, resolve), tuple(scopes)


def _authorizer(
    logical_id: str, resources: Mapping[str, Any], resolve: Callable[[Any], str] | None
) -> JwtAuthorizer:
    resource = resources.get(logical_id)
    if not resource or resource.get("Type") != "AWS::ApiGatewayV2::Authorizer":
        raise TemplateShapeError(logical_id, "the route's authorizer is not in the template")
    properties = resource.get("Properties") or {}
    if properties.get("AuthorizerType") != "JWT":
        raise TemplateShapeError(logical_id, "only JWT authorizers are served locally")
    configuration = properties.get("JwtConfiguration") or {}

    def text(value: Any, what: str) -> str:
        if isinstance(value, str):
            return value
        if resolve is not None:
            return resolve(value)
        raise TemplateShapeError(logical_id, f"{what} {value!r} needs a resolver")

    audience = configuration.get("Audience") or []
    if not audience:
        raise TemplateShapeError(logical_id, "a JWT authorizer needs an Audience")
    sources = properties.get("IdentitySource") or []
    sources = [sources] if isinstance(sources, str) else list(sources)
    if len(sources) > 1 or not all(isinstance(source, str) for source in sources):
        raise TemplateShapeError(logical_id, f"unreadable IdentitySource {sources!r}")
    return JwtAuthorizer(
        name=str(properties.get("Name", logical_id)),
        issuer=text(configuration.get("Issuer", ""), "Issuer"),
        audience=tuple(text(entry, "Audience") for entry in audience),
        # osls emits an empty list when serverless.yml names none: API Gateway's default applies.
        identity_source=sources[0] if sources else DEFAULT_IDENTITY_SOURCE,
    )


# ---------------------------------------------------------------------------------------------
# The local identity provider


class LocalSigningKey:
    """An RS256 key that signs and verifies the local cloud's JWTs."""

    def __init__(self, key: RSAKey, *, issuer: str = DEFAULT_ISSUER) -> None:
        self._key = key
        self.issuer = issuer
        self.kid = key.kid or key.thumbprint()

    @classmethod
    def load_or_create(cls, path: Path, *, issuer: str = DEFAULT_ISSUER) -> LocalSigningKey:
        """The key kept at `path` (a private JWK), created there on first use."""
        if not path.exists():
            key = RSAKey.generate_key(
                2048, parameters={"use": "sig", "alg": ALGORITHM}, private=True
            )
            document = key.as_dict(private=True, kid=key.thumbprint())
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            draft.write_text(json.dumps(document))
            draft.chmod(0o600)
            try:
                # A link never replaces: when two processes race, both end up with the first key.
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        key = RSAKey.import_key(json.loads(path.read_text()))
        return cls(key, issuer=issuer)

    def public_jwks(self) -> dict[str, Any]:
        """The public key as a JWK set, for anything that verifies tokens itself."""
        return {"keys": [dict(self._key.as_dict(private=False))]}

    def token(
        self,
        subject: str,
        *,
        audience: str,
        claims: Mapping[str, Any] | None = None,
        ttl_seconds: int = 3600,
        scopes: Sequence[str] = (),
    ) -> str:
        """A signed JWT for `subject`; `claims` are added last, so they may override any other."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_hex(16),
        }
        if scopes:
            payload["scope"] = " ".join(scopes)
        payload.update(claims or {})
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, payload, self._key, algorithms=[ALGORITHM])

    def verify(self, token: str, *, issuer: str, audience: Sequence[str]) -> dict[str, Any]:
        """The token's claims, checked as API Gateway's JWT authorizer checks them.

        Raises `InvalidToken` for a malformed token, an unknown key or algorithm, a bad signature,
        an expired or not-yet-valid token, another issuer, or none of `audience` in `aud` (or in
        `client_id` when there is no `aud`).
        """
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError, binascii.Error) as error:
            raise InvalidToken("malformed token") from error
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
        if header.get("kid") != self.kid:
            raise InvalidToken("signed by an unknown key")
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM]).claims
        except BadSignatureError as error:
            raise InvalidToken("bad signature") from error
        except (JoseError, ValueError) as error:
            raise InvalidToken("malformed token") from error
        _check_times(claims, time.time())
        if claims.get("iss") != issuer:
            raise InvalidToken("issued by another issuer")
        presented = claims["aud"] if "aud" in claims else claims.get("client_id")
        presented = presented if isinstance(presented, list) else [presented]
        if not set(audience) & {value for value in presented if isinstance(value, str)}:
            raise InvalidToken("not for this audience")
        return dict(claims)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    def number(name: str) -> float | None:
        value = claims.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidToken(f"claim {name} is not a NumericDate")
        return float(value)

    expires = number("exp")
    if expires is None:
        raise InvalidToken("token has no expiry")
    if expires <= now:
        raise InvalidToken("token expired")
    not_before = number("nbf")
    if not_before is not None and not_before > now:
        raise InvalidToken("token not yet valid")
    issued = number("iat")
    if issued is not None and issued > now:
        raise InvalidToken("token issued in the future")


# ---------------------------------------------------------------------------------------------
# Serving


@dataclass(frozen=True)
class _Pattern:
    route: Route
    method: str  # "ANY" for any method; "" for $default
    segments: tuple[str, ...]  # literal segments, or "{name}" for a variable
    greedy: str | None  # the name of a trailing {name+} variable

    @classmethod
    def of(cls, route: Route) -> _Pattern:
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
class _Request:
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
class _Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    function: str | None = None
    route_key: str | None = None

    @classmethod
    def message(cls, status: int, message: str, **context: Any) -> _Response:
        body = json.dumps({"message": message}).encode()
        return cls(status, [("content-type", "application/json")], body, **context)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: HttpApiServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        self.server.api._serve(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - the base signature
        # Every request is logged once, with its route and function, by HttpApiServer.
        return


# BaseHTTPRequestHandler dispatches on do_<METHOD>; every method takes the same path.
for _method in _METHODS:
    setattr(_Handler, f"do_{_method}", _Handler._serve)


class HttpApiServer(Part):
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
        self._patterns = sorted((_Pattern.of(route) for route in routes), key=_Pattern.specificity)
        self._invoke = invoke
        self._signing_key = signing_key
        self._cors = dict(cors) if cors else None
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> Self:
        server = _Server(self._address, _Handler)
        server.api = self
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}" + (
            "" if self.stage == "$default" else f"/{self.stage}"
        )
        self._server = server
        # A short poll keeps stop() quick: shutdown() waits for the loop to look again.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"http-api-{self.name}",
            daemon=True,
        )
        self._thread.start()
        logger.info(
            "http api serving",
            extra={"api": self.name, "url": self.url, "routes": len(self._patterns)},
        )
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    # -- one request --------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        request_id = _request_id()
        try:
            request = _Request(
                method=handler.command.upper(),
                target=handler.path,
                protocol=handler.request_version,
                source_ip=str(handler.client_address[0]),
                headers=list(handler.headers.items()),
                body=_read_body(handler),
                request_id=request_id,
            )
            response = self._respond(request)
        except _BodyTooLarge:
            handler.close_connection = True
            response = _Response.message(413, "Request Entity Too Large")
        except Exception:
            logger.exception("http api request crashed", extra={"api": self.name})
            response = _Response.message(500, "Internal Server Error")
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

    def _respond(self, request: _Request) -> _Response:
        preflight = self._preflight(request)
        if preflight is not None:
            return preflight
        response = self._route(request)
        return self._with_cors(request, response)

    def _route(self, request: _Request) -> _Response:
        raw_path, _, raw_query = request.target.partition("?")
        path = raw_path
        if self.stage != "$default":
            prefix = f"/{self.stage}"
            if raw_path != prefix and not raw_path.startswith(prefix + "/"):
                return _Response.message(404, "Not Found")
            path = raw_path[len(prefix) :] or "/"
        segments = path.split("/")[1:]
        if segments == [""]:
            segments = []
        for pattern in self._patterns:
            parameters = pattern.match(request.method, segments)
            if parameters is not None:
                break
        else:
            return _Response.message(404, "Not Found")
        route = pattern.route
        context: dict[str, Any] = {"function": route.function, "route_key": route.route_key}
        authorizer: dict[str, Any] | None = None
        if route.authorizer is not None:
            outcome = self._authorize(route, route.authorizer, request, raw_query)
            if isinstance(outcome, _Response):
                outcome.route_key = route.route_key
                return outcome
            authorizer = outcome
        event = self._event(request, route, raw_path, raw_query, parameters, authorizer)
        return _response_of(self._call(route, json.dumps(event).encode()), **context)

    def _authorize(
        self, route: Route, authorizer: JwtAuthorizer, request: _Request, raw_query: str
    ) -> _Response | dict[str, Any]:
        token = _identity(authorizer.identity_source, request, raw_query)
        if not token:
            logger.info(
                "http api token missing", extra={"api": self.name, "route_key": route.route_key}
            )
            return _Response.message(401, "Unauthorized")
        try:
            claims = self._signing_key.verify(
                token, issuer=self._signing_key.issuer, audience=authorizer.audience
            )
        except InvalidToken as error:
            logger.info(
                "http api token refused",
                extra={"api": self.name, "route_key": route.route_key, "reason": error.reason},
            )
            return _Response.message(401, "Unauthorized")
        scopes = _scopes_of(claims)
        if route.scopes and not set(route.scopes) & set(scopes):
            logger.info(
                "http api token lacks scope",
                extra={
                    "api": self.name,
                    "route_key": route.route_key,
                    "required": list(route.scopes),
                },
            )
            return _Response.message(403, "Forbidden")
        return {
            "jwt": {
                "claims": {name: _claim_text(value) for name, value in claims.items()},
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
        request: _Request,
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
        headers.setdefault("x-amzn-trace-id", [_trace_id(request.epoch_ms)])
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
            "time": _clf_time(request.epoch_ms),
            "timeEpoch": request.epoch_ms,
        }
        if authorizer is not None:
            context["authorizer"] = authorizer
        event["requestContext"] = context
        if parameters:
            event["pathParameters"] = dict(parameters)
        if request.body:
            if _is_text(request.header("content-type")):
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

    def _preflight(self, request: _Request) -> _Response | None:
        # With CORS configured API Gateway answers preflights itself, before any route or
        # authorizer, whether or not an OPTIONS route exists.
        if (
            self._cors is None
            or request.method != "OPTIONS"
            or request.header("origin") is None
            or request.header("access-control-request-method") is None
        ):
            return None
        response = _Response(204, [])
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

    def _with_cors(self, request: _Request, response: _Response) -> _Response:
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


# ---------------------------------------------------------------------------------------------
# Helpers


class _BodyTooLarge(Exception):
    pass


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
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
                raise _BodyTooLarge
            chunks.append(handler.rfile.read(length))
            handler.rfile.readline()
    length = int(handler.headers.get("content-length") or 0)
    if length > MAX_BODY_BYTES:
        raise _BodyTooLarge
    return handler.rfile.read(length) if length else b""


def _identity(source: str, request: _Request, raw_query: str) -> str | None:
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


def _scopes_of(claims: Mapping[str, Any]) -> list[str]:
    scopes: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            scopes.extend(value.split())
        elif isinstance(value, list):
            scopes.extend(str(entry) for entry in value)
    return scopes


def _claim_text(value: Any) -> str:
    """A claim as API Gateway passes it: a string; a list as `[a b]`."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(entry) for entry in value) + "]"
    return json.dumps(value, separators=(",", ":"))


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def _response_of(invocation: Invocation | None, **context: Any) -> _Response:
    """Maps the function's outcome to the HTTP response, as payload format 2.0 does."""
    if invocation is None:
        # API Gateway answers 503 when the integration outlives TimeoutInMillis; a function that
        # reaches its own timeout first is a function error to API Gateway (500).
        return _Response.message(503, "Service Unavailable", **context)
    if not invocation.ok:
        logger.warning(
            "http api function failed",
            extra={"function": invocation.function, "error_type": invocation.error_type},
        )
        return _Response.message(500, "Internal Server Error", **context)
    try:
        value = invocation.json()
    except ValueError:
        return _malformed(invocation, "not JSON", **context)
    if not isinstance(value, dict) or "statusCode" not in value:
        # API Gateway infers a 200 JSON response from any other valid JSON.
        return _Response(200, [("content-type", "application/json")], invocation.payload, **context)
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
    return _Response(status, response_headers, data, **context)


def _malformed(invocation: Invocation, problem: str, **context: Any) -> _Response:
    logger.warning(
        "http api function response malformed",
        extra={"function": invocation.function, "problem": problem},
    )
    return _Response.message(500, "Internal Server Error", **context)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _request_id() -> str:
    # API Gateway's request ids look like "JKJaXmPLvHcESHA=".
    return base64.b64encode(secrets.token_bytes(10)).decode()


def _trace_id(epoch_ms: int) -> str:
    return f"Root=1-{epoch_ms // 1000:08x}-{secrets.token_hex(12)}"


def _clf_time(epoch_ms: int) -> str:
    moment = time.gmtime(epoch_ms / 1000)
    month = _MONTHS[moment.tm_mon - 1]
    return (
        f"{moment.tm_mday:02d}/{month}/{moment.tm_year}:{time.strftime('%H:%M:%S', moment)} +0000"
    )
