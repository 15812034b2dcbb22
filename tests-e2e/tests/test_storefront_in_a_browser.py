"""The storefront in a real headless Chromium: a customer signs in, orders, pays with Stripe's
test cards on the shop's Stripe, and watches the order travel through the services.

The browser is Debian's `chromium` (`make -C tests-e2e browser` installs it where apt can), driven
by Playwright, never a browser Playwright would download. Screenshots go to
`test-artifacts/storefront/` at the repository's root."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from shop_e2e.shop import CATALOG, ROOT, Shop

playwright = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed: run `make setup`"
)
from playwright.sync_api import BrowserContext, Page, expect  # noqa: E402

# The whole shop, started once for the session (conftest.py): the test kit cannot see it there.
pytestmark = pytest.mark.localcloud

CHROMIUM = Path(os.environ.get("SHOP_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts" / "storefront"
# Chromium as a test wants it: no sandbox (root in CI), nothing fetched from the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# An order crosses four services, each function's first invocation a cold start on two cores.
JOURNEY_MS = 60_000
FULFILLED_HISTORY = [
    "order-placed",
    "inventory-reserved",
    "payment-intent-created",
    "payment-succeeded",
    "order-fulfillment-requested",
]


@pytest.fixture(scope="module")
def storefront_url(shop: Shop) -> str:
    url = shop.endpoints.get("storefront")
    if not url:
        pytest.skip(
            "the shop under test serves no storefront (a deployed stage's endpoints file has no "
            "`storefront` URL): nothing to open in a browser"
        )
    return str(url)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: `make -C tests-e2e browser` installs Debian's chromium "
            "where apt-get can run as root (or set SHOP_CHROMIUM to another Chromium)"
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 1000},
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture
def page(browser: BrowserContext, storefront_url: str) -> Iterator[Page]:
    page = browser.new_page()
    yield page
    page.close()


def signed_in(page: Page, storefront_url: str) -> str:
    """A customer of their own signed in on the storefront, the catalog on screen."""
    customer = f"browser-{uuid.uuid4().hex[:8]}"
    page.goto(storefront_url)
    page.get_by_label("Customer").fill(customer)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(customer)
    expect(page.get_by_test_id("product-MUG-CLASSIC")).to_be_visible(timeout=JOURNEY_MS)
    return customer


def order_one(page: Page, sku: str) -> None:
    page.get_by_test_id(f"quantity-{sku}").fill("1")
    page.get_by_test_id(f"order-{sku}").click()
    # Payable once the BFF shows the client secret: the pay buttons appear.
    expect(page.get_by_test_id("pay-success")).to_be_visible(timeout=JOURNEY_MS)


def test_a_customer_orders_pays_and_watches_the_order_reach_fulfillment(
    page: Page, storefront_url: str
) -> None:
    # Given a signed-in customer looking at the products
    signed_in(page, storefront_url)
    for product in json.loads(CATALOG.read_text()):
        expect(page.get_by_test_id(f"product-{product['sku']}")).to_contain_text(product["name"])
    expect(page.get_by_role("button", name="Order Classic stoneware mug")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "product-list.png", full_page=True)

    # When they order one mug and pay with the test card that succeeds
    order_one(page, "MUG-CLASSIC")
    page.get_by_test_id("pay-success").click()
    expect(page.get_by_test_id("payment-message")).to_have_attribute("data-outcome", "succeeded")

    # Then the order's status reaches FULFILLMENT_REQUESTED, its timeline showing each step
    status = page.get_by_test_id("order-status")
    expect(status).to_have_attribute("data-status", "FULFILLMENT_REQUESTED", timeout=JOURNEY_MS)
    timeline = page.get_by_test_id("timeline-entry")
    expect(timeline.last).to_have_attribute("data-type", "order-fulfillment-requested")
    types = [entry.get_attribute("data-type") for entry in timeline.all()]
    assert [t for t in types if t in FULFILLED_HISTORY] == FULFILLED_HISTORY
    expect(page.get_by_test_id("payment-status")).to_have_text("SUCCEEDED")
    expect(page.get_by_test_id("pay")).to_be_hidden()
    page.screenshot(path=ARTIFACTS / "fulfilled-order-timeline.png", full_page=True)

    # And it is among the customer's orders
    order_id = page.get_by_test_id("order-id").inner_text()
    expect(page.get_by_test_id(f"my-order-{order_id}")).to_contain_text("FULFILLMENT REQUESTED")


def test_a_declined_card_cancels_the_order_for_payment_failed(
    page: Page, storefront_url: str
) -> None:
    # Given a signed-in customer with an order awaiting payment
    signed_in(page, storefront_url)
    order_one(page, "TEA-ASSAM")

    # When they pay with the test card the issuer declines
    page.get_by_test_id("pay-decline").click()

    # Then the decline is shown plainly, and the order ends cancelled for PAYMENT_FAILED
    message = page.get_by_test_id("payment-message")
    expect(message).to_have_attribute("data-outcome", "declined")
    expect(message).to_contain_text("Your card was declined")
    status = page.get_by_test_id("order-status")
    expect(status).to_have_attribute("data-status", "CANCELLED", timeout=JOURNEY_MS)
    expect(page.get_by_test_id("cancellation-reason")).to_have_attribute(
        "data-reason", "PAYMENT_FAILED"
    )
    timeline = page.get_by_test_id("timeline-entry")
    expect(timeline.and_(page.locator("[data-type=order-cancelled]"))).to_have_count(1)
    expect(timeline.and_(page.locator("[data-type=payment-failed]"))).to_have_count(1)
    page.screenshot(path=ARTIFACTS / "declined-order.png", full_page=True)


def test_a_customer_cancels_their_order_before_paying(page: Page, storefront_url: str) -> None:
    # Given a signed-in customer with an order awaiting payment
    signed_in(page, storefront_url)
    order_one(page, "FILTERS-100")

    # When they cancel it
    page.get_by_test_id("cancel-order").click()

    # Then fulfillment-control cancels it at the customer's request
    expect(page.get_by_test_id("order-status")).to_have_attribute(
        "data-status", "CANCELLED", timeout=JOURNEY_MS
    )
    expect(page.get_by_test_id("cancellation-reason")).to_have_attribute(
        "data-reason", "CUSTOMER_REQUEST"
    )
    expect(page.get_by_test_id("cancel-order")).to_be_hidden()


def test_a_refusal_is_shown_with_its_code(page: Page, storefront_url: str) -> None:
    # Given a signed-in customer
    signed_in(page, storefront_url)

    # When they order none of a product
    page.get_by_test_id("quantity-MUG-CLASSIC").fill("0")
    page.get_by_test_id("order-MUG-CLASSIC").click()

    # Then the shop's refusal is on screen with its GraphQL error code
    expect(page.get_by_test_id("error")).to_contain_text("BAD_USER_INPUT")
