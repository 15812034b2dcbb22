"""The BFF's domain: orders as the customer sees them, and the catalog they are placed from.

Pure Python with the business's names: no AWS, no Lambda, no environment, no GraphQL.

An order's view is a fold of the facts that reached it (`OrderView.apply`), built so that the
result depends only on *which* facts arrived, never on their order or on duplicates:

- each fact is recorded once, by its event id (a redelivery changes nothing);
- the status only moves forward along `STATUS_RANK`, and a terminal status (CANCELLED, EXPIRED)
  is never left for another; between two terminal facts (which fulfillment-control never emits
  for one order) the earlier one wins, by time then id, so even that case does not depend on the
  order of arrival;
- the placement itself is a fact like the others: an event about an order the BFF has not stored
  yet makes a view that no customer can see until the placement fills it in.

The catalog keeps, per product, the highest `version` the inventory sent, separately for the
product (name, price) and for its stock level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from shop_envelope import deterministic_id

# What one order may hold: the inventory reserves at most 98 lines in one transaction; a
# storefront order is far smaller, and the limits are the BFF's guard against abuse.
MAX_LINES = 50
MAX_QUANTITY = 99
MAX_IDEMPOTENCY_KEY_LENGTH = 128

CLIENT_SECRET_FIELD = "payment.clientSecret"


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    PAID = "PAID"
    FULFILLMENT_REQUESTED = "FULFILLMENT_REQUESTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({OrderStatus.CANCELLED, OrderStatus.EXPIRED})
# Forward only: a fact whose status ranks lower than the view's is history, not news.
STATUS_RANK = {
    OrderStatus.PLACED: 0,
    OrderStatus.AWAITING_PAYMENT: 1,
    OrderStatus.PAID: 2,
    OrderStatus.FULFILLMENT_REQUESTED: 3,
    OrderStatus.CANCELLED: 4,
    OrderStatus.EXPIRED: 4,
}


class CancellationReason(StrEnum):
    PAYMENT_FAILED = "PAYMENT_FAILED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    CUSTOMER_REQUEST = "CUSTOMER_REQUEST"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"  # an intent exists; the customer has not paid yet
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    SUCCEEDED = "SUCCEEDED"
    REFUNDED = "REFUNDED"


# Forward only as well: a payment that failed may still succeed (another card), never the reverse.
PAYMENT_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.FAILED: 1,
    PaymentStatus.CANCELLED: 2,
    PaymentStatus.SUCCEEDED: 3,
    PaymentStatus.REFUNDED: 4,
}


# ---- errors: each one a fact about the request, typed so the API maps each in one place -------


class ShopError(Exception):
    """Base of the BFF's domain errors: each is the caller's to correct, never a server fault."""


class InvalidOrder(ShopError):
    """An order that cannot be placed as it is: no lines, too many, a bad quantity or key."""


class UnknownProduct(InvalidOrder):
    def __init__(self, sku: str) -> None:
        self.sku = sku
        super().__init__(f"no product with sku {sku!r} is in the catalog")


class InvalidCursor(ShopError):
    """A pagination cursor this API did not hand out."""


class OrderNotFound(ShopError):
    """No such order for this customer: whether it exists for another is not said."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"no order {order_id!r}")


class OrderClosed(ShopError):
    """The order has ended (cancelled or expired): there is nothing left to cancel."""

    def __init__(self, order_id: str, status: OrderStatus) -> None:
        self.order_id = order_id
        self.status = status
        super().__init__(f"order {order_id!r} is {status.value} already")


# ---- values --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    amount: int  # in the currency's minor unit
    currency: str


@dataclass(frozen=True)
class Product:
    """A product as the catalog view knows it: `name` and `price` are None until the inventory's
    product-updated arrives (a stock level may come first), and such a product cannot be sold."""

    sku: str
    name: str | None = None
    price: Money | None = None
    available: int = 0
    product_version: int = 0
    stock_version: int = 0

    @property
    def is_listed(self) -> bool:
        return self.name is not None and self.price is not None

    def updated(self, name: str, price: Money, version: int) -> Product:
        """The product with the inventory's update, unless it has seen that version or a later."""
        if version <= self.product_version:
            return self
        return replace(self, name=name, price=price, product_version=version)

    def restocked(self, available: int, version: int) -> Product:
        if version <= self.stock_version:
            return self
        return replace(self, available=available, stock_version=version)


@dataclass(frozen=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: Money

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price.amount


@dataclass(frozen=True)
class RequestedLine:
    """What the customer asks for: a sku and a quantity; prices are the catalog's."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class Placement:
    """What placing an order fixed: whose it is, what it holds at which prices, and when."""

    customer_id: str
    lines: tuple[OrderLine, ...]
    placed_at: int

    @property
    def total(self) -> Money:
        return Money(sum(line.amount for line in self.lines), self.lines[0].unit_price.currency)


@dataclass(frozen=True)
class Payment:
    status: PaymentStatus
    # Sealed by stripe-esg (shop_sealing): kept as it came, unsealed only for the order's owner.
    sealed_client_secret: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    event_id: str
    type: str
    at: int  # epoch ms, the fact's own time


# ---- facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One event that reached an order, reduced to what the view takes from it."""

    event_id: str
    type: str
    at: int
    status: OrderStatus | None = None
    payment: PaymentStatus | None = None
    cancellation_reason: CancellationReason | None = None
    sealed_client_secret: str | None = None
    placement: Placement | None = None
    cancellation_requested: bool = False


# The BFF's own facts carry the ids its trigger publishes them under, so the view and the bus
# agree on them (and a redelivery of either is a duplicate).
PLACED = "order-placed"
CANCELLATION_REQUESTED = "order-cancellation-requested"


def placed(order_id: str, placement: Placement) -> Fact:
    return Fact(
        deterministic_id(PLACED, order_id),
        PLACED,
        placement.placed_at,
        OrderStatus.PLACED,
        placement=placement,
    )


def cancellation_requested(order_id: str, at: int) -> Fact:
    return Fact(
        deterministic_id(CANCELLATION_REQUESTED, order_id),
        CANCELLATION_REQUESTED,
        at,
        cancellation_requested=True,
    )


# ---- the order view ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderView:
    id: str
    placement: Placement | None = None
    status: OrderStatus = OrderStatus.PLACED
    # The fact that set the terminal status, to pick the earlier of two (see the module's doc).
    closed_by: tuple[int, str] | None = None
    cancellation_reason: CancellationReason | None = None
    payment: Payment | None = None
    cancellation_requested_at: int | None = None
    history: tuple[HistoryEntry, ...] = field(default=())

    @property
    def is_placed(self) -> bool:
        return self.placement is not None

    @property
    def customer_id(self) -> str | None:
        return self.placement.customer_id if self.placement else None

    def is_owned_by(self, customer_id: str) -> bool:
        return self.placement is not None and self.placement.customer_id == customer_id

    @property
    def created_at(self) -> int:
        if self.placement is not None:
            return self.placement.placed_at
        return min((entry.at for entry in self.history), default=0)

    @property
    def updated_at(self) -> int:
        return max((entry.at for entry in self.history), default=self.created_at)

    def has_seen(self, event_id: str) -> bool:
        return any(entry.event_id == event_id for entry in self.history)

    def apply(self, fact: Fact) -> OrderView:
        """The view with `fact` taken in; the same view if it has taken it in already."""
        if self.has_seen(fact.event_id):
            return self
        view = replace(
            self,
            history=tuple(
                sorted(
                    (*self.history, HistoryEntry(fact.event_id, fact.type, fact.at)),
                    key=lambda entry: (entry.at, entry.event_id),
                )
            ),
        )
        if fact.placement is not None and view.placement is None:
            view = replace(view, placement=fact.placement)
        if fact.cancellation_requested and (
            view.cancellation_requested_at is None or fact.at < view.cancellation_requested_at
        ):
            view = replace(view, cancellation_requested_at=fact.at)
        if fact.payment is not None or fact.sealed_client_secret is not None:
            view = replace(view, payment=_paid(view.payment, fact))
        if fact.status is not None:
            view = view._moved_to(fact)
        return view

    def _moved_to(self, fact: Fact) -> OrderView:
        status = fact.status
        assert status is not None
        if status.is_terminal:
            moment = (fact.at, fact.event_id)
            if self.closed_by is not None and self.closed_by <= moment:
                return self  # closed earlier by another fact: that one stands
            return replace(
                self,
                status=status,
                closed_by=moment,
                cancellation_reason=fact.cancellation_reason,
            )
        if self.status.is_terminal or STATUS_RANK[status] <= STATUS_RANK[self.status]:
            return self
        return replace(self, status=status)


def _paid(payment: Payment | None, fact: Fact) -> Payment:
    current = payment or Payment(PaymentStatus.PENDING)
    status = current.status
    if fact.payment is not None and PAYMENT_RANK[fact.payment] > PAYMENT_RANK[status]:
        status = fact.payment
    secret = current.sealed_client_secret or fact.sealed_client_secret
    return Payment(status, secret)


def fold(order_id: str, facts: Iterable[Fact]) -> OrderView:
    """The view of an order from its facts, whatever their order or repetition."""
    view = OrderView(order_id)
    for fact in facts:
        view = view.apply(fact)
    return view


def order_id_for(customer_id: str, idempotency_key: str) -> str:
    """The one order a customer's idempotency key can ever name: the same customer and key give
    the same id, so a retried placeOrder finds the order its first attempt placed."""
    return deterministic_id("order", customer_id, idempotency_key)


def priced_lines(
    requested: Iterable[RequestedLine], catalog: dict[str, Product]
) -> tuple[OrderLine, ...]:
    """The order's lines at the catalog's prices, one per sku (quantities of a repeated sku add
    up), in the order first asked for. `InvalidOrder` for anything that cannot be placed."""
    quantities: dict[str, int] = {}
    for line in requested:
        if line.quantity < 1 or line.quantity > MAX_QUANTITY:
            raise InvalidOrder(
                f"line {line.sku!r}: a quantity is between 1 and {MAX_QUANTITY}, not {line.quantity}"
            )
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    if not quantities:
        raise InvalidOrder("an order has at least one line")
    if len(quantities) > MAX_LINES:
        raise InvalidOrder(f"an order has at most {MAX_LINES} lines, not {len(quantities)}")
    lines = []
    for sku, quantity in quantities.items():
        if quantity > MAX_QUANTITY:
            raise InvalidOrder(f"line {sku!r}: at most {MAX_QUANTITY} of one product")
        product = catalog.get(sku)
        if product is None or product.name is None or product.price is None:
            raise UnknownProduct(sku)
        lines.append(OrderLine(sku, product.name, quantity, product.price))
    currencies = {line.unit_price.currency for line in lines}
    if len(currencies) > 1:
        raise InvalidOrder(f"an order is paid in one currency, not {sorted(currencies)}")
    return tuple(lines)
