"""An in-memory view store with the DynamoDB adapter's exact contract.

For tests and benchmarks of the model: the same contract tests run against this and against the
DynamoDB adapter on moto, so what passes here holds there. A lock stands in for DynamoDB's
conditional writes.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable

from order_bff.domain import OrderView, Product
from order_bff.ports import OrderKey, Page


class InMemoryViewStore:
    def __init__(self) -> None:
        self._orders: dict[str, OrderView] = {}
        self._products: dict[str, Product] = {}
        self._lock = threading.Lock()

    def change_order(
        self, order_id: str, change: Callable[[OrderView | None], OrderView]
    ) -> OrderView:
        with self._lock:
            changed = change(self._orders.get(order_id))
            self._orders[order_id] = changed
            return changed

    def order(self, order_id: str) -> OrderView | None:
        with self._lock:
            return self._orders.get(order_id)

    def orders_of(
        self, customer_id: str, *, first: int, after: OrderKey | None = None
    ) -> Page[OrderView, OrderKey]:
        with self._lock:
            mine = sorted(
                (
                    (OrderKey(order.created_at, order.id), order)
                    for order in self._orders.values()
                    if order.is_owned_by(customer_id)
                ),
                key=lambda entry: (entry[0].placed_at, entry[0].order_id),
                reverse=True,
            )
        if after is not None:
            mine = [
                entry
                for entry in mine
                if (entry[0].placed_at, entry[0].order_id) < (after.placed_at, after.order_id)
            ]
        page = mine[:first]
        return Page(
            tuple(order for _, order in page), tuple(key for key, _ in page), len(mine) > first
        )

    def change_product(self, sku: str, change: Callable[[Product | None], Product]) -> Product:
        with self._lock:
            changed = change(self._products.get(sku))
            self._products[sku] = changed
            return changed

    def products(self, skus: Iterable[str]) -> dict[str, Product]:
        with self._lock:
            return {sku: self._products[sku] for sku in skus if sku in self._products}

    def catalog(self, *, first: int, after: str | None = None) -> Page[Product, str]:
        with self._lock:
            listed = sorted(
                (p for p in self._products.values() if p.is_listed), key=lambda p: p.sku
            )
        skus = [product.sku for product in listed]
        start = bisect_right(skus, after) if after is not None else 0
        page = listed[start : start + first]
        return Page(tuple(page), tuple(p.sku for p in page), len(listed) > start + first)
