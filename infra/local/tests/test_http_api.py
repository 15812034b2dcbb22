"""The local HTTP API: routes read from osls's template, served as API Gateway payload v2.0."""

from __future__ import annotations

import base64
import copy
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from localcloud.http_api import (
    HttpApiServer,
    InvalidToken,
    JwtAuthorizer,
    LocalSigningKey,
    Route,
    TemplateShapeError,
    cors_from_template,
    routes_from_template,
)
from localcloud.lambda_.functions import Invocation

# Sockets of their own (the routes are served and called over loopback HTTP):
# not a unit test, whatever its fixtures.
pytestmark = pytest.mark.integration

AUDIENCE = "shop-api"
ISSUER = "https://localcloud.local/"

# The ApiGatewayV2 resources of a real `serverless package` (osls 4.3.1) template for
#   functions.probe.events: [{httpApi: {method: GET, path: /ping}}]
# extended with what osls emits for a JWT authorizer (provider.httpApi.authorizers), a route using
# it with scopes, a catch-all `*` route, a function with an alias, and provider.httpApi.cors.
OSLS_HTTP_API: dict[str, Any] = {
    "Resources": {
        "HttpApi": {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": "local-probe",
                "ProtocolType": "HTTP",
                "CorsConfiguration": {
                    "AllowHeaders": ["Content-Type", "Authorization"],
                    "AllowMethods": ["OPTIONS", "GET"],
                    "AllowOrigins": ["https://shop.example"],
                    "ExposeHeaders": ["X-Request-Id"],
                    "MaxAge": 600,
                },
            },
        },
        "HttpApiStage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "StageName": "$default",
                "AutoDeploy": True,
                "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
            },
        },
        "HttpApiIntegrationProbe": {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {"Fn::GetAtt": ["ProbeLambdaFunction", "Arn"]},
                "PayloadFormatVersion": "2.0",
                "TimeoutInMillis": 30000,
            },
        },
        "HttpApiRouteGetPing": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "RouteKey": "GET /ping",
                "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "HttpApiIntegrationProbe"}]]},
            },
            "DependsOn": "HttpApiIntegrationProbe",
        },
        "HttpApiAuthorizerCustomer": {
            "Type": "AWS::ApiGatewayV2::Authorizer",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "Name": "customer",
                "IdentitySource": ["$request.header.Authorization"],
                "AuthorizerType": "JWT",
                "JwtConfiguration": {"Audience": [AUDIENCE], "Issuer": ISSUER},
            },
        },
        "HttpApiIntegrationOrders": {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {
                    "Fn::Join": [":", [{"Fn::GetAtt": ["OrdersLambdaFunction", "Arn"]}, "live"]]
                },
                "PayloadFormatVersion": "2.0",
                "TimeoutInMillis": 10000,
            },
        },
        "HttpApiRouteGetOrdersIdVar": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "RouteKey": "GET /orders/{id}",
                "Target": {
                    "Fn::Join": ["/", ["integrations", {"Ref": "HttpApiIntegrationOrders"}]]
                },
                "AuthorizationType": "JWT",
                "AuthorizerId": {"Ref": "HttpApiAuthorizerCustomer"},
                "AuthorizationScopes": ["orders/read"],
            },
            "DependsOn": "HttpApiIntegrationOrders",
        },
        "HttpApiRouteDefault": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "RouteKey": "$default",
                "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "HttpApiIntegrationProbe"}]]},
            },
            "DependsOn": "HttpApiIntegrationProbe",
        },
    }
}
DEPLOYED = {
    "ProbeLambdaFunction": "probe-local-probe",
    "OrdersLambdaFunction": "probe-local-orders",
}


# -- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> LocalSigningKey:
    # RSA key generation is the slow part: one key for the module.
    return LocalSigningKey.load_or_create(tmp_path_factory.mktemp("key") / "jwt-key.json")


@pytest.fixture(scope="module")
def foreign_key(tmp_path_factory: pytest.TempPathFactory) -> LocalSigningKey:
    return LocalSigningKey.load_or_create(tmp_path_factory.mktemp("foreign") / "jwt-key.json")


class FakeFunctions:
    """An Invoker: records every event, answers with the function's handler or echoes the event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.handlers: dict[str, Callable[[dict[str, Any]], Any]] = {}

    def __call__(self, function: str, payload: bytes) -> Invocation:
        event = json.loads(payload)
        self.events.append((function, event))
        handler = self.handlers.get(function, lambda event: {"statusCode": 200, "body": "ok"})
        outcome = handler(event)
        if isinstance(outcome, Invocation):
            return outcome
        return Invocation(function, "request-id", json.dumps(outcome).encode(), 1.0)

    @property
    def last_event(self) -> dict[str, Any]:
        return self.events[-1][1]


@pytest.fixture
def functions() -> FakeFunctions:
    return FakeFunctions()


@pytest.fixture
def serve(
    functions: FakeFunctions, signing_key: LocalSigningKey
) -> Iterator[Callable[..., HttpApiServer]]:
    servers: list[HttpApiServer] = []

    def start(routes: list[Route], **options: Any) -> HttpApiServer:
        server = HttpApiServer(routes, functions, signing_key, name="probe-local", **options)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def api(serve: Callable[..., HttpApiServer]) -> HttpApiServer:
    """The routes of the osls template, served."""
    return serve(
        routes_from_template(OSLS_HTTP_API, DEPLOYED.__getitem__),
        cors=cors_from_template(OSLS_HTTP_API),
    )


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- reading the template ------------------------------------------------------------------------


def test_routes_are_read_from_the_osls_template() -> None:
    # Given the HTTP API resources osls emits, with a JWT authorizer and an aliased function
    # When the routes are read
    routes = routes_from_template(OSLS_HTTP_API, DEPLOYED.__getitem__)

    # Then each route names its deployed function, authorizer, scopes and integration timeout
    assert routes == [
        Route("GET /ping", "probe-local-probe"),
        Route(
            "GET /orders/{id}",
            "probe-local-orders",
            JwtAuthorizer("customer", ISSUER, (AUDIENCE,), "$request.header.Authorization"),
            ("orders/read",),
            timeout_seconds=10.0,
        ),
        Route("$default", "probe-local-probe"),
    ]
    assert (
        cors_from_template(OSLS_HTTP_API)
        == OSLS_HTTP_API["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    )


def test_an_authorizer_without_identity_source_reads_the_authorization_header() -> None:
    # Given an authorizer as osls emits it when serverless.yml names no identitySource
    template = copy.deepcopy(OSLS_HTTP_API)
    template["Resources"]["HttpApiAuthorizerCustomer"]["Properties"]["IdentitySource"] = []

    # When the routes are read
    routes = routes_from_template(template, DEPLOYED.__getitem__)

    # Then API Gateway's default identity source applies
    assert routes[1].authorizer is not None
    assert routes[1].authorizer.identity_source == "$request.header.Authorization"


@pytest.mark.parametrize(
    ("resource", "change", "named"),
    [
        ("HttpApiRouteGetPing", {"Target": "integrations/abc123"}, "HttpApiRouteGetPing"),
        ("HttpApiIntegrationProbe", {"PayloadFormatVersion": "1.0"}, "HttpApiIntegrationProbe"),
        (
            "HttpApiRouteGetOrdersIdVar",
            {"AuthorizationType": "CUSTOM"},
            "HttpApiRouteGetOrdersIdVar",
        ),
        (
            "HttpApiAuthorizerCustomer",
            {"JwtConfiguration": {"Audience": [{"Ref": "UserPoolClient"}], "Issuer": ISSUER}},
            "HttpApiAuthorizerCustomer",
        ),
    ],
)
def test_shapes_that_cannot_be_served_are_refused_naming_the_resource(
    resource: str, change: dict[str, Any], named: str
) -> None:
    # Given a template with one resource in a shape the local cloud cannot serve faithfully
    template = copy.deepcopy(OSLS_HTTP_API)
    template["Resources"][resource]["Properties"].update(change)

    # When the routes are read
    # Then the error names the resource
    with pytest.raises(TemplateShapeError, match=named):
        routes_from_template(template, DEPLOYED.__getitem__)


# -- routing and the v2.0 event ------------------------------------------------------------------


def test_a_route_with_a_path_parameter_gets_the_v2_event(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions
) -> None:
    # Given a route with a path parameter
    server = serve([Route("GET /items/{id}", "items")])

    # When it is requested with a query string, repeated headers and cookies
    reply = call(
        f"{server.url}/items/a%20b?size=2&tag=x&tag=y&empty=",
        headers={"User-Agent": "probe/1", "X-Many": "one", "Cookie": "a=1; b=2"},
    )

    # Then the function gets API Gateway's v2.0 event
    assert reply.status == 200
    function, event = functions.events[-1]
    assert function == "items"
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/a%20b"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["rawQueryString"] == "size=2&tag=x&tag=y&empty="
    assert event["queryStringParameters"] == {"size": "2", "tag": "x,y", "empty": ""}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-many"] == "one"
    assert event["headers"]["user-agent"] == "probe/1"
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/items/a%20b",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "probe/1",
    }
    assert context["routeKey"] == "GET /items/{id}"
    assert context["stage"] == "$default"
    assert context["accountId"] == "123456789012"
    assert context["domainName"] == server.url.removeprefix("http://")
    assert abs(context["timeEpoch"] - time.time() * 1000) < 10_000
    assert reply.headers["apigw-requestid"] == context["requestId"]
    assert "authorizer" not in context


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/orders/latest", "GET /orders/latest"),
        ("GET", "/orders/42", "GET /orders/{id}"),
        ("DELETE", "/orders/42", "ANY /orders/{id}"),
        ("GET", "/orders/42/lines/7", "ANY /orders/{proxy+}"),
        ("GET", "/anything/else", "ANY /{proxy+}"),
        ("GET", "/", "$default"),
    ],
)
def test_the_most_specific_route_wins(
    serve: Callable[..., HttpApiServer],
    functions: FakeFunctions,
    method: str,
    path: str,
    expected: str,
) -> None:
    # Given overlapping routes, each with its own function
    keys = [
        "$default",
        "ANY /{proxy+}",
        "ANY /orders/{proxy+}",
        "ANY /orders/{id}",
        "GET /orders/{id}",
        "GET /orders/latest",
    ]
    server = serve([Route(key, key) for key in keys])

    # When a request is made
    reply = call(server.url + path, method=method)

    # Then the most specific matching route takes it
    assert reply.status == 200
    assert functions.events[-1][0] == expected


def test_no_matching_route_is_not_found(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions
) -> None:
    # Given a GET route only
    server = serve([Route("GET /items/{id}", "items")])

    # When another path or another method is requested
    replies = [call(f"{server.url}/nothing"), call(f"{server.url}/items/1", method="POST")]

    # Then API Gateway's 404 is answered without invoking anything
    assert [reply.status for reply in replies] == [404, 404]
    assert replies[0].json() == {"message": "Not Found"}
    assert functions.events == []


def test_a_json_body_arrives_as_text(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions
) -> None:
    # Given a POST route
    server = serve([Route("POST /items", "items")])

    # When a JSON body is posted
    body = json.dumps({"sku": "é-1", "quantity": 2}).encode()
    call(f"{server.url}/items", "POST", body, {"Content-Type": "application/json; charset=utf-8"})

    # Then the function reads it as text
    event = functions.last_event
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"sku": "é-1", "quantity": 2}
    assert event["headers"]["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "application/x-www-form-urlencoded"]
)
def test_a_non_text_body_arrives_base64_encoded(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions, content_type: str
) -> None:
    # Given a POST route
    server = serve([Route("POST /upload", "upload")])

    # When a body of a non-text content type is posted
    body = b"\x00\xffa=1&b=2"
    call(f"{server.url}/upload", "POST", body, {"Content-Type": content_type})

    # Then it arrives base64-encoded, as API Gateway sends it
    event = functions.last_event
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_a_named_stage_is_part_of_the_url_and_the_raw_path(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions
) -> None:
    # Given an API served on a named stage
    server = serve([Route("GET /ping", "probe")], stage="v1")

    # When the route is requested under the stage
    reply = call(f"{server.url}/ping")

    # Then it matches without the stage and the event keeps the full path
    assert server.url.endswith("/v1")
    assert reply.status == 200
    assert functions.last_event["rawPath"] == "/v1/ping"
    assert functions.last_event["requestContext"]["stage"] == "v1"


# -- JWT authorizer ------------------------------------------------------------------------------


def test_a_valid_token_forwards_its_claims_as_strings(
    api: HttpApiServer, functions: FakeFunctions, signing_key: LocalSigningKey
) -> None:
    # Given a token from the local signing key with the route's scope and extra claims
    token = signing_key.token(
        "customer-7",
        audience=AUDIENCE,
        scopes=["orders/read", "profile"],
        claims={"groups": ["admin", "staff"], "verified": True},
    )

    # When the protected route is called with it
    reply = call(f"{api.url}/orders/42", headers=bearer(token))

    # Then the function runs with the claims as API Gateway passes them, and the token's scopes
    assert reply.status == 200
    jwt = functions.last_event["requestContext"]["authorizer"]["jwt"]
    claims = jwt["claims"]
    assert claims["sub"] == "customer-7"
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == ISSUER
    assert claims["groups"] == "[admin staff]"
    assert claims["verified"] == "true"
    assert claims["scope"] == "orders/read profile"
    assert isinstance(claims["exp"], str)
    assert int(claims["exp"]) > time.time()
    assert jwt["scopes"] == ["orders/read", "profile"]
    assert functions.events[-1][0] == "probe-local-orders"


def test_a_token_without_the_bearer_prefix_is_accepted(
    api: HttpApiServer, functions: FakeFunctions, signing_key: LocalSigningKey
) -> None:
    # Given a valid token
    token = signing_key.token("customer-7", audience=AUDIENCE, scopes=["orders/read"])

    # When it is sent bare in the Authorization header
    reply = call(f"{api.url}/orders/42", headers={"Authorization": token})

    # Then API Gateway accepts it as it accepts "Bearer <token>"
    assert reply.status == 200


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda key, foreign: {}, id="missing"),
        pytest.param(lambda key, foreign: bearer("not-a-jwt"), id="malformed"),
        pytest.param(
            lambda key, foreign: bearer(
                _tampered(key.token("c", audience=AUDIENCE, scopes=["orders/read"]))
            ),
            id="bad-signature",
        ),
        pytest.param(
            lambda key, foreign: bearer(
                foreign.token("c", audience=AUDIENCE, scopes=["orders/read"])
            ),
            id="foreign-key",
        ),
        pytest.param(
            lambda key, foreign: bearer(
                key.token("c", audience=AUDIENCE, scopes=["orders/read"], ttl_seconds=-10)
            ),
            id="expired",
        ),
        pytest.param(
            lambda key, foreign: bearer(
                key.token("c", audience="another-api", scopes=["orders/read"])
            ),
            id="wrong-audience",
        ),
        pytest.param(
            lambda key, foreign: bearer(
                key.token("c", audience=AUDIENCE, scopes=["orders/read"], claims={"iss": "x"})
            ),
            id="wrong-issuer",
        ),
    ],
)
def test_a_request_without_a_valid_token_is_unauthorized(
    api: HttpApiServer,
    functions: FakeFunctions,
    signing_key: LocalSigningKey,
    foreign_key: LocalSigningKey,
    make_headers: Callable[[LocalSigningKey, LocalSigningKey], dict[str, str]],
) -> None:
    # Given a route protected by a JWT authorizer
    # When it is called without a token the local key vouches for
    reply = call(f"{api.url}/orders/42", headers=make_headers(signing_key, foreign_key))

    # Then API Gateway's 401 is answered and the function never runs
    assert reply.status == 401
    assert reply.json() == {"message": "Unauthorized"}
    assert functions.events == []


def test_a_token_without_a_required_scope_is_forbidden(
    api: HttpApiServer, functions: FakeFunctions, signing_key: LocalSigningKey
) -> None:
    # Given a valid token that lacks the route's scope
    token = signing_key.token("customer-7", audience=AUDIENCE, scopes=["profile"])

    # When the route is called with it
    reply = call(f"{api.url}/orders/42", headers=bearer(token))

    # Then API Gateway's 403 is answered and the function never runs
    assert reply.status == 403
    assert reply.json() == {"message": "Forbidden"}
    assert functions.events == []


def test_the_signing_key_survives_a_restart(tmp_path: Path) -> None:
    # Given a token signed by a key kept on disk
    path = tmp_path / "state" / "jwt-key.json"
    token = LocalSigningKey.load_or_create(path).token("customer-7", audience=AUDIENCE)

    # When the key is loaded again, as after a restart
    reloaded = LocalSigningKey.load_or_create(path)

    # Then the token still verifies, and only against its audience and issuer
    assert reloaded.verify(token, issuer=ISSUER, audience=[AUDIENCE])["sub"] == "customer-7"
    with pytest.raises(InvalidToken, match="issuer"):
        reloaded.verify(token, issuer="https://elsewhere/", audience=[AUDIENCE])
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "d" not in reloaded.public_jwks()["keys"][0]


def test_a_token_not_yet_valid_is_refused(signing_key: LocalSigningKey) -> None:
    # Given a token whose nbf lies in the future
    token = signing_key.token("c", audience=AUDIENCE, claims={"nbf": int(time.time()) + 600})

    # When it is verified
    # Then it is refused
    with pytest.raises(InvalidToken, match="not yet valid"):
        signing_key.verify(token, issuer=ISSUER, audience=[AUDIENCE])


# -- responses -----------------------------------------------------------------------------------


def test_a_full_response_is_mapped(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions
) -> None:
    # Given a function answering with statusCode, headers, cookies and a base64 body
    functions.handlers["files"] = lambda event: {
        "statusCode": 201,
        "headers": {"Content-Type": "image/png", "X-Count": 3},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    server = serve([Route("POST /files", "files")])

    # When it is called
    reply = call(f"{server.url}/files", "POST", b"{}", {"Content-Type": "application/json"})

    # Then the HTTP response is the one the function described
    assert reply.status == 201
    assert reply.body == b"\x89PNG"
    assert reply.headers["Content-Type"] == "image/png"
    assert reply.headers["X-Count"] == "3"
    assert reply.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]


@pytest.mark.parametrize(
    "value",
    [{"id": "42", "lines": []}, ["a", "b"], "plain", 7],
    ids=["dict-without-statusCode", "list", "string", "number"],
)
def test_any_other_json_is_a_200_json_response(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions, value: Any
) -> None:
    # Given a function returning JSON that is not a response description
    functions.handlers["items"] = lambda event: value
    server = serve([Route("GET /items", "items")])

    # When it is called
    reply = call(f"{server.url}/items")

    # Then API Gateway infers a 200 with the value as JSON body
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == value


def test_a_function_error_is_an_internal_server_error(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions
) -> None:
    # Given functions that fail: with an unhandled error, and by reaching their own timeout
    def failing(name: str, error: str) -> Callable[[Any], Invocation]:
        return lambda event: Invocation(
            name, "r", b'{"errorMessage": "boom"}', 1.0, error_type=error, error_message="boom"
        )

    for name, error in [("crash", "Runtime.Unhandled"), ("slow", "Sandbox.Timedout")]:
        functions.handlers[name] = failing(name, error)
    server = serve([Route("GET /crash", "crash"), Route("GET /slow", "slow")])

    # When they are called
    replies = [call(f"{server.url}/crash"), call(f"{server.url}/slow")]

    # Then both are API Gateway's 500, the error document never reaching the client
    assert [reply.status for reply in replies] == [500, 500]
    assert [reply.json() for reply in replies] == [{"message": "Internal Server Error"}] * 2


def test_an_integration_timeout_is_service_unavailable(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions
) -> None:
    # Given a function that outlives its route's integration timeout
    release = threading.Event()
    functions.handlers["stuck"] = lambda event: release.wait(10) and {"statusCode": 200}
    server = serve([Route("GET /stuck", "stuck", timeout_seconds=0.2)])

    # When it is called
    try:
        reply = call(f"{server.url}/stuck")
    finally:
        release.set()

    # Then API Gateway's 503 is answered when the integration gives up
    assert reply.status == 503
    assert reply.json() == {"message": "Service Unavailable"}


def test_a_malformed_response_is_an_internal_server_error(
    serve: Callable[..., HttpApiServer], functions: FakeFunctions
) -> None:
    # Given a function describing a response with a non-numeric status code
    functions.handlers["bad"] = lambda event: {"statusCode": "ok", "body": "x"}
    server = serve([Route("GET /bad", "bad")])

    # When it is called
    reply = call(f"{server.url}/bad")

    # Then the client gets a 500
    assert reply.status == 500


# -- CORS and logging ----------------------------------------------------------------------------


def test_a_preflight_is_answered_from_the_cors_configuration(
    api: HttpApiServer, functions: FakeFunctions
) -> None:
    # Given the API's CORS configuration, and a route protected by a JWT authorizer
    # When a browser sends a preflight for it, from an allowed origin and from another
    headers = {"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"}
    allowed = call(f"{api.url}/orders/42", "OPTIONS", headers=headers)
    other = call(f"{api.url}/orders/42", "OPTIONS", headers={**headers, "Origin": "https://evil"})

    # Then API Gateway answers it itself, without authorizer or function
    assert allowed.status == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert allowed.headers["Access-Control-Allow-Methods"] == "OPTIONS,GET"
    assert allowed.headers["Access-Control-Allow-Headers"] == "content-type,authorization"
    assert allowed.headers["Access-Control-Max-Age"] == "600"
    assert other.status == 204
    assert "Access-Control-Allow-Origin" not in other.headers
    assert functions.events == []


def test_a_cors_request_gets_the_configured_headers_not_the_functions(
    api: HttpApiServer, functions: FakeFunctions
) -> None:
    # Given a function that sets its own CORS header
    functions.handlers["probe-local-probe"] = lambda event: {
        "statusCode": 200,
        "headers": {"Access-Control-Allow-Origin": "*"},
        "body": "pong",
    }

    # When an allowed origin calls it
    reply = call(f"{api.url}/ping", headers={"Origin": "https://shop.example"})

    # Then the API's CORS configuration decides the headers
    assert reply.headers.get_all("Access-Control-Allow-Origin") == ["https://shop.example"]
    assert reply.headers["Access-Control-Expose-Headers"] == "x-request-id"


def test_each_request_is_logged(
    serve: Callable[..., HttpApiServer], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a served route
    server = serve([Route("GET /ping", "probe")])

    # When it is called
    with caplog.at_level(logging.INFO, logger="localcloud.http_api"):
        call(f"{server.url}/ping?x=1")

    # Then one record tells method, path, status, function and duration
    [record] = [r for r in caplog.records if r.getMessage() == "http api request"]
    assert record.__dict__["method"] == "GET"
    assert record.__dict__["path"] == "/ping"
    assert record.__dict__["status"] == 200
    assert record.__dict__["function"] == "probe"
    assert record.__dict__["duration_ms"] >= 0
