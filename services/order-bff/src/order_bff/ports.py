"""The port the model depends on: where the BFF keeps its views (orders and the catalog).

Every change is a function from what is stored to what should be: the adapter applies it
atomically (DynamoDB: a conditional write on the item's revision, retried on a conflict; in memory:
under a lock), so two events for one order, or a placement racing an event, never lose each
other's work. The DynamoDB adapter and the in-memory one keep the same contract, and one suite of
tests runs against both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from order_bff.domain import OrderView, Product


@dataclass(frozen=True)
class OrderKey:
    """Where a customer's list of orders resumes: newest first, so by placement time, then id."""

    placed_at: int
    order_id: str


@dataclass(frozen=True)
class Page[T, K]:
    items: tuple[T, ...]
    keys: tuple[K, ...]  # the resume key after each item, as `after` takes it
    has_next: bool


class ViewStore(Protocol):
    def change_order(
        self, order_id: str, change: Callable[[OrderView | None], OrderView]
    ) -> OrderView:
        """Store `change(current)`, `current` being the stored view or None; the stored view. A
        change that returns `current` itself writes nothing."""

    def order(self, order_id: str) -> OrderView | None: ...

    def orders_of(
        self, customer_id: str, *, first: int, after: OrderKey | None = None
    ) -> Page[OrderView, OrderKey]:
        """The customer's placed orders, newest first, `first` at most, after `after`."""

    def change_product(self, sku: str, change: Callable[[Product | None], Product]) -> Product:
        """As `change_order`, for one product of the catalog view."""

    def products(self, skus: Iterable[str]) -> dict[str, Product]:
        """The products known under these skus (listed or not), by sku."""

    def catalog(self, *, first: int, after: str | None = None) -> Page[Product, str]:
        """The listed products (those with a name and price), by sku, after the sku `after`."""
