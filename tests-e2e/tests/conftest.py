"""The shop under test: a deployed stage when `SHOP_ENDPOINTS` points at one (see README), else
the whole shop started once on the local cloud for the session, catalog loaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from localcloud.cloud import LocalCloud
from shop_e2e.shop import ROOT, Shop, local_shop

# The storefront the local shop serves, on a free port of its own (the browser test drives it).
STOREFRONT = ROOT / "frontend-stubs" / "storefront"
# The payment window the tests' shop is packaged with: the demo's 30 s leaves a first payment,
# made through every function's cold start while other suites load CI's two cores, too little
# room (a paid order expired so on a clean-clone run); the expiry journey then waits a minute.
PAYMENT_WINDOW_SECONDS = "60"


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Shop, LocalCloud | None]]:
    deployed = Shop.from_environment()
    if deployed is not None:
        yield deployed, None
        return
    window = pytest.MonkeyPatch()
    window.setenv("SHOP_PAYMENT_WINDOW_SECONDS", PAYMENT_WINDOW_SECONDS)
    try:
        with local_shop(tmp_path_factory.mktemp("localcloud"), storefront=STOREFRONT) as (
            local,
            cloud,
        ):
            local.load_catalog()
            yield local, cloud
    finally:
        window.undo()


@pytest.fixture(scope="session")
def shop(running: tuple[Shop, LocalCloud | None]) -> Shop:
    return running[0]


@pytest.fixture(scope="session")
def local_cloud(running: tuple[Shop, LocalCloud | None]) -> LocalCloud:
    """The local cloud under the shop; tests of what only it can show skip on a deployed stage."""
    if running[1] is None:
        pytest.skip("the shop under test is a deployed stage (SHOP_ENDPOINTS), not the local cloud")
    return running[1]
