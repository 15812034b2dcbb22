"""Stands in for API Gateway HTTP APIs (payload format 2.0) and the identity provider behind
their JWT authorizers.

What it reproduces: moto ignores `AWS::ApiGatewayV2::*`, so the transform takes those resources
out of the stack and this package serves them: `routes` reads the routes, integrations and JWT
authorizers that `serverless package` emits for `httpApi` events; `server.HttpApiServer` answers
real HTTP requests with API Gateway's route selection (most specific first, `{proxy+}`,
`$default`), JWT authorization (issuer, audience, expiry, scopes), the v2.0 event, response
mapping (inferred 200s, cookies, base64 bodies), CORS preflights and headers, the 10 MB payload
quota and the integration timeout (503) versus a function error (500); `signing_key.LocalSigningKey`
is the local identity provider.

Where this departs from API Gateway, on purpose:

- A JWT authorizer trusts the local signing key in place of the issuer it names: that issuer
  (an identity provider on the internet, its JWKS out of reach) cannot sign tokens here. Tokens are
  verified against the local key and its issuer; the route's audience and scopes are enforced as
  configured.
- A route's integration invokes the function by name; an alias qualifier is not kept.
- Custom (Lambda) and IAM authorizers, and payload format 1.0, are refused when the routes are
  read, never served unprotected or in another shape.
"""

from localcloud.http_api.routes import (
    JwtAuthorizer,
    Route,
    TemplateShapeError,
    cors_from_template,
    routes_from_template,
)
from localcloud.http_api.server import HttpApiServer
from localcloud.http_api.signing_key import CUSTOMER_AUDIENCE, InvalidToken, LocalSigningKey

__all__ = [
    "CUSTOMER_AUDIENCE",
    "HttpApiServer",
    "InvalidToken",
    "JwtAuthorizer",
    "LocalSigningKey",
    "Route",
    "TemplateShapeError",
    "cors_from_template",
    "routes_from_template",
]
