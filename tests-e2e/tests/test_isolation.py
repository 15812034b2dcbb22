"""One customer's order is theirs alone: another signed-in customer can neither read it nor
cancel it, and does not see it among their own."""

from __future__ import annotations

import pytest
from shop_e2e.client import ShopError
from shop_e2e.shop import Shop

# The whole shop, started once for the session (conftest.py): the test kit cannot see it there.
pytestmark = pytest.mark.localcloud


def test_another_customer_can_neither_read_nor_cancel_an_order(shop: Shop) -> None:
    # Given Ada's order
    ada, bob = shop.customer("e2e-ada"), shop.customer("e2e-bob")
    order = ada.place_order({"MUG-CLASSIC": 1})

    # When Bob asks for it, lists his orders and tries to cancel it
    seen = bob.order(order["id"])
    listed = [mine["id"] for mine in bob.my_orders()]
    with pytest.raises(ShopError) as refused:
        bob.cancel_order(order["id"])

    # Then he is told it does not exist, and it is still Ada's, not cancelled
    assert seen is None
    assert order["id"] not in listed
    assert refused.value.code == "NOT_FOUND"
    assert ada.order(order["id"]) is not None
    assert "order-cancellation-requested" not in [
        entry["type"] for entry in (ada.order(order["id"]) or {})["history"]
    ]
