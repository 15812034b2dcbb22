"""One moto server for the whole test session, reset before every test that uses it."""

from collections.abc import Iterator

import pytest
from localcloud.aws import Aws
from localcloud.moto_server import MotoServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto_server: MotoServer) -> Aws:
    """A fresh, empty local AWS account."""
    moto_server.reset()
    return Aws(moto_server.url)
