"""Reading an HTTP API from its template: the routes, integrations and JWT authorizers that
`serverless package` emits for `httpApi` events (`routes_from_template`), and its CORS
configuration (`cors_from_template`). Custom (Lambda) and IAM authorizers, and payload format 1.0,
are refused here, never served unprotected or in another shape."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_IDENTITY_SOURCE = "$request.header.Authorization"
# API Gateway's own ceiling for an HTTP API integration, and what osls sets on every integration.
DEFAULT_INTEGRATION_TIMEOUT_SECONDS = 30.0
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class TemplateShapeError(ValueError):
    """A HTTP API resource this module cannot read; the message names the resource."""

    def __init__(self, logical_id: str, problem: str) -> None:
        super().__init__(f"HTTP API resource {logical_id}: {problem}")
        self.logical_id = logical_id


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
    return method in (*METHODS, "ANY") and path.startswith("/")


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
