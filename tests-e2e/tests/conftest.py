"""The shop under test: a deployed stage when `SHOP_ENDPOINTS` points at one (see README), else
the whole shop started once on the local cloud for the session, catalog loaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from shop_e2e.shop import Shop, local_shop


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    deployed = Shop.from_environment()
    if deployed is not None:
        yield deployed
        return
    with local_shop(tmp_path_factory.mktemp("localcloud")) as (local, _cloud):
        local.load_catalog()
        yield local
