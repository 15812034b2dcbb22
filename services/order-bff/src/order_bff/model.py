"""The BFF's model: what a customer may do and see, and how events become its views.

It knows the domain and the view store's port, nothing of GraphQL, DynamoDB or Lambda. The
customer is whoever the API authenticated; an order of another customer is answered exactly as an
order that does not exist.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shop_envelope import now_ms, random_id

from order_bff.domain import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    Fact,
    InvalidCursor,
    InvalidOrder,
    Money,
    OrderClosed,
    OrderNotFound,
    OrderView,
    Placement,
    Product,
    RequestedLine,
    cancellation_requested,
    order_id_for,
    placed,
    priced_lines,
)
from order_bff.ports import OrderKey, Page, ViewStore

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Connection[T]:
    """One page of a list, each item with the opaque cursor that resumes after it."""

    edges: tuple[tuple[str, T], ...]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.edges[-1][0] if self.edges else None


class Shop:
    def __init__(self, views: ViewStore, *, clock: Callable[[], int] = now_ms) -> None:
        self.views = views
        self._clock = clock

    # ---- the customer's commands -----------------------------------------------------------

    def place_order(
        self,
        customer_id: str,
        lines: Sequence[RequestedLine],
        idempotency_key: str | None = None,
    ) -> OrderView:
        """The order placed at the catalog's prices; with an idempotency key the customer used
        before, the order placed then, unchanged. `InvalidOrder` for one that cannot be placed."""
        if idempotency_key is not None and not (
            0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH
        ):
            raise InvalidOrder(
                f"an idempotency key has 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters"
            )
        catalog = self.views.products({line.sku for line in lines})
        priced = priced_lines(lines, catalog)
        order_id = order_id_for(customer_id, idempotency_key) if idempotency_key else random_id()
        placement = Placement(customer_id, priced, self._clock())
        fact = placed(order_id, placement)

        def place(current: OrderView | None) -> OrderView:
            if current is not None and current.is_placed:
                return current  # the key's first placement stands, whatever this one asks
            return (current or OrderView(order_id)).apply(fact)

        order = self.views.change_order(order_id, place)
        if not order.is_owned_by(customer_id):  # only a random id could collide: never seen
            raise InvalidOrder("that order cannot be placed again")
        logger.info("order placed", extra={"order_id": order_id, "lines": len(priced)})
        return order

    def cancel_order(self, customer_id: str, order_id: str) -> OrderView:
        """Ask fulfillment-control to cancel the order (its answer comes back as an event).
        Asking twice asks once. `OrderNotFound` for another customer's order, `OrderClosed` for
        one that has ended."""
        fact = cancellation_requested(order_id, self._clock())

        def request(current: OrderView | None) -> OrderView:
            if current is None or not current.is_owned_by(customer_id):
                raise OrderNotFound(order_id)
            if current.status.is_terminal:
                raise OrderClosed(order_id, current.status)
            return current.apply(fact)

        order = self.views.change_order(order_id, request)
        logger.info("order cancellation requested", extra={"order_id": order_id})
        return order

    # ---- what the customer sees ------------------------------------------------------------

    def order(self, customer_id: str, order_id: str) -> OrderView | None:
        order = self.views.order(order_id)
        return order if order is not None and order.is_owned_by(customer_id) else None

    def my_orders(
        self, customer_id: str, *, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[OrderView]:
        page = self.views.orders_of(
            customer_id, first=_page_size(first), after=_order_key(after) if after else None
        )
        return _connection(page, lambda key: _cursor({"p": key.placed_at, "o": key.order_id}))

    def products(
        self, *, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Product]:
        page = self.views.catalog(first=_page_size(first), after=_sku_key(after) if after else None)
        return _connection(page, lambda sku: _cursor({"s": sku}))

    def product(self, sku: str) -> Product | None:
        product = self.views.products([sku]).get(sku)
        return product if product is not None and product.is_listed else None

    # ---- what the other services report ----------------------------------------------------

    def take_in(self, order_id: str, fact: Fact) -> OrderView:
        """One event about an order into its view: idempotent, in any order."""
        return self.views.change_order(
            order_id, lambda current: (current or OrderView(order_id)).apply(fact)
        )

    def product_updated(self, sku: str, name: str, price: Money, version: int) -> Product:
        return self.views.change_product(
            sku, lambda current: (current or Product(sku)).updated(name, price, version)
        )

    def stock_changed(self, sku: str, available: int, version: int) -> Product:
        return self.views.change_product(
            sku, lambda current: (current or Product(sku)).restocked(available, version)
        )


def _page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidOrder(f"first is between 1 and {MAX_PAGE_SIZE}, not {first}")
    return first


def _connection[T, K](page: Page[T, K], cursor_of: Callable[[K], str]) -> Connection[T]:
    return Connection(
        tuple((cursor_of(key), item) for key, item in zip(page.keys, page.items, strict=True)),
        page.has_next,
    )


# Cursors are opaque to clients: base64url of a small JSON object, checked on the way back in.
def _cursor(fields: dict[str, str | int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields, separators=(",", ":")).encode()).decode()


def _fields_of(cursor: str) -> dict[str, object]:
    try:
        fields = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidCursor(f"{cursor!r} is not a cursor of this list") from None
    if not isinstance(fields, dict):
        raise InvalidCursor(f"{cursor!r} is not a cursor of this list")
    return fields


def _order_key(cursor: str) -> OrderKey:
    fields = _fields_of(cursor)
    placed_at, order_id = fields.get("p"), fields.get("o")
    if not isinstance(placed_at, int) or not isinstance(order_id, str):
        raise InvalidCursor(f"{cursor!r} is not a cursor of this list")
    return OrderKey(placed_at, order_id)


def _sku_key(cursor: str) -> str:
    sku = _fields_of(cursor).get("s")
    if not isinstance(sku, str):
        raise InvalidCursor(f"{cursor!r} is not a cursor of this list")
    return sku
