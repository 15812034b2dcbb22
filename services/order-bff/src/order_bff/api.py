"""The GraphQL API over HTTP: API Gateway's payload 2.0 in, a GraphQL response out.

A thin adapter around `schema.execute_sync`: it reads the request (its size, its JSON, the customer
the JWT authorizer vouched for), executes it, and writes the response. Every error a client can
get has an `extensions.code`, decided here and nowhere else:

| what went wrong | code | HTTP |
| --- | --- | --- |
| no customer in the request (no authorizer in front, or a token without `sub`) | UNAUTHENTICATED | 401 |
| a body too large, not JSON, not a GraphQL request | BAD_USER_INPUT | 413 / 400 |
| the query does not parse or validate (limits included), a bad argument | BAD_USER_INPUT | 200 |
| an order that cannot be placed, a malformed cursor, an order that has ended | BAD_USER_INPUT | 200 |
| an order that is not the customer's (or not at all) to cancel | NOT_FOUND | 200 |
| anything else: masked as "Unexpected error." (logged in full) | INTERNAL_SERVER_ERROR | 200 |

No 5xx: a GraphQL response reports its errors in its body.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLError
from strawberry import Schema
from strawberry.exceptions import MissingQueryError

from order_bff.errors import (
    BAD_USER_INPUT,
    INTERNAL_SERVER_ERROR,
    UNAUTHENTICATED,
    code_of,
)
from order_bff.schema import RequestContext

logger = logging.getLogger(__name__)

# A storefront's largest request (fifty lines of placeOrder) is a few kilobytes.
MAX_BODY_BYTES = 16 * 1024


def formatted(error: GraphQLError) -> dict[str, Any]:
    document: dict[str, Any] = dict(error.formatted)
    code = (error.extensions or {}).get("code") or code_of(error) or INTERNAL_SERVER_ERROR
    document["extensions"] = {**(error.extensions or {}), "code": code}
    return document


class RequestRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class GraphQLApi:
    """`process(event)`: one API Gateway HTTP API event (payload 2.0), one response."""

    def __init__(
        self,
        schema: Schema,
        *,
        context_for: Callable[[str], RequestContext],
        on_request: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None:
        self._schema = schema
        self._context_for = context_for
        self._on_request = on_request

    def process(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if self._on_request is not None:
            self._on_request(event)
        try:
            customer_id = _customer_of(event)
            request = _graphql_request(event)
        except RequestRefused as refused:
            return _refused(refused)
        try:
            result = self._schema.execute_sync(
                request["query"],
                variable_values=request.get("variables"),
                operation_name=request.get("operationName"),
                context_value=self._context_for(customer_id),
            )
        except MissingQueryError:
            return _refused(RequestRefused(400, BAD_USER_INPUT, "a GraphQL request has a query"))
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [formatted(error) for error in result.errors]
        return _response(200, body)


def _refused(refused: RequestRefused) -> dict[str, Any]:
    logger.info("graphql request refused", extra={"code": refused.code})
    body = {"errors": [{"message": str(refused), "extensions": {"code": refused.code}}]}
    return _response(refused.status, body)


def _customer_of(event: Mapping[str, Any]) -> str:
    # The route's JWT authorizer has checked the token; the customer is its subject.
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get(
        "claims"
    ) or {}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise RequestRefused(401, UNAUTHENTICATED, "a request names its customer with a token")
    return subject


def _graphql_request(event: Mapping[str, Any]) -> dict[str, Any]:
    body = event.get("body") or ""
    try:
        raw = (
            base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        )
    except (binascii.Error, ValueError):
        raise RequestRefused(400, BAD_USER_INPUT, "the body is not valid base64") from None
    if len(raw) > MAX_BODY_BYTES:
        raise RequestRefused(413, BAD_USER_INPUT, f"a request has at most {MAX_BODY_BYTES} bytes")
    try:
        request = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise RequestRefused(400, BAD_USER_INPUT, "the body is not JSON") from None
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        raise RequestRefused(400, BAD_USER_INPUT, "a GraphQL request has a query string")
    variables = request.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, BAD_USER_INPUT, "variables are an object")
    operation = request.get("operationName")
    if operation is not None and not isinstance(operation, str):
        raise RequestRefused(400, BAD_USER_INPUT, "operationName is a string")
    return request


def _response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body, separators=(",", ":")),
    }
