"""Every error a client of the GraphQL API can get, and its `extensions.code`: decided here, in
one place. The HTTP adapter (`api.py`) writes the codes; the schema masks what has none."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from order_bff.domain import InvalidCursor, InvalidOrder, OrderClosed, OrderNotFound, ShopError

BAD_USER_INPUT = "BAD_USER_INPUT"
UNAUTHENTICATED = "UNAUTHENTICATED"
NOT_FOUND = "NOT_FOUND"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

CODES: dict[type[ShopError], str] = {
    InvalidOrder: BAD_USER_INPUT,
    InvalidCursor: BAD_USER_INPUT,
    OrderClosed: BAD_USER_INPUT,
    OrderNotFound: NOT_FOUND,
}


def code_of(error: GraphQLError) -> str | None:
    """The code of an error a client may see as it is; None for one to mask."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        # The request's own fault: syntax, validation, limits, variables that do not coerce.
        return BAD_USER_INPUT
    for kind, code in CODES.items():
        if isinstance(original, kind):
            return code
    return None


class CodedErrors(MaskErrors):
    """strawberry's MaskErrors, masking what has no code and saying so with one of its own."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked


def is_unexpected(error: GraphQLError) -> bool:
    """An error no client should see as it is: masked, and the only kind worth logging."""
    return code_of(error) is None
