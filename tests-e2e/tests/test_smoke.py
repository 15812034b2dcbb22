"""Smoke: the whole shop answers its customers."""

from shop_e2e.shop import Shop


def test_a_signed_in_customer_sees_the_catalog(shop: Shop) -> None:
    from localcloud.testing import eventually

    # Given the catalog loaded, When a customer lists the products, Then they are all there
    products = eventually(lambda: len(shop.customer("smoke").products()) >= 20, timeout=30)
    assert products
